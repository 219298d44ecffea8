"""Every PSP cohort 2017-2024 in the real app (issue 12): map, county sites, ranking, years since joining."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dashboard.data.state import cohort_members, cohort_options
from tests.browser.conftest import screenshot
from tests.browser.helpers import graph_data, trend_panel_titles, wait_for_map

pytestmark = pytest.mark.browser

COHORTS = ("psp-2017", "psp-2018", "psp-2019", "psp-2021", "psp-2022", "psp-2023", "psp-2024", "all-psp")
HARRIS, DEKALB = "48201", "13089"


def open_view(page, server_url: str, query: str) -> None:
    page.goto(f"{server_url}/?{query}")
    wait_for_map(page)
    page.wait_for_selector("#trends .js-plotly-plot .main-svg")
    page.wait_for_selector("#ranking .js-plotly-plot .main-svg")
    page.wait_for_function("() => !document.querySelector('#trends ._dash-loading, #trends .dash-spinner')")


def drawn_ids(page) -> set[int]:
    """The features MapLibre drew (fill layers), as numbers: MapLibre keeps ids numeric, so a county's
    5-digit GEOID and a place's 7-digit one are compared by value."""
    ids = page.evaluate(
        """() => {
            const sub = document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot;
            const layers = sub.map.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
            return [...new Set(sub.map.queryRenderedFeatures({layers}).map(f => String(f.id)))];
        }"""
    )
    return {int(i) for i in ids}


def in_bounds(page, city) -> bool:
    """Whether a city's marker point lies in the map's current view."""
    return page.evaluate(
        """([lon, lat]) => {
            const sub = document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot;
            return sub.map.getBounds().contains([lon, lat]);
        }""",
        [float(city["lon"]), float(city["lat"])],
    )


def choose_cohort(page, dataset, cohort: str) -> None:
    """Pick a cohort in the cohort list as a person would (open it, click the label) and wait for the map."""
    label = cohort_options(dataset)[cohort]
    for attempt in range(3):  # on a busy machine a redraw can swallow the click that opens the list
        page.click("#cohort")
        option = page.get_by_role("option", name=label, exact=True).first
        try:
            option.click(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            if attempt == 2:
                raise
    page.wait_for_function(f"() => window.location.search.includes('cohort={cohort}')")
    members = cohort_members(dataset, cohort)[:40]
    page.wait_for_function(
        """(want) => {
            const gd = document.querySelector('#map .js-plotly-plot');
            const outline = gd && gd.data.find(t => t.name === 'Selected');  // the selection outline trace
            const got = outline && outline.locations;
            return got && JSON.stringify(Array.from(got)) === JSON.stringify(want);
        }""",
        arg=members,
    )


def test_each_cohort_is_outlined_on_the_map_and_ranked(page, server_url, dataset) -> None:
    """Every cohort 2017-2024 and all-psp, chosen one after another in one page (one load, not eight)."""
    open_view(page, server_url, "cohort=psp-2017&year=2019")
    for cohort in COHORTS:
        if cohort != "psp-2017":
            choose_cohort(page, dataset, cohort)
        members = cohort_members(dataset, cohort)
        selected = next(t for t in graph_data(page, "map") if t.get("name") == "Selected")  # outline trace
        assert list(selected["locations"]) == members[:40]
        drawn = drawn_ids(page)
        in_view = [g for g in members if in_bounds(page, dataset.cities.loc[g])]
        assert len(in_view) >= len(members) - 1  # the opening view is the lower 48: Anchorage AK lies outside
        missing = [g for g in in_view if int(g) not in drawn]
        assert missing == [], f"{cohort}: sites not drawn on the map: {missing}"
        expected = {"psp-2022": "PSP 2022 (4 of 6 unconfirmed)", "all-psp": "All PSP sites"}
        assert page.locator("#cohort").inner_text().startswith(expected.get(cohort, cohort.upper()[:3]))
        page.wait_for_function(
            """(names) => {
                const gd = document.querySelector('#ranking .js-plotly-plot');
                return gd && gd.data.some(t => t.name !== 'Other cities');
            }""",
            arg=None,
        )
        if cohort in ("psp-2019", "all-psp"):
            screenshot(page, f"issue12-{cohort}-calendar")


def test_county_sites_are_drawn_as_counties(page, server_url) -> None:
    open_view(page, server_url, f"cohort=all-psp&cities={HARRIS},{DEKALB}&year=2022&measure=count")
    drawn = drawn_ids(page)
    assert int(HARRIS) in drawn and int(DEKALB) in drawn
    hover = page.evaluate(
        """(ids) => {
            const gd = document.querySelector('#map .js-plotly-plot');
            return gd.data.flatMap(t => (t.locations || []).map((g, i) => [g, (t.text || [])[i]]))
                          .filter(([g]) => ids.includes(g));
        }""",
        [HARRIS, DEKALB],
    )
    assert {text for _g, text in hover if text} >= {"Harris County, TX", "DeKalb County, GA"}
    titles = trend_panel_titles(page)
    assert "Harris County, TX" in titles and "DeKalb County, GA" in titles
    screenshot(page, "issue12-all-psp-counties-2022")


def test_years_since_joining_is_a_switch_and_a_link(page, server_url) -> None:
    open_view(page, server_url, "cohort=psp-2019&from=2005&to=2022")
    page.get_by_label("Years since joining (0 = announced)").check()
    page.wait_for_function("() => window.location.search.includes('align=joined')")
    page.wait_for_function(
        """() => {
            const gd = document.querySelector('#trends .js-plotly-plot');
            return gd && gd.layout.xaxis.range[0] < 0;
        }"""
    )
    trends = graph_data(page, "trends")
    city = [t for t in trends if t.get("legendgroup") == "city"]
    assert max(max(t["x"]) for t in city if t["x"]) == 2022 - 2019  # every panel counts from 2019
    screenshot(page, "issue12-psp-2019-joined")
    page.reload()  # the link alone restores the switch
    wait_for_map(page)
    assert page.get_by_label("Years since joining (0 = announced)").is_checked()
