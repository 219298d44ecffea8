"""Issue 18 as a person sees it: the headline and hero map, place names, play, Chart | Table, the
small-number mark, the phone layout and present mode. Few page loads, several assertions each."""

from __future__ import annotations

import csv
import io
import urllib.request

import pytest

from dashboard.data.queries import ranked_cities
from dashboard.data.state import parse_query
from dashboard.views.headline import headline
from tests.browser.conftest import screenshot
from tests.browser.helpers import graph_data, map_pixel, wait_for_map

pytestmark = pytest.mark.browser

SELECTED = {"4748000": "Memphis", "0107000": "Birmingham", "2205000": "Baton Rouge", "3915000": "Cincinnati"}

LOWER_48_SPAN = """() => {
    const sub = document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot;
    const west = sub.map.project([-124.7, 48.4]).x, east = sub.map.project([-67.0, 44.8]).x;
    return [east - west, sub.map.getCanvas().getBoundingClientRect().width];
}"""


def wait_for_labels(page) -> None:
    page.wait_for_function("() => document.querySelectorAll('#map-labels .map-label').length > 0")


def labels(page, selected_only: bool = False) -> list[str]:
    sel = "#map-labels .map-label" + (".selected" if selected_only else "")
    return page.eval_on_selector_all(sel, "els => els.map(e => e.textContent)")


def bar_count(traces: list[dict]) -> int:
    """Bars drawn (each bar's customdata names its city; the legend-only entry has none)."""
    return sum(len(t.get("customdata") or []) for t in traces if t.get("type") == "bar")


def test_hero_map_headline_labels_play_and_table(browser, server_url, dataset) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    query = f"?cities={','.join(SELECTED)}&cohort=psp-2017&year=2015&from=2005&to=2019"
    try:
        page.goto(f"{server_url}/{query}")
        wait_for_map(page)
        wait_for_labels(page)
        # 7: the headline answers the question for the view, exactly as the server words it
        expected = headline(dataset, parse_query(query, dataset))
        page.wait_for_function("(t) => document.getElementById('headline').textContent === t", arg=expected)
        assert expected.startswith("In 2015, ") and "PSP 2017 sites" in expected
        # 1: the map is the hero: at least half the viewport tall, the lower 48 across its width
        box = page.locator("#map").bounding_box()
        assert box["height"] >= 450 and box["y"] < 300, box
        page.wait_for_function(f"() => {{ const [s, w] = ({LOWER_48_SPAN})(); return s >= 0.85 * w; }}")
        span, width = page.evaluate(LOWER_48_SPAN)
        assert span <= width, "the lower 48 fits inside the map"
        named = labels(page, selected_only=True)
        assert set(SELECTED.values()) <= set(named), named
        assert len(labels(page)) > len(named), "program sites are named where there is room"
        city = dataset.cities.loc["0107000"]  # Birmingham, AL: hover gives value, rank and years above
        x, y = map_pixel(page, float(city["lon"]), float(city["lat"]))
        page.mouse.move(x, y)
        page.wait_for_selector("#map .hoverlayer .hovertext")
        hover = page.text_content("#map .hoverlayer") or ""
        ranked = ranked_cities(dataset, "psp-2017", "violent_crime", 2015, 1.5).set_index("geoid")
        assert f"Rank by ratio: {int(ranked.at['0107000', 'rank'])}" in hover, hover
        assert f"threshold: {int(ranked.at['0107000', 'streak'])}" in hover, hover
        screenshot(page, "30-hero-map-1440x900", full_page=False)
        page.click("[data-region=alaska]")  # Alaska is one click away; Lower 48 brings the view back
        page.wait_for_function(
            "() => document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot"
            ".map.getCenter().lng < -140"
        )
        page.click("[data-region=lower48]")
        page.wait_for_function(f"() => {{ const [s, w] = ({LOWER_48_SPAN})(); return s >= 0.85 * w; }}")

        # 2: play advances the year through the ordinary patch path (geometry is not fetched again)
        page.click("#play")
        page.wait_for_function("() => window.location.search.includes('year=2017')", timeout=20_000)
        page.click("#play")  # pause
        page.wait_for_function("() => document.getElementById('play').textContent.includes('Play')")
        stopped = page.evaluate("() => new URLSearchParams(window.location.search).get('year')")
        page.wait_for_timeout(1500)
        assert page.evaluate("() => new URLSearchParams(window.location.search).get('year')") == stopped
        assert int(stopped) >= 2017
        page.wait_for_function(
            "(y) => document.getElementById('headline').textContent.startsWith('In ' + y)", arg=stopped
        )
        assert len([u for u in requests if "/data/cities.geojson" in u]) == 1, "geometry is sent once"

        # 3: Chart | Table: the table holds exactly the chart's points, and the URL keeps the choice
        bars = bar_count(graph_data(page, "ranking"))
        page.locator("#ranking-table-toggle label", has_text="Table").click()
        page.wait_for_selector("#ranking-table .dash-spreadsheet")
        page.wait_for_function("() => window.location.search.includes('tables=ranking')")
        assert page.locator("#ranking-chart-view").is_hidden()
        rows = page.locator("#ranking-table tr:has(td)").count()
        assert rows == bars, (rows, bars)
        page.locator("#trends-table-toggle label", has_text="Table").click()
        page.wait_for_selector("#trends-table .dash-spreadsheet")
        points = sum(
            len([y for y in t["y"] if y is not None])
            for t in graph_data(page, "trends")
            if t.get("legendgroup") == "city"
        )
        numbers = page.eval_on_selector_all(
            "#trends-table tr:has(td) td[data-dash-column='Ratio']",
            "els => els.filter(e => e.textContent.trim()).length",
        )
        assert numbers == points and points >= 40, (numbers, points)  # 4 cities x 2005-2019, less gaps
        page.locator("#ranking-table").scroll_into_view_if_needed()
        screenshot(page, "31-tables-1440x900", full_page=False)
    finally:
        context.close()
    assert [u for u in requests if u.startswith("http") and not u.startswith(server_url)] == []


