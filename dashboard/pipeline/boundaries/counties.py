"""County outlines for the few program sites that are counties (Harris County TX, DeKalb County GA).

A county site is drawn with its county outline, not a city's: the us-atlas 3.0.1 ``counties-10m.json``
(Census cartographic boundary 2017 counties as TopoJSON, quantized and simplified at 1:10,000,000; ISC
licence for the packaging, Census public domain underneath) is the only county geometry in the sources.
GDAL reads TopoJSON directly (layer ``counties``, ``id`` = 5-digit county FIPS), so no arc decoding is
written here. The polygons are already generalised, so they are only snapped to the same 0.001° grid
as the cities. The file has no land or water area: ``land_km2`` is the measured area of the outline
(land and water, EPSG:5070) and ``area_source`` says so; it is never a Census ALAND.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import mapping

from dashboard.pipeline.boundaries.census import BOUNDARIES, read_state_table
from dashboard.pipeline.boundaries.simplify import (
    CITY_COARSE_GRID_DEG,
    DISPLAY_CRS,
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


def county_features(sources: Path, geoids: Sequence[str]) -> list[dict[str, Any]]:
    """One cities.geojson-shaped feature per county site: the same properties as a city (``name`` is
    "Harris County", ``label`` "Harris County, TX"), population null (the FBI county table prints none)
    and ``geography`` "county"."""
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
        geometry = simplify_for_display(row.geometry, 0.0, COUNTY_DECIMALS)
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
                    "land_km2": round(float(equal_area_km2(geometry)), 2),
                    "water_km2": None,
                    "area_source": COUNTY_AREA_SOURCE,
                    "lon": lon,
                    "lat": lat,
                    "boundary_source": COUNTY_BOUNDARY_SOURCE,
                    "boundary_vintage": COUNTY_BOUNDARY_VINTAGE,
                    "geography": "county",
                },
                "geometry": mapping(geometry),
            }
        )
    log.info("built %d county features (grid %g deg)", len(features), CITY_COARSE_GRID_DEG)
    return features


def add_counties(cities: dict[str, Any], sources: Path, geoids: Sequence[str]) -> dict[str, Any]:
    """``cities`` with the county features merged in, every feature sorted by ``geoid`` as the file
    promises (5-digit county GEOIDs sort among the 7-digit ones by their digits)."""
    features = [*cities["features"], *county_features(sources, geoids)]
    return {**cities, "features": sorted(features, key=lambda f: f["properties"]["geoid"])}
