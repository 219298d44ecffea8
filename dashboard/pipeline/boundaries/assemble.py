"""Assemble ``cities.geojson`` and ``states.geojson`` from the readers and the simplifier."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from dashboard.pipeline.boundaries.census import (
    _LSAD_SUFFIX,
    CB_STATE_ZIP,
    DISPLAY_NAMES,
    _read_states_cached,
    match_pep_population,
    read_cb2015_places,
    read_pep_2019,
    read_state_table,
    read_tiger_places,
)
from dashboard.pipeline.boundaries.simplify import (
    BOUNDARY_SOURCE_CB,
    CITY_COARSE_GRID_DEG,
    CITY_COARSE_GRID_FROM_M,
    CITY_FINE_GRID_DEG,
    CITY_MAX_AREA_CHANGE,
    CITY_MIN_HOLE_KM2,
    CITY_TOLERANCE_PER_SIZE,
    CITY_TOLERANCE_STEPS_M,
    DISPLAY_CRS,
    CityShape,
    _drop_small_parts,
    representative_point,
    select_display_geometry,
    simplify_city,
    simplify_for_display,
)
from dashboard.pipeline.io import write_geojson_atomic

log = logging.getLogger(__name__)
CITY_MARKER_DECIMALS = 4  # the lon/lat marker point (~10 m)

# The states layer is a backdrop only: GEOS coverage simplification (Visvalingam-Whyatt on the shared
# edges, so neighbouring states keep one common border line, no slivers or gaps), tolerance roughly the
# square root of the triangle area removed (~6 km), islands under 5 km2 dropped, 2 decimals (~1 km).
STATE_SIMPLIFY_TOLERANCE_DEG = 0.06
STATE_MIN_PART_KM2 = 5.0
STATE_COORD_DECIMALS = 2
# 50 states + DC (FIPS <= 56) + Puerto Rico; the other island areas are off the map's extent.
STATE_FIPS_EXTRA: frozenset[str] = frozenset({"72"})
AREA_SOURCE_TIGER = "Census TIGER/Line 2019 ALAND/AWATER"
AREA_SOURCE_CB = "Census CB 2015 500k ALAND/AWATER"
POPULATION_SOURCE = "Census PEP Vintage 2019 (SUB-IP-EST2019-ANNRNK), July 1, 2019 estimate"
POPULATION_YEAR = 2019

_GEOID_RE = re.compile(r"^\d{7}$")


def _validate_geoids(geoids: Iterable[str]) -> list[str]:
    geoids = list(geoids)
    bad = [g for g in geoids if not isinstance(g, str) or not _GEOID_RE.match(g)]
    if bad:
        raise ValueError(f"GEOIDs must be 7-digit strings (state + place FIPS): {bad[:10]}")
    return sorted(set(geoids))


def _place_attributes(geoids: Sequence[str], cb: gpd.GeoDataFrame, tiger: gpd.GeoDataFrame) -> pd.DataFrame:
    """Name, state and land/water area per GEOID: TIGER 2019 where the sources have it, else CB 2015."""
    tiger_by_id = tiger.set_index("GEOID")
    cb_by_id = cb.set_index("GEOID")
    rows = []
    for geoid in geoids:
        if geoid in tiger_by_id.index:
            t = tiger_by_id.loc[geoid]
            from_tiger = str(t["vintage"]).startswith("TIGER/Line 2019")
            rows.append(
                {
                    "geoid": geoid,
                    "statefp": t["STATEFP"],
                    "census_short": t["NAME"],
                    "namelsad": t["NAMELSAD"],
                    "aland": int(t["ALAND"]),
                    "awater": int(t["AWATER"]),
                    "area_source": AREA_SOURCE_TIGER if from_tiger else AREA_SOURCE_CB,
                }
            )
        else:
            c = cb_by_id.loc[geoid]
            lsad = str(c["LSAD"])
            if lsad not in _LSAD_SUFFIX:
                log.warning("%s: unknown CB LSAD code %r; NAMELSAD taken as NAME", geoid, lsad)
            rows.append(
                {
                    "geoid": geoid,
                    "statefp": c["STATEFP"],
                    "census_short": c["NAME"],
                    "namelsad": f"{c['NAME']}{_LSAD_SUFFIX.get(lsad, '')}",
                    "aland": int(c["ALAND"]),
                    "awater": int(c["AWATER"]),
                    "area_source": AREA_SOURCE_CB,
                }
            )
    attrs = pd.DataFrame.from_records(rows)
    mismatch = attrs[attrs["geoid"].str[:2] != attrs["statefp"]]
    if len(mismatch):
        raise ValueError(f"state FIPS does not match GEOID: {mismatch['geoid'].tolist()}")
    return attrs


# ======================================================================================================
# Public builders
# ======================================================================================================


def universe_geoids(sources: Path, programs_csv: Path) -> list[str]:
    """The map's place universe: the program cities plus every place of 100,000+ (sorted, unique); county
    sites (5-digit GEOIDs) are drawn from ``boundaries/counties.py`` instead."""
    programs = pd.read_csv(programs_csv, dtype={"geoid": str})
    places = [g for g in programs["geoid"] if len(g) != 5]
    return _validate_geoids([*places, *read_tiger_places(sources)["GEOID"]])


def build_cities(sources: Path, geoids: Sequence[str]) -> dict[str, Any]:
    """City polygons for display as a GeoJSON FeatureCollection (WGS84), one feature per GEOID, sorted.

    See the module docstring for sources, processing and the simplification tolerance. Properties:
    ``geoid``, ``name`` (common name), ``census_name`` (NAMELSAD), ``state``, ``label``, ``population``,
    ``population_year``, ``population_source``, ``land_km2``, ``water_km2``, ``area_source``, ``lon``,
    ``lat`` (a point inside the polygon), ``boundary_source``, ``boundary_vintage``.
    """
    sources = Path(sources)
    wanted = _validate_geoids(geoids)
    tiger = read_tiger_places(sources)
    cb = read_cb2015_places(sources, wanted)
    chosen = select_display_geometry(wanted, cb, tiger).to_crs(DISPLAY_CRS)
    attrs = _place_attributes(wanted, cb, tiger).set_index("geoid")
    state_table = read_state_table(sources)
    usps = dict(zip(state_table["STATEFP"], state_table["STUSPS"], strict=True))
    population = match_pep_population(attrs.reset_index(), read_pep_2019(sources))

    features = []
    shapes: list[CityShape] = []
    for row in chosen.itertuples(index=False):
        a = attrs.loc[row.geoid]
        name = DISPLAY_NAMES.get(row.geoid, str(a["census_short"]))
        state = usps[a["statefp"]]
        city = simplify_city(row.geometry, f"{row.geoid} {name}, {state}")
        shapes.append(city)
        geom = city.geometry
        lon, lat = representative_point(geom, CITY_MARKER_DECIMALS)
        pop = population.get(row.geoid)
        features.append(
            {
                "type": "Feature",
                "id": row.geoid,
                "properties": {
                    "geoid": row.geoid,
                    "name": name,
                    "census_name": str(a["namelsad"]),
                    "state": state,
                    "label": f"{name}, {state}",
                    "population": pop,
                    "population_year": POPULATION_YEAR if pop is not None else None,
                    "population_source": POPULATION_SOURCE if pop is not None else None,
                    "land_km2": round(int(a["aland"]) / 1e6, 2),
                    "water_km2": round(int(a["awater"]) / 1e6, 2),
                    "area_source": str(a["area_source"]),
                    "lon": lon,
                    "lat": lat,
                    "boundary_source": row.boundary_source,
                    "boundary_vintage": int(row.boundary_vintage),
                    "geography": "place",  # or "county" (boundaries/counties.py)
                },
                "geometry": mapping(geom),
            }
        )
    fallback = [f["id"] for f in features if f["properties"]["boundary_source"] != BOUNDARY_SOURCE_CB]
    log.info("built %d city features (%d TIGER fallbacks: %s)", len(features), len(fallback), fallback)
    _log_simplification(shapes)
    return {
        "type": "FeatureCollection",
        "name": "cities",
        "metadata": {
            "crs": DISPLAY_CRS,
            "simplify": "Douglas-Peucker (preserve topology) per city, tolerance the coarsest of "
            f"{max(CITY_TOLERANCE_STEPS_M):g}..{min(CITY_TOLERANCE_STEPS_M):g} m not above "
            f"{CITY_TOLERANCE_PER_SIZE:g} x sqrt(area) that keeps the area within "
            f"{CITY_MAX_AREA_CHANGE:.0%} of the CB polygon; holes and parts under {CITY_MIN_HOLE_KM2:g} km2 "
            "dropped",
            "coordinate_decimals": round(-np.log10(CITY_FINE_GRID_DEG)),
            "coordinate_grid": f"{CITY_COARSE_GRID_DEG:g} deg where the tolerance is "
            f"{CITY_COARSE_GRID_FROM_M:g} m or more, else {CITY_FINE_GRID_DEG:g} deg",
            "sources": "US Census Bureau (public domain): CB 2015 500k places, TIGER/Line 2019 places, "
            "PEP Vintage 2019 place estimates",
        },
        "features": features,
    }


def _log_simplification(shapes: Sequence[CityShape]) -> None:
    """One log line with the numbers ``SOURCES.md`` quotes (area change, drops, tolerances)."""
    change = np.abs([s.area_change for s in shapes])
    holes = [a for s in shapes for a in s.dropped_holes_km2]
    parts = [a for s in shapes for a in s.dropped_parts_km2]
    tolerances = pd.Series([s.tolerance_m for s in shapes]).value_counts().sort_index(ascending=False)
    log.info(
        "city area change vs CB: max %.2f%%, mean %.2f%%; dropped %d holes (largest %.4f km2) and %d parts "
        "(largest %.4f km2); %d cities on the %g deg grid; tolerances (m: cities) %s",
        100 * change.max(),
        100 * change.mean(),
        len(holes),
        max(holes, default=0.0),
        len(parts),
        max(parts, default=0.0),
        sum(s.grid_deg == CITY_COARSE_GRID_DEG for s in shapes),
        CITY_COARSE_GRID_DEG,
        ", ".join(f"{t:g}: {n}" for t, n in tolerances.items()),
    )


def build_states(sources: Path) -> dict[str, Any]:
    """Light state outlines (50 states, DC, Puerto Rico) for an offline basemap, WGS84.

    Source: Census CB 2015 500k states (public domain, so no licence notice has to travel with the copy,
    unlike us-atlas). Simplified as one coverage, see ``STATE_*`` constants; ~100 KB, 27 KB gzipped.
    """
    states = _read_states_cached(Path(sources) / CB_STATE_ZIP).copy()
    keep = (states["STATEFP"] <= "56") | states["STATEFP"].isin(STATE_FIPS_EXTRA)
    states = states[keep].sort_values("STATEFP").reset_index(drop=True).to_crs(DISPLAY_CRS)
    geoms = np.array([_drop_small_parts(g, STATE_MIN_PART_KM2) for g in states.geometry], dtype=object)
    if not shapely.coverage_is_valid(geoms):
        raise ValueError("CB state polygons do not form a valid coverage")
    simplified = shapely.coverage_simplify(geoms, STATE_SIMPLIFY_TOLERANCE_DEG)
    features = []
    for row, geom in zip(states.itertuples(index=False), simplified, strict=True):
        out = simplify_for_display(geom, 0.0, STATE_COORD_DECIMALS)
        features.append(
            {
                "type": "Feature",
                "id": row.STATEFP,
                "properties": {"statefp": row.STATEFP, "state": row.STUSPS, "name": row.NAME},
                "geometry": mapping(out),
            }
        )
    log.info("built %d state features", len(features))
    return {
        "type": "FeatureCollection",
        "name": "states",
        "metadata": {
            "crs": DISPLAY_CRS,
            "simplify": f"GEOS coverage simplification, tolerance {STATE_SIMPLIFY_TOLERANCE_DEG} deg; "
            f"islands under {STATE_MIN_PART_KM2:g} km2 dropped",
            "coordinate_decimals": STATE_COORD_DECIMALS,
            "sources": "US Census Bureau cartographic boundary 2015 500k states (public domain)",
        },
        "features": features,
    }


def write_boundaries(sources: Path, out_dir: Path, geoids: Sequence[str]) -> None:
    """Write ``out_dir/cities.geojson`` and ``out_dir/states.geojson`` (deterministic bytes, atomic)."""
    out_dir = Path(out_dir)
    write_geojson_atomic(build_cities(sources, geoids), out_dir / "cities.geojson")
    write_geojson_atomic(build_states(sources), out_dir / "states.geojson")
