"""Every place on the map and in the ranking (issue 13), in the real app: one load, read as a person sees it.

West Memphis AR (about 24,000 people, a PSP site) ranked among the places of 10,000 to 24,999, with its ratio
to the national rate and to its peers in words; the map's dots for every place of 10,000+ drawn from one
file fetched once, recoloured in the browser when the measure changes (no second fetch).
"""

from __future__ import annotations

import json

import pytest

from dashboard.data.queries import ranked_view
from dashboard.data.state import parse_query
from dashboard.views.places_layer import places_layer_json
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import graph_data, wait_for_map

pytestmark = pytest.mark.browser

VIEW = "?cohort=all-psp&cities=0574540&year=2022&threshold=2&minpop=10k&band=10k-25k"
DOTS = (
    "() => { const gd = document.querySelector('#map .js-plotly-plot'); return gd && gd.data[0].lon.length; }"
)


def test_west_memphis_among_places_of_its_size(page, server_url, dataset) -> None:
    layer_requests: list[str] = []
    page.on("request", lambda r: layer_requests.append(r.url) if "/data/places/" in r.url else None)
    page.goto(f"{server_url}/{VIEW}")
    wait_for_map(page)
    page.wait_for_function("() => document.querySelector('#ranking-summary').textContent.includes('ranked')")

    state = parse_query(VIEW, dataset)
    ranked = ranked_view(dataset, state.cohort, state.offence, 2022, 2.0, 10_000, "10k-25k")
    mine = ranked[ranked["geoid"] == "0574540"].iloc[0]
    summary = page.inner_text("#ranking-summary")
    assert f"Among the {len(ranked):,} places of 10,000 to 24,999 people with a figure for 2022" in summary
    assert f"West Memphis, AR ranked {int(mine['rank'])}" in summary.replace("1st", "1")
    assert (
        f"with {mine['rate']:,.1f} per 100,000: {mine['ratio']:.2f}× the national rate "
        f"({mine['national_rate']:,.1f}) and {mine['ratio_to_peer']:.2f}× places of its size "
        f"({mine['peer_rate']:,.1f})"
    ) in summary
    assert "places of 10,000 to 24,999 people with data" in page.inner_text("#headline")

    ranking = {t["name"]: t for t in graph_data(page, "ranking")}
    assert [row[0] for row in ranking["Selected"]["customdata"]] == ["West Memphis, AR"]
    drawn_rank = page.evaluate(
        "() => document.querySelector('#ranking .js-plotly-plot')._fullData"
        ".find(t => t.name === 'Selected').x[0]"
    )
    assert drawn_rank == int(mine["rank"])
    assert ranking[f"All {len(ranked):,} places of 10,000 to 24,999 people"]["type"] == "scatter"

    layer = json.loads(places_layer_json(dataset, "violent_crime"))
    expected = sum(1 for p in layer["values"]["2022"]["p"] if p is not None and p >= 10_000)
    page.wait_for_function(f"() => ({DOTS})() === {expected}")
    legend = page.evaluate("() => [...document.querySelectorAll('#map .legendtext')].map(e => e.textContent)")
    assert "Other places (dot size: population)" in legend
    colours = page.evaluate(
        "() => document.querySelector('#map .js-plotly-plot').data[0].marker.color.slice(0, 50)"
    )
    assert all(isinstance(c, (int, float)) or c == "#a6a6a6" for c in colours)

    page.get_by_label("Rate per 100,000").check()  # recoloured in the browser from the file already fetched
    page.wait_for_function(
        "(before) => JSON.stringify(document.querySelector('#map .js-plotly-plot').data[0].marker.color"
        ".slice(0, 50)) !== before",
        arg=json.dumps(colours),
    )
    assert len(layer_requests) == 1, layer_requests
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("section.panel", has=page.locator("#ranking")).screenshot(
        path=str(ARTIFACTS / "ranking-west-memphis-peers.png")
    )
