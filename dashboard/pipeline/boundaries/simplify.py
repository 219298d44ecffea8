"""Display geometry for one city: reprojection, small parts dropped, grid snap, simplification."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from dashboard.pipeline.boundaries.census import SOURCE_CRS

log = logging.getLogger(__name__)
DISPLAY_CRS = "EPSG:4326"  # RFC 7946
EQUAL_AREA_CRS = "EPSG:5070"  # NAD83 CONUS Albers; equal-area everywhere, so area ratios hold for AK/HI too
# City polygons (module docstring: why these numbers). The file is part of the page's first load, so the
# geometry is sized for a 200 KB (gzip) budget for all cities: each city gets its own Douglas-Peucker
# tolerance, the coarsest of CITY_TOLERANCE_STEPS_M that is at most CITY_MAX_TOLERANCE_M and at most
# CITY_TOLERANCE_PER_SIZE x sqrt(area) (small cities are seen at closer zoom), and keeps the drawn area within
# CITY_MAX_AREA_CHANGE of the unsimplified CB polygon. Tolerances are metres along a meridian, applied in
# degrees (so east-west they are tighter by cos(latitude)).
CITY_MAX_TOLERANCE_M = 400.0
CITY_TOLERANCE_PER_SIZE = 0.04
CITY_TOLERANCE_STEPS_M: tuple[float, ...] = (400, 300, 250, 200, 150, 120, 100, 80, 60, 40, 30, 20, 10)
CITY_MAX_AREA_CHANGE = 0.01  # |simplified / unsimplified area - 1|, every city (the test checks it)
# Coordinate grid: 0.001 deg (3 decimals; 111 m north-south, 70-100 m east-west) where the tolerance is
# 200 m or more, else 0.0001 deg (4 decimals). Snapping happens before simplification, so Douglas-Peucker
# only drops vertices that are already on the grid and no rounding can break the polygon afterwards.
CITY_COARSE_GRID_DEG = 0.001
CITY_FINE_GRID_DEG = 0.0001
CITY_COARSE_GRID_FROM_M = 200.0
# Unincorporated enclaves (holes) and islands (parts) under 0.02 km2 (a 140 m square: two screen pixels at
# zoom 10) are dropped; so are fragments under that size left when snapping cuts a strip narrower than the
# grid (Houston's road-strip annexations). The largest part of a city is always kept.
CITY_MIN_HOLE_KM2 = 0.02
CITY_MIN_PART_KM2 = 0.02
METRES_PER_DEGREE_LAT = 111_320.0

# --- labels -------------------------------------------------------------------------------------------
BOUNDARY_SOURCE_CB = "Census CB 2015 500k (shoreline-clipped)"
BOUNDARY_SOURCE_TIGER = "Census TIGER/Line 2019 (legal boundary incl. water; not in CB 2015)"


# ======================================================================================================
# Geometry
# ======================================================================================================


def _orient_ccw(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Exterior rings counter-clockwise, holes clockwise (RFC 7946 section 3.1.6)."""
    if isinstance(geom, Polygon):
        return orient(geom, sign=1.0)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([orient(p, sign=1.0) for p in geom.geoms])
    raise TypeError(f"expected a polygonal geometry, got {geom.geom_type}")


def _polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Keep only the areal parts (snap-rounding or make_valid can leave collapsed lines or points)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    polys = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon | MultiPolygon)]
    flat = [q for p in polys for q in (p.geoms if isinstance(p, MultiPolygon) else [p])]
    if not flat:
        raise ValueError("geometry collapsed to nothing areal")
    return flat[0] if len(flat) == 1 else MultiPolygon(flat)


