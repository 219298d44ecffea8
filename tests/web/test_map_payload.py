"""Payload budgets for the map (issue 5): a recolour travels as a few KB, never as geometry.

Sizes are deterministic (same data, same code), so they are tested here; speed is measured in
benchmarks/, not in tests.
"""

from __future__ import annotations

import gzip
import json

import pytest

from dashboard.web import ids
from dashboard.web.callbacks import clicked_geoid

# gzip, on the wire: 4096 until issue 12 added 7 program sites to the map; 4224 until issue 16 patched each
# trace's hovertext (the part-year or review-flag line); 4352 until issue 18 put each city's rank and years in
# a row above the threshold in its hover (2 numbers a city: median 4.0 KB, max 4.9 KB over this grid)
RECOLOUR_BUDGET_BYTES = 4992


@pytest.fixture(scope="module")
def client(app):
    test_client = app.server.test_client()
    test_client.get("/")
    return test_client


def recolour(client, year: int, offence: str, measure: str, changed: str) -> bytes:
    body = {
        "output": f"{ids.MAP}.figure",
        "outputs": {"id": ids.MAP, "property": "figure"},
        "inputs": [
            {"id": ids.YEAR, "property": "value", "value": year},
            {"id": ids.OFFENCE, "property": "value", "value": offence},
            {"id": ids.MEASURE, "property": "value", "value": measure},
            {"id": ids.THRESHOLD, "property": "value", "value": 1.5},
        ],
        "changedPropIds": [f"{changed}.value"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data[:300]
    return response.data


@pytest.mark.parametrize("offence", ["violent_crime", "murder", "rape", "property_crime", "larceny_theft"])
@pytest.mark.parametrize("measure", ["ratio", "rate", "count"])
def test_recolour_response_fits_the_budget(client, offence: str, measure: str) -> None:
    for year in (1976, 1995, 2007, 2015, 2019, 2022):
        for changed in (ids.YEAR, ids.OFFENCE):
            raw = recolour(client, year, offence, measure, changed)
            assert "coordinates" not in raw.decode()
            size = len(gzip.compress(raw, 6))
            assert size <= RECOLOUR_BUDGET_BYTES, (offence, measure, year, changed, size)


def test_year_change_leaves_the_colour_axis_alone(client) -> None:
    year_only = json.loads(recolour(client, 2015, "robbery", "rate", ids.YEAR))
    offence = json.loads(recolour(client, 2015, "robbery", "rate", ids.OFFENCE))

    def locations(payload: dict) -> set:
        return {tuple(op["location"]) for op in payload["response"][ids.MAP]["figure"]["operations"]}

    assert ("layout", "coloraxis") not in locations(year_only)
    assert ("layout", "coloraxis") in locations(offence)


def test_selection_change_moves_only_the_outlines(client, dataset) -> None:
    body = {
        "output": f"{ids.MAP}.figure@" + "x",  # replaced below by the registered duplicate-output id
        "outputs": {"id": ids.MAP, "property": "figure"},
        "inputs": [{"id": ids.CITIES, "property": "value", "value": ["4748000", "0107000"]}],
        "changedPropIds": [f"{ids.CITIES}.value"],
    }
    deps = client.get("/_dash-dependencies").get_json()
    outline = next(d for d in deps if d["output"].startswith(f"{ids.MAP}.figure@"))
    body["output"] = outline["output"]
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    operations = next(iter(response.get_json()["response"].values()))["figure"]["operations"]
    assert [op["params"]["value"] for op in operations][:2] == [["4748000", "0107000"], [1, 1]]
    names = [op["params"]["value"] for op in operations if op["location"][-1] == "text"]
    assert names == [["Memphis", "Birmingham"]], "the selected places' names follow (issue 18), largest first"
    assert len(response.data) < 700


def test_marker_click_finds_the_city_by_position(dataset) -> None:
    memphis = dataset.cities.loc["4748000"]
    point = {"lon": float(memphis["lon"]), "lat": float(memphis["lat"]), "curveNumber": 4}
    assert clicked_geoid({"points": [point]}, dataset) == "4748000"
    assert clicked_geoid({"points": [{"location": "0107000"}]}, dataset) == "0107000"
    assert clicked_geoid({"points": [{"lon": 0.0, "lat": 0.0}]}, dataset) is None
    assert clicked_geoid({"points": "junk"}, dataset) is None
