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
def committed() -> dict:
    return json.loads((GEODATA / "cities.geojson").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def features(committed) -> dict[str, dict]:
    return {
        f["properties"]["geoid"]: f for f in county_features(SOURCES, [HARRIS, DEKALB], committed["features"])
    }


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
        assert props["land_km2"] > float(equal_area_km2(geom))  # the whole outline's area; the cities cut out
        assert "not Census ALAND" in props["area_source"] and props["population"] is None


def test_the_cities_inside_a_county_are_cut_out_not_covered(features, committed) -> None:
    """The county outline, not Houston's: Houston lies inside the outline, but the county's fill leaves it
    (and Pasadena, Pearland, ...) to their own figures, and says which cities it leaves out."""
    houston = next(f for f in committed["features"] if f["properties"]["geoid"] == "4835000")
    point = Point(houston["properties"]["lon"], houston["properties"]["lat"])
    harris = shape(features[HARRIS]["geometry"])
    outline = read_counties(SOURCES, [HARRIS]).geometry.iloc[0]
    assert outline.contains(point) and not harris.contains(point)
    assert features[HARRIS]["properties"]["drawn_without"][:1] == ["4835000"]
    assert "1304000" in features[DEKALB]["properties"]["drawn_without"]  # Atlanta, partly in DeKalb
    assert features[HARRIS]["properties"]["land_km2"] > 2 * houston["properties"]["land_km2"]


def test_an_unknown_county_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="99999"):
        read_counties(SOURCES, ["99999"])


def test_counties_sort_among_the_places_in_the_committed_file(committed) -> None:
    cities = committed
    ids = [f["properties"]["geoid"] for f in cities["features"]]
    assert ids == sorted(ids) and {HARRIS, DEKALB} <= set(ids)
    kinds = {f["properties"]["geoid"]: f["properties"]["geography"] for f in cities["features"]}
    assert {g for g, k in kinds.items() if k == "county"} == {HARRIS, DEKALB}
    merged = add_counties({"features": cities["features"][:2]}, SOURCES, [HARRIS])
    assert [f["properties"]["geoid"] for f in merged["features"]][-1] == HARRIS