def _round_coords(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def simplify_for_display(geom: BaseGeometry, tolerance: float, decimals: int) -> Polygon | MultiPolygon:
    """Simplify, snap to a ``10**-decimals`` grid, orient CCW, and guarantee a valid polygonal result.

    ``set_precision`` snaps with GEOS's precision reducer, which re-nodes the result so it stays valid
    (plain rounding makes e.g. Birmingham self-touching). The ``np.round`` afterwards only removes binary
    noise such as 33.52001000000001 so the JSON prints the short decimal.
    """
    grid = 10.0**-decimals
    out = shapely.simplify(geom, tolerance, preserve_topology=True) if tolerance > 0 else geom
    out = _polygonal(_round_coords(shapely.set_precision(out, grid), decimals))
    if not out.is_valid:
        log.warning("invalid after rounding (%s); applying make_valid", shapely.is_valid_reason(out))
        out = shapely.make_valid(out, method="structure", keep_collapsed=False)
        out = _polygonal(_round_coords(shapely.set_precision(out, grid), decimals))
    out = _orient_ccw(out)
    if out.is_empty or not out.is_valid:
        raise ValueError(f"could not produce a valid polygon: {shapely.is_valid_reason(out)}")
    return out


def representative_point(geom: BaseGeometry, decimals: int) -> tuple[float, float]:
    """A marker point guaranteed inside the polygon after rounding (for the clickable national-zoom dot).

    ``point_on_surface`` first; if rounding pushes it onto or over the edge of a thin shape, the pole of
    inaccessibility of the largest part (the point farthest from any edge) is used instead.
    """
    pt = geom.point_on_surface()
    x, y = round(pt.x, decimals), round(pt.y, decimals)
    if geom.contains(Point(x, y)):
        return x, y
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    largest = max(parts, key=lambda p: p.area)
    pole = shapely.polylabel(largest, tolerance=10.0**-decimals)
    x, y = round(pole.x, decimals), round(pole.y, decimals)
    log.info("point_on_surface fell on the edge after rounding; using the pole of inaccessibility")
    if not geom.contains(Point(x, y)):
        raise ValueError("no representative point inside the polygon survives rounding")
    return x, y


@functools.lru_cache(maxsize=1)
def _equal_area_transformer() -> Transformer:
    return Transformer.from_crs(DISPLAY_CRS, EQUAL_AREA_CRS, always_xy=True)


def equal_area_km2(geoms: Any) -> Any:
    """Area in km2 (EPSG:5070) of a WGS84 geometry or array of them; the same measure the tests use."""
    transformer = _equal_area_transformer()

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return shapely.area(shapely.transform(geoms, project)) / 1e6


def _drop_small_rings(
    geom: Polygon | MultiPolygon, min_hole_km2: float, min_part_km2: float
) -> tuple[Polygon | MultiPolygon, list[float], list[float]]:
    """Remove holes and parts smaller than the limits; the largest part always stays.

    Returns the geometry and the areas (km2) of the holes and of the parts removed, for the provenance notes.
    """
    polygons = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    dropped_holes: list[float] = []
    if min_hole_km2 > 0:
        kept = []
        for poly in polygons:
            holes = list(poly.interiors)
            areas = equal_area_km2(shapely.polygons(holes)) if holes else np.array([])
            dropped_holes.extend(float(a) for a in areas if a < min_hole_km2)
            kept.append(
                Polygon(poly.exterior, [h for h, a in zip(holes, areas, strict=True) if a >= min_hole_km2])
            )
        polygons = kept
    dropped_parts: list[float] = []
    if min_part_km2 > 0 and len(polygons) > 1:
        areas = equal_area_km2(np.array(polygons, dtype=object))
        largest = int(np.argmax(areas))
        keep = [i for i, a in enumerate(areas) if a >= min_part_km2 or i == largest]
        dropped_parts = [float(a) for i, a in enumerate(areas) if i not in keep]
        polygons = [polygons[i] for i in keep]
    out = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    return out, dropped_holes, dropped_parts


@dataclass(frozen=True)
class CityShape:
    """One city's display polygon and how it was made (summarised in the build log and ``SOURCES.md``)."""

    geometry: Polygon | MultiPolygon
    tolerance_m: float
    grid_deg: float
    area_change: float  # simplified / unsimplified area - 1, both equal-area
    dropped_holes_km2: tuple[float, ...]
    dropped_parts_km2: tuple[float, ...]  # islands, and fragments of strips narrower than the grid


def _simplify_on_grid(
    snapped: BaseGeometry, tolerance_deg: float, grid: float
) -> tuple[Polygon | MultiPolygon, list[float]]:
    """Douglas-Peucker on an already snapped polygon, then drop the fragments snapping left behind.

    Douglas-Peucker only removes vertices, so the result stays on the grid; ``np.round`` strips the binary
    noise (33.52000000000001) so the JSON prints the short decimal.
    """
    decimals = round(-np.log10(grid))
    out = shapely.simplify(snapped, tolerance_deg, preserve_topology=True)
    out = _polygonal(_round_coords(out, decimals))
    if not out.is_valid:
        log.info("invalid after simplification (%s); repaired with make_valid", shapely.is_valid_reason(out))
        out = shapely.make_valid(out, method="structure", keep_collapsed=False)
        out = _polygonal(_round_coords(shapely.set_precision(out, grid), decimals))
    out, _, fragments = _drop_small_rings(out, 0.0, CITY_MIN_PART_KM2)
    out = _orient_ccw(out)
    if out.is_empty or not out.is_valid:
        raise ValueError(f"could not produce a valid polygon: {shapely.is_valid_reason(out)}")
    return out, fragments


def simplify_city(geom: BaseGeometry, label: str = "") -> CityShape:
    """The display polygon of one city (WGS84): see the ``CITY_*`` constants and the module docstring.

    Snap first (GEOS's precision reducer re-nodes, so collapsing slivers keeps the polygon valid), then
    Douglas-Peucker at the coarsest allowed tolerance whose area stays within ``CITY_MAX_AREA_CHANGE``.
    """
    area = float(equal_area_km2(geom))
    base, holes, parts = _drop_small_rings(_polygonal(geom), CITY_MIN_HOLE_KM2, CITY_MIN_PART_KM2)
    cap = min(CITY_MAX_TOLERANCE_M, CITY_TOLERANCE_PER_SIZE * np.sqrt(area) * 1000)
    steps = [t for t in CITY_TOLERANCE_STEPS_M if t <= cap] or [min(CITY_TOLERANCE_STEPS_M)]
    snapped: dict[float, BaseGeometry] = {}
    for tolerance in steps:
        grid = CITY_COARSE_GRID_DEG if tolerance >= CITY_COARSE_GRID_FROM_M else CITY_FINE_GRID_DEG
        if grid not in snapped:
            snapped[grid] = _polygonal(shapely.set_precision(base, grid))
        out, fragments = _simplify_on_grid(snapped[grid], tolerance / METRES_PER_DEGREE_LAT, grid)
        change = float(equal_area_km2(out)) / area - 1
        if abs(change) <= CITY_MAX_AREA_CHANGE:
            break
    else:
        log.warning("%s: area changes by %.2f%% even at %g m", label, 100 * change, tolerance)
    return CityShape(out, float(tolerance), grid, change, tuple(holes), tuple(parts + fragments))


def select_display_geometry(
    geoids: Sequence[str], cb: gpd.GeoDataFrame, tiger: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One source polygon per GEOID: CB 2015 (shoreline-clipped) if it has the place, else TIGER 2019.

    Returns ``geoid``, ``boundary_source``, ``boundary_vintage`` and the untouched geometry (EPSG:4269),
    sorted by GEOID. Raises if a GEOID is in neither source.
    """
    cb_geom = dict(zip(cb["GEOID"], cb.geometry, strict=True))
    tiger_geom = dict(zip(tiger["GEOID"], tiger.geometry, strict=True))
    tiger_vintage = dict(zip(tiger["GEOID"], tiger["vintage"], strict=True))
    rows = []
    absent = []
    for geoid in sorted(set(geoids)):
        if geoid in cb_geom:
            rows.append((geoid, BOUNDARY_SOURCE_CB, 2015, cb_geom[geoid]))
        elif geoid in tiger_geom and str(tiger_vintage[geoid]).startswith("TIGER/Line 2019"):
            log.warning("%s is not in CB 2015 500k; using its TIGER/Line 2019 legal polygon", geoid)
            rows.append((geoid, BOUNDARY_SOURCE_TIGER, 2019, tiger_geom[geoid]))
        else:
            absent.append(geoid)
    if absent:
        raise ValueError(f"no boundary in CB 2015 or TIGER 2019 for GEOIDs {absent}")
    frame = pd.DataFrame(rows, columns=["geoid", "boundary_source", "boundary_vintage", "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=SOURCE_CRS)


def _drop_small_parts(geom: BaseGeometry, min_km2: float) -> BaseGeometry:
    """Drop islands under ``min_km2`` (measured equal-area); always keeps the largest part."""
    parts = gpd.GeoSeries(list(shapely.get_parts(geom)), crs=DISPLAY_CRS)
    areas = parts.to_crs(EQUAL_AREA_CRS).area.to_numpy()
    keep = [p for p, a in zip(parts, areas, strict=True) if a >= min_km2 * 1e6]
    if not keep:
        keep = [parts.iloc[int(np.argmax(areas))]]
    return keep[0] if len(keep) == 1 else MultiPolygon(keep)
