"""The dashboard as a person uses it, in headless Chromium, with no network beyond the app."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.data.measures import city_series
from dashboard.figures import map as map_fig
from tests.browser.conftest import screenshot
from tests.browser.helpers import (
    graph_data,
    graph_layout_title,
    map_pixel,
    rendered_city_ids,
    trend_panel_titles,
    wait_for_map,
    wait_for_trends,
)

pytestmark = pytest.mark.browser

PSP_LABELS = {
    "Birmingham, AL",
    "Indianapolis, IN",
    "Memphis, TN",
    "Toledo, OH",
    "Baton Rouge, LA",
    "Buffalo, NY",
    "Cincinnati, OH",
    "Houston, TX",
    "Jackson, TN",
    "Kansas City, MO",
    "Lansing, MI",
    "Springfield, IL",
}


def open_app(page, server_url: str, query: str = "") -> None:
    page.goto(f"{server_url}/{query}")
    wait_for_map(page)
    page.wait_for_selector("#trends .js-plotly-plot .main-svg")
    page.wait_for_selector("#ranking .js-plotly-plot .main-svg")


def assert_offline(page) -> None:
    assert page.requests.foreign == [], f"requests left the machine: {page.requests.foreign[:5]}"


def test_default_view_shows_psp_cities_and_stays_on_the_machine(page, server_url) -> None:
    open_app(page, server_url)
    drawn = rendered_city_ids(page)
    assert len(drawn) > 100, "the map should draw the program and context cities"
    titles = set(trend_panel_titles(page))
    assert titles >= PSP_LABELS
    assert "Violent crime" in graph_layout_title(page, "map")
    geometry = [u for u in page.requests.urls if "/data/cities.geojson" in u]
    assert len(geometry) == 1, f"the preloaded geometry should be fetched once, not {geometry}"
    assert "?v=" in geometry[0], "versioned URL, cacheable for a year"
    screenshot(page, "01-default-view")
    page.mouse.wheel(0, 0)
    assert_offline(page)


def test_clicking_a_city_on_the_map_adds_its_trend_panel(page, server_url, dataset) -> None:
    open_app(page, server_url)
    little_rock = dataset.cities.loc["0541000"]
    assert "Little Rock, AR" not in trend_panel_titles(page)
    x, y = map_pixel(page, float(little_rock["lon"]), float(little_rock["lat"]))
    page.mouse.click(x, y)
    wait_for_trends(page, "Little Rock, AR")
    assert "Little Rock, AR" in trend_panel_titles(page)
    assert "0541000" in page.url, "the selection is written to the address bar"
    screenshot(page, "02-clicked-little-rock")
    page.mouse.click(x, y)  # a second click removes it again
    page.wait_for_function("() => !window.location.search.includes('0541000')")
    page.wait_for_function(
        "() => ![...document.querySelectorAll('#trends .annotation-text')]"
        ".some(e => e.textContent === 'Little Rock, AR')"
    )
    assert_offline(page)


def test_changing_the_year_recolours_the_map_without_resending_geometry(page, server_url) -> None:
    open_app(page, server_url)
    before = graph_data(page, "map")
    responses = []
    page.on("response", lambda r: responses.append(r) if "_dash-update-component" in r.url else None)
    handle = page.locator("#year [role=slider]")
    handle.focus()
    for _ in range(5):
        handle.press("ArrowLeft")
    page.wait_for_function(
        "() => document.querySelector('#map .js-plotly-plot').layout.title.text.includes('2010')"
    )
    after = graph_data(page, "map")
    assert before[2]["z"] != after[2]["z"], "program-city colours should change with the year"
    assert before[2]["locations"] == after[2]["locations"], "cities stay put; only values change"
    memphis = next(c for c in dataset_cities_with_label(after, "Memphis, TN"))
    x, y = map_pixel(page, memphis[0], memphis[1])
    page.mouse.move(x + 4, y)  # east of its centre: West Memphis's marker lies just west
    page.wait_for_selector("#map .hoverlayer .hovertext")
    hover = page.text_content("#map .hoverlayer") or ""
    assert "Memphis, TN" in hover and "per 100,000" in hover and "Times the US rate" in hover
    assert "no data" not in hover.lower()
    map_bodies = [r.text() for r in responses if '"map"' in r.text()]
    assert map_bodies, "a map update should have been sent"
    assert all("coordinates" not in body for body in map_bodies), "geometry must not be resent"
    screenshot(page, "03-year-2010")
    assert_offline(page)


def dataset_cities_with_label(traces: list[dict], label: str):
    """(lon, lat) of a city's marker, read from the drawn marker traces."""
    for trace in traces:
        if trace.get("type") == "scattermap" and label in (trace.get("text") or []):
            i = trace["text"].index(label)
            yield float(trace["lon"][i]), float(trace["lat"][i])


