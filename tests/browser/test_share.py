"""Links reproduce views: copy a URL, go back and forward, download what is on screen."""

from __future__ import annotations

import csv
import io
import urllib.request

import pytest

from tests.browser.conftest import screenshot
from tests.browser.helpers import graph_layout_title, trend_panel_titles, wait_for_map, wait_for_trends

pytestmark = pytest.mark.browser


def control_value(page, element_id: str) -> str:
    return page.evaluate(f"() => document.querySelector('#{element_id}').innerText")


def test_a_copied_url_restores_the_same_view(browser, page, server_url) -> None:
    page.goto(f"{server_url}/?cities=2836000,4737640&offence=murder&measure=rate&year=2012&from=1995&to=2016")
    wait_for_map(page)
    wait_for_trends(page, "Jackson, MS")
    copied = page.url
    title = graph_layout_title(page, "map")
    assert "Murder" in title and "2012" in title and "rate per 100,000" in title

    other = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    other.goto(copied)
    wait_for_map(other)
    wait_for_trends(other, "Jackson, TN")
    assert graph_layout_title(other, "map") == title
    assert sorted(trend_panel_titles(other)) == ["Jackson, MS", "Jackson, TN"]
    assert "Murder" in control_value(other, "offence")
    screenshot(other, "07-restored-from-link")
    other.context.close()
    assert page.requests.foreign == []


def test_back_and_forward_move_between_views(page, server_url) -> None:
    page.goto(f"{server_url}/?year=2015")
    wait_for_map(page)
    handle = page.locator("#year [role=slider]")
    handle.focus()
    handle.press("ArrowLeft")  # 2014
    page.wait_for_function("() => window.location.search.includes('year=2014')")
    page.wait_for_function(
        "() => document.querySelector('#map .js-plotly-plot').layout.title.text.includes('2014')"
    )
    page.go_back()
    page.wait_for_function("() => window.location.search.includes('year=2015')")
    page.wait_for_function(
        "() => document.querySelector('#map .js-plotly-plot').layout.title.text.includes('2015')"
    )
    page.go_forward()
    page.wait_for_function(
        "() => document.querySelector('#map .js-plotly-plot').layout.title.text.includes('2014')"
    )
    assert page.requests.foreign == []


def test_download_csv_matches_the_trends_chart(page, server_url) -> None:
    page.goto(f"{server_url}/?cities=4748000&offence=robbery&measure=rate&from=2005&to=2015")
    wait_for_trends(page, "Memphis, TN")
    href = page.get_attribute("#download-csv", "href")
    assert "cities=4748000" in href and "offence=robbery" in href
    with urllib.request.urlopen(server_url + href) as response:
        text = response.read().decode("utf-8")
    rows = list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))
    line = next(
        t
        for t in page.evaluate(
            "() => JSON.parse(JSON.stringify(document.querySelector('#trends .js-plotly-plot').data))"
        )
        if t.get("customdata") and t["customdata"][0][0] == "Memphis, TN"
    )
    shown = dict(zip(line["x"], line["y"], strict=True))
    assert len(rows) == 11
    for row in rows:
        value = shown[int(row["year"])]
        if value is None:
            assert row["rate_per_100k"] == ""
        else:
            assert float(row["rate_per_100k"]) == pytest.approx(value, abs=0.05)
    assert "data " in text.splitlines()[1] or any("Dataset" in line for line in text.splitlines()[:6])


def test_view_as_table_shows_the_chart_data(page, server_url) -> None:
    page.goto(f"{server_url}/?cities=4737640&year=2015")
    wait_for_map(page)
    page.locator("#ranking-table-toggle label", has_text="Table").click()  # the Chart | Table switch
    page.wait_for_selector("#ranking-table .dash-spreadsheet table")
    text = page.inner_text("#ranking-table")
    assert "Jackson, TN" in text and "Rank" in text
    assert page.locator("#ranking-chart-view").is_hidden(), "the table replaces the chart"
    summary = page.text_content("#trends-description")
    assert "Jackson, TN" in summary and "times the national rate" in summary
