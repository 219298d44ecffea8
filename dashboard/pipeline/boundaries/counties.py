"""County outlines for the few program sites that are counties (Harris County TX, DeKalb County GA).

A county site is drawn with its county outline, not a city's: the us-atlas 3.0.1 ``counties-10m.json``
(Census cartographic boundary 2017 counties as TopoJSON, quantized and simplified at 1:10,000,000; ISC
licence for the packaging, Census public domain underneath) is the only county geometry in the sources.
GDAL reads TopoJSON directly (layer ``counties``, ``id`` = 5-digit county FIPS), so no arc decoding is
written here. The polygons are already generalised, so they are only snapped to the same 0.001° grid
as the cities. The file has no land or water area: ``land_km2`` is the measured area of the outline
(land and water, EPSG:5070) and ``area_source`` says so; it is never a Census ALAND.

The cities drawn on the map that lie inside a county (Houston and Pasadena in Harris County; part of
Atlanta in DeKalb) are cut out of its polygon: they report to the FBI on their own, the county
agency's figures do not cover them, and a county fill over them would hide them. Their GEOIDs are listed
in ``drawn_without``; the outline stays the county's.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import mapping, shape

from dashboard.pipeline.boundaries.census import BOUNDARIES, read_state_table
from dashboard.pipeline.boundaries.simplify import (
    CITY_COARSE_GRID_DEG,
    DISPLAY_CRS,
    _drop_small_rings,
    _polygonal,
    equal_area_km2,
    representative_point,
    simplify_for_display,
)

log = logging.getLogger(__name__)

COUNTIES_TOPOJSON = BOUNDARIES / "npm__us-atlas" / "counties-10m.json"
COUNTY_BOUNDARY_SOURCE = "Census CB 2017 counties, 1:10m (us-atlas 3.0.1 counties-10m.json)"
COUNTY_BOUNDARY_VINTAGE = 2017
COUNTY_AREA_SOURCE = "measured area of the 1:10m county outline (land and water, EPSG:5070); not Census ALAND"
COUNTY_DECIMALS = 3  # the cities' coarse grid (0.001°, about 100 m)
# The holes left by the cities cut out (Houston's outline is intricate) are simplified at about 400 m, the
# cities' coarsest tolerance, to keep cities.geojson inside its first-load budget; the cities themselves
# are drawn above the county, so the holes' generalised edges hide under them.
HOLE_TOLERANCE_DEG = 0.004
# Holes and parts of the cut county under 0.5 km2 (a 700 m square, ~5 px at zoom 10) are dropped: the
# many fragments of Houston's outline would otherwise make Harris County as heavy as Houston.
COUNTY_MIN_RING_KM2 = 0.5
MARKER_DECIMALS = 4
_COUNTY_GEOID = re.compile(r"^\d{5}$")


def is_county_geoid(geoid: str) -> bool:
    """A 5-digit GEOID (state + county FIPS), as against a 7-digit place GEOID."""
    return bool(_COUNTY_GEOID.match(str(geoid)))


@functools.lru_cache(maxsize=2)
def _read_counties_cached(path: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path, layer="counties")
    if "id" not in frame.columns or "name" not in frame.columns:
        raise ValueError(f"{path}: the 'counties' layer has no 'id' and 'name' properties")
    return frame.set_crs(DISPLAY_CRS, allow_override=True)


def read_counties(sources: Path, geoids: Sequence[str]) -> gpd.GeoDataFrame:
    """The us-atlas county polygons for ``geoids`` (WGS84; TopoJSON carries no CRS, the package says lon/lat).

    Raises naming the GEOIDs the file lacks: a program county without an outline would vanish from the map.
    """
    frame = _read_counties_cached(Path(sources) / COUNTIES_TOPOJSON)
    wanted = sorted(set(geoids))
    found = frame[frame["id"].isin(wanted)].sort_values("id").reset_index(drop=True)
    missing = sorted(set(wanted) - set(found["id"]))
    if missing:
        raise ValueError(f"{COUNTIES_TOPOJSON}: no county with GEOID {missing}")
    if found["id"].duplicated().any():
        raise ValueError(f"{COUNTIES_TOPOJSON}: a county GEOID appears twice")
    return found


def without_places(outline: Any, places: Sequence[dict[str, Any]]) -> tuple[Any, list[str]]:
    """The county polygon less the drawn cities inside it (bits under 0.5 km2 dropped), and their ids."""
    places = [p for p in places if p["properties"].get("geography", "place") == "place"]
    inside = [p for p in places if shapely.intersects(outline, shape(p["geometry"]))]
    inside = [p for p in inside if shapely.area(shapely.intersection(outline, shape(p["geometry"]))) > 0]
    if not inside:
        return outline, []
    cut = shapely.union_all([shape(p["geometry"]) for p in inside])
    rest = _polygonal(shapely.difference(outline, cut))
    rest, _holes, _parts = _drop_small_rings(rest, COUNTY_MIN_RING_KM2, COUNTY_MIN_RING_KM2)
    return rest, sorted(p["properties"]["geoid"] for p in inside)


def county_features(
    sources: Path, geoids: Sequence[str], places: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """One cities.geojson-shaped feature per county site: the same properties as a city (``name`` is
    "Harris County", ``label`` "Harris County, TX"), population null (the FBI county table prints none),
    ``geography`` "county" and ``drawn_without`` (the ``places`` features cut out of it)."""
    if not geoids:
        return []
    counties = read_counties(sources, geoids)
    states = read_state_table(sources)
    usps = dict(zip(states["STATEFP"], states["STUSPS"], strict=True))
    features = []
    for row in counties.itertuples(index=False):
        geoid = str(row.id)
        name = f"{row.name} County"
        state = usps[geoid[:2]]
        outline = simplify_for_display(row.geometry, 0.0, COUNTY_DECIMALS)
        shown, cut_out = without_places(outline, places)
        geometry = simplify_for_display(shown, HOLE_TOLERANCE_DEG if cut_out else 0.0, COUNTY_DECIMALS)
        lon, lat = representative_point(geometry, MARKER_DECIMALS)
        features.append(
            {
                "type": "Feature",
                "id": geoid,
                "properties": {
                    "geoid": geoid,
                    "name": name,
                    "census_name": name,
                    "state": state,
                    "label": f"{name}, {state}",
                    "population": None,
                    "population_year": None,
                    "population_source": None,
                    "land_km2": round(float(equal_area_km2(outline)), 2),
                    "water_km2": None,
                    "area_source": COUNTY_AREA_SOURCE,
                    "lon": lon,
                    "lat": lat,
                    "boundary_source": COUNTY_BOUNDARY_SOURCE,
                    "boundary_vintage": COUNTY_BOUNDARY_VINTAGE,
                    "geography": "county",
                    "drawn_without": cut_out,
                },
                "geometry": mapping(geometry),
            }
        )
    log.info("built %d county features (grid %g deg)", len(features), CITY_COARSE_GRID_DEG)
    return features


def add_counties(cities: dict[str, Any], sources: Path, geoids: Sequence[str]) -> dict[str, Any]:
    """``cities`` with the county features merged in, every feature sorted by ``geoid`` as the file
    promises (5-digit county GEOIDs sort among the 7-digit ones by their digits)."""
    features = [*cities["features"], *county_features(sources, geoids, cities["features"])]
    return {**cities, "features": sorted(features, key=lambda f: f["properties"]["geoid"])}