def test_type_ahead_selects_jackson_tennessee_not_mississippi(page, server_url, dataset) -> None:
    open_app(page, server_url, "?cities=1714000")
    page.click("#cities")
    page.keyboard.type("Jackson, TN")
    # Choose the option a person sees in the filtered list (Enter can race the filtering).
    option = page.get_by_role("option", name="Jackson, TN ★")
    option.wait_for()
    # The unfiltered list already holds both: wait for the filter (a bare count raced it under load).
    expect(page.get_by_role("option", name="Jackson, MS")).to_have_count(0)
    option.click()
    wait_for_trends(page, "Jackson, TN")
    assert "Jackson, MS" not in trend_panel_titles(page)
    expected = city_series(dataset, ["4737640"], "violent_crime").set_index("year").loc[2015, "ratio"]
    traces = [
        t
        for t in graph_data(page, "trends")
        if t.get("customdata") and t["customdata"][0][0] == "Jackson, TN"
    ]
    assert traces, "a Jackson, TN line should be drawn"
    points = dict(zip(traces[0]["x"], traces[0]["y"], strict=True))
    assert points[2015] == pytest.approx(float(expected), abs=0.005)
    screenshot(page, "04-jackson-tn")
    assert_offline(page)


def test_ranking_highlights_exactly_the_twelve_psp_cities(page, server_url) -> None:
    open_app(page, server_url, "?cohort=psp-2017&year=2015")
    traces = graph_data(page, "ranking")
    highlighted = [t for t in traces if t["name"] != "Other cities"]
    assert [t["name"] for t in highlighted] == ["PSP 2017"]
    names = {row[0] for row in highlighted[0]["customdata"]}
    assert names == PSP_LABELS
    summary = page.inner_text("#ranking-summary")
    assert "In 2015" in summary and "national rate" in summary
    page.locator("#ranking").scroll_into_view_if_needed()
    screenshot(page, "05-ranking-psp", full_page=True)
    assert_offline(page)


def test_a_part_year_is_a_gap_and_says_so_in_hover_panel_and_table(page, server_url, dataset) -> None:
    """New Orleans 2005 (Katrina, 6 of 12 months): no colour, a gap, a panel note, the count in the table."""
    open_app(page, server_url, "?year=2005&cities=2255000&from=2000&to=2010&measure=count")
    new_orleans = dataset.cities.loc["2255000"]
    x, y = map_pixel(page, float(new_orleans["lon"]), float(new_orleans["lat"]))
    page.mouse.move(x, y)
    page.wait_for_selector("#map .hoverlayer .hovertext")
    hover = page.text_content("#map .hoverlayer") or ""
    assert "part year (6 of 12 months): not drawn" in hover and "outline includes water (2.05×" in hover
    line = next(t for t in graph_data(page, "trends") if t.get("legendgroup") == "city")
    y_by_year = dict(zip(line["x"], line["y"], strict=True))
    assert y_by_year[2005] is None and y_by_year[2004] > 0 and y_by_year[2006] > 0
    assert "Part year, not drawn: 2005" in trend_panel_titles(page)
    page.locator("#trends-table-toggle label", has_text="Table").click()  # the Chart | Table switch
    page.wait_for_function(
        "() => (document.querySelector('#trends-table') || {}).innerText?.includes('part year: 6 of 12')"
    )
    assert "2,090 (part year: 6 of 12 months)" in page.inner_text("#trends-table")
    screenshot(page, "16-part-year-new-orleans-2005")
    assert_offline(page)