def test_small_numbers_are_marked_on_chart_table_and_csv(page, server_url) -> None:
    """West Memphis, AR had 6 murders in 2015 (fewer than 10): its ratio of 4.86 is marked."""
    query = "?cities=0574540&offence=murder&year=2015&from=2010&to=2019&tables=trends"
    page.goto(f"{server_url}/{query}")
    wait_for_map(page)
    page.wait_for_selector("#trends-table .dash-spreadsheet")
    row = page.locator("#trends-table tr", has_text="West Memphis, AR 2015")
    assert "fewer than 10" in row.inner_text()
    row_2016 = page.locator("#trends-table tr", has_text="West Memphis, AR 2016")
    assert "fewer than" not in row_2016.inner_text(), "14 murders in 2016 are not few"
    page.locator("#trends-table-toggle label", has_text="Chart").click()
    page.wait_for_selector("#trends .js-plotly-plot .main-svg")
    marks = [t for t in graph_data(page, "trends") if t.get("legendgroup") == "small"]
    assert marks and 2015 in marks[0]["x"] and 2016 not in marks[0]["x"]
    legend = page.text_content("#trends .legend") or ""
    assert "Few offences" in legend
    with urllib.request.urlopen(f"{server_url}/export/data.csv{query}") as response:
        text = response.read().decode()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body)))
    flags = {int(r["year"]): r["small_count"] for r in rows}
    assert flags[2015] == "true" and flags[2016] == "false"
    # the ranking can leave such places out, and its sentence says how many
    page.click("#small input")
    page.wait_for_function("() => document.getElementById('headline').textContent.includes('left out')")
    assert "small=exclude" in page.url
    assert "left out" in page.inner_text("#ranking-summary")


def test_phone_layout_has_no_sideways_scroll_and_puts_the_map_first(browser, server_url) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True
    )
    page = context.new_page()
    try:
        page.goto(f"{server_url}/")
        wait_for_map(page)
        wait_for_labels(page)
        page.wait_for_selector("#ranking .js-plotly-plot .main-svg")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        map_top = page.locator("#map").bounding_box()["y"]
        assert map_top < 844, "the map is on the first screen"
        assert page.locator("#controls-drawer").bounding_box()["x"] >= 390, "controls wait in a drawer"
        screenshot(page, "32-phone-390x844", full_page=False)
        page.click("#controls-toggle")
        page.wait_for_function(
            "() => document.getElementById('controls-drawer').getBoundingClientRect().right <= 391"
        )
        assert page.get_attribute("#controls-toggle", "aria-expanded") == "true"
        screenshot(page, "33-phone-drawer-390x844", full_page=False)
        page.click(".drawer-close")
        page.wait_for_function(
            "() => document.getElementById('controls-drawer').getBoundingClientRect().left >= 390"
        )
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_present_mode_opens_with_the_headline_in_large_type(page, server_url, dataset) -> None:
    page.goto(f"{server_url}/?present=1&cohort=psp-2017&year=2015")  # the page fixture is 1280x720
    page.wait_for_selector(".slide:not([hidden]) .lede")
    lede = page.text_content(".slide:not([hidden]) .lede")
    assert lede == headline(dataset, parse_query("cohort=psp-2017&year=2015", dataset))
    sizes = page.evaluate(
        """() => ['.slide-title', '.lede', 'figcaption'].map(sel => parseFloat(getComputedStyle(
            document.querySelector('.slide:not([hidden]) ' + sel)).fontSize))"""
    )
    assert sizes[0] >= 40 and sizes[1] >= 24 and sizes[2] >= 24, sizes
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
