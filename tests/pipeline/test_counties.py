"""County sites (issue 12): drawn with their county outline, never as a city of the same name."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import Point, shape

from dashboard.pipeline.boundaries.counties import add_counties, county_features, read_counties
from dashboard.pipeline.boundaries.simplify import equal_area_km2
from tests.conftest import GEODATA, SOURCES

HARRIS, DEKALB = "48201", "13089"


@pytest.fixture(scope="module")
def features() -> dict[str, dict]:
    return {f["properties"]["geoid"]: f for f in county_features(SOURCES, [HARRIS, DEKALB])}


def test_each_county_site_has_its_outline_and_a_county_label(features) -> None:
    assert features[HARRIS]["properties"]["label"] == "Harris County, TX"
    assert features[DEKALB]["properties"]["label"] == "DeKalb County, GA"
    for geoid, feature in features.items():
        props = feature["properties"]
        assert props["geography"] == "county" and feature["id"] == geoid
        geom = shape(feature["geometry"])
        assert geom.is_valid and not geom.is_empty
        assert geom.contains(Point(props["lon"], props["lat"]))
        assert shapely.is_ccw(geom.exterior if geom.geom_type == "Polygon" else geom.geoms[0].exterior)
        assert props["land_km2"] == round(float(equal_area_km2(geom)), 2)
        assert "not Census ALAND" in props["area_source"] and props["population"] is None


def test_harris_county_contains_houston_and_is_larger(features) -> None:
    """The county outline, not Houston's: Houston's marker lies inside it and the county is far larger."""
    cities = json.loads((GEODATA / "cities.geojson").read_text(encoding="utf-8"))
    houston = next(f for f in cities["features"] if f["properties"]["geoid"] == "4835000")
    harris = shape(features[HARRIS]["geometry"])
    assert harris.contains(Point(houston["properties"]["lon"], houston["properties"]["lat"]))
    assert features[HARRIS]["properties"]["land_km2"] > 2 * houston["properties"]["land_km2"]


def test_an_unknown_county_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="99999"):
        read_counties(SOURCES, ["99999"])


def test_counties_sort_among_the_places_in_the_committed_file() -> None:
    cities = json.loads((GEODATA / "cities.geojson").read_text(encoding="utf-8"))
    ids = [f["properties"]["geoid"] for f in cities["features"]]
    assert ids == sorted(ids) and {HARRIS, DEKALB} <= set(ids)
    kinds = {f["properties"]["geoid"]: f["properties"]["geography"] for f in cities["features"]}
    assert {g for g, k in kinds.items() if k == "county"} == {HARRIS, DEKALB}
    merged = add_counties({"features": cities["features"][:2]}, SOURCES, [HARRIS])
    assert [f["properties"]["geoid"] for f in merged["features"]][-1] == HARRIS