def test_a_city_year_without_data_says_no_data_not_zero(page, server_url, dataset) -> None:
    # Birmingham, AL has no FBI figures for 2010 in any source.
    open_app(page, server_url, "?year=2010&cities=0107000&from=2005&to=2016")
    traces = graph_data(page, "map")
    no_data, programs = traces[map_fig.TRACE_NO_DATA], traces[map_fig.TRACE_PROGRAM]
    index = no_data["locations"].index("0107000")
    assert no_data["z"][index] == 0  # drawn in the grey "No data" layer
    assert no_data["customdata"][index] is None  # no number to show: the hover says "no data"
    program = programs["locations"].index("0107000")
    assert programs["z"][program] is None  # not coloured as a value
    birmingham = dataset.cities.loc["0107000"]
    x, y = map_pixel(page, float(birmingham["lon"]), float(birmingham["lat"]))
    page.mouse.move(x, y)
    page.wait_for_selector("#map .hoverlayer .hovertext")
    hover = page.text_content("#map .hoverlayer") or ""
    assert "Birmingham, AL" in hover and "no data" in hover.lower()
    line = next(
        t
        for t in graph_data(page, "trends")
        if t.get("customdata") and t["customdata"][0][0] == "Birmingham, AL"
    )
    y_by_year = dict(zip(line["x"], line["y"], strict=True))
    assert y_by_year[2010] is None, "a missing year is a gap, not zero"
    notes = page.inner_text("#data-notes")
    assert "2010" in notes and "Birmingham" in notes
    screenshot(page, "06-no-data-birmingham-2010")
    assert_offline(page)


def test_bad_url_parameters_show_a_notice(page, server_url) -> None:
    open_app(page, server_url, "?offence=arson&year=1066&cities=0000000")
    notice = page.inner_text("#url-notice")
    assert "arson" in notice and "1066" in notice and "0000000" in notice
    assert_offline(page)


def test_typing_a_second_city_starts_a_fresh_search(page, server_url) -> None:
    """Issue 17 item 8: after Enter picked a city the search text stayed, so typing the next name gave
    "MemphisToledo", which matches nothing."""
    open_app(page, server_url, "?cities=1714000")
    page.click("#cities")
    search = page.locator("input.dash-dropdown-search")  # the open list's search box
    page.keyboard.type("Memphis")
    expect(page.get_by_role("option", name="Memphis, TN ★")).to_be_visible()
    # Enter picks the list's first option: wait until the list is filtered (a busy machine re-renders late)
    expect(page.locator(".dash-dropdown-option").first).to_contain_text("Memphis, TN")
    page.keyboard.press("Enter")
    wait_for_trends(page, "Memphis, TN")
    expect(search).to_have_value("")
    page.keyboard.type("Toledo")
    expect(page.get_by_role("option", name="Toledo, OH ★")).to_be_visible()
    expect(search).to_have_value("Toledo")


@pytest.mark.parametrize("size", [(1280, 720), (1440, 900)])
def test_slider_values_do_not_cover_their_tick_labels(browser, server_url, size) -> None:
    """Issue 17 item 9: the value bubbles sat on the tick labels ("20[15]", "198[5]")."""
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        open_app(page, server_url, "?year=2015&from=1985&to=2019&threshold=1.5")
        overlaps = page.evaluate(
            """() => {
                const hit = (a, b) =>
                    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
                const found = [];
                for (const id of ["year", "year-range", "threshold"]) {
                    const root = document.getElementById(id);
                    const tips = [...root.querySelectorAll(".dash-slider-tooltip")]
                        .map(e => e.getBoundingClientRect());
                    const marks = [...root.querySelectorAll(".dash-slider-mark")];
                    if (!tips.length || !marks.length) found.push(id + ": no tooltip or marks drawn");
                    for (const tip of tips) for (const mark of marks)
                        if (hit(tip, mark.getBoundingClientRect()))
                            found.push(id + " covers " + mark.textContent);
                }
                return found;
            }"""
        )
        assert overlaps == []
        if size == (1440, 900):
            screenshot(page, "08-sliders-1440x900", full_page=False)
    finally:
        page.close()
