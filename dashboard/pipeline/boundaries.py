"""Display geometry for the map: city polygons and a light state backdrop, as GeoJSON.

Why these sources (see ``../shared/sources/boundaries/PROVENANCE.md``):

* City shapes come from the Census **cartographic boundary (CB) 2015 1:500k** place files. They are clipped
  to the shoreline, so Buffalo, Oakland and Richmond CA do not reach far into open water as the TIGER/Line
  *legal* polygons do (Richmond's legal area is 43% water). A place missing from CB 2015 (e.g. incorporated
  later) falls back to its TIGER/Line 2019 polygon and says so in ``boundary_source``. Caveat: CB clips only
  coastline and large water bodies; Wilmington DE keeps its Delaware River water (43.7 km² drawn, 28.2 km²
  land), as the Census does not treat that reach as open water.
* Land and water areas come from the TIGER/Line 2019 ``ALAND``/``AWATER`` attributes (the newer vintage,
  the one the PEP 2019 population refers to); CB 2015 attributes only when TIGER has none (``area_source``).
* Population is the Census PEP Vintage 2019 July 1, 2019 estimate, matched on state + exact ``NAMELSAD``
  ("Jackson city" in Tennessee). It is a display attribute, never a crime-rate denominator: rates use the
  FBI's own population.

Processing per city, in this order (``simplify_city``): NAD83 -> WGS84 (EPSG:4326; PROJ's "NAD83 to WGS 84
(1)" is a null transform, so coordinates are unchanged); drop holes (unincorporated enclaves) and islands
under 0.02 km2; snap to the coordinate grid with GEOS's precision reducer (it re-nodes, so slivers narrower
than the grid collapse without making the polygon invalid); Douglas-Peucker with ``preserve_topology=True``,
which only removes vertices, so the result stays on the grid; drop fragments under 0.02 km2 that snapping
cut from strips narrower than the grid; counter-clockwise exterior rings (RFC 7946); ``make_valid`` as a
last resort. Each city takes the coarsest tolerance of ``CITY_TOLERANCE_STEPS_M`` that is at most 400 m and
at most 4% of the square root of its area, and that keeps its drawn area within 1% of the unsimplified CB
polygon. The grid is 0.001 deg (3 decimals) for tolerances of 200 m or more, else 0.0001 deg.

Why: the map's first load must stay within 300 KB gzipped for geometry and data, so ``cities.geojson`` has
200 KB (gzip -6) for 320 cities. Levers measured on the 320 mapped cities (whole file with properties; area
in EPSG:5070 against the unsimplified CB polygon; "shift" is the symmetric difference divided by the
perimeter, i.e. how far the outline moved on average, median / 95th percentile over cities):

=============================================  ======  =======  ======  ==============  =====  =========
variant                                        coords  raw      gzip    max dArea       mean   shift (m)
=============================================  ======  =======  ======  ==============  =====  =========
0.001 deg, 5 decimals (the previous file)      85,130  1.98 MB  547 KB  1.00%           0.16%  11 / 18
0.001 deg, 4 decimals, snapped first           85,180  1.81 MB  433 KB  0.93%           0.15%  12 / 19
same, holes + islands under 0.02 km2 dropped   82,523  1.76 MB  421 KB  0.93%           0.15%  12 / 19
0.003 deg, 4 decimals, drops                   44,178  1.03 MB  251 KB  5.78% Daly C.   0.67%  45 / 64
0.0045 deg, 4 decimals, drops                  34,750  0.84 MB  205 KB  10.3% Cambridge 1.06%  70 / 95
0.003 deg, 3 decimals, drops                   45,341  0.96 MB  194 KB  6.53% Cambridge 0.65%  51 / 68
per city <= 400 m, 4 decimals, drops           44,834  1.04 MB  253 KB  1.00%           0.42%  45 / 69
per city <= 300 m, 3 decimals >= 200 m, drops  49,854  1.04 MB  210 KB  0.99%           0.40%  44 / 59
per city <= 400 m, 3 decimals >= 200 m, drops  44,284  0.95 MB  192 KB  1.00%           0.45%  52 / 72
=============================================  ======  =======  ======  ==============  =====  =========

The last row is the one built. Decimals are the cheapest lever (gzip cannot squeeze the last, random
digits: 5 -> 4 decimals saves 21% for ~10 m of position, 4 -> 3 another 24%); after that only fewer vertices
help, and a single tolerance small enough for small cities (Cambridge, Daly City lose 5-10% of their area at
0.003 deg) wastes bytes on large ones, hence a tolerance per city under a 1% area bound. Holes are 23% of
the raw vertices but the ones under 0.02 km2 are only 2% (436 holes, 5 km2 in all): topology-preserving
simplification keeps every hole as at least a triangle, so dropping more (< 0.05 km2: 5 KB less) buys little.

What it costs, in screen pixels (MapLibre, 512 px tiles, 40 N: zoom 3 = 7.5 km/px, zoom 10 = 59 m/px,
zoom 12 = 15 m/px): the national view is exact to the pixel; at metro zoom 10 outlines move by about one
pixel on average and at most ~7 px (400 m); at city zoom 12 they move 3-4 px on average and corners are cut
by up to ~27 px, so the shapes are generalised there (the previous file: ~7 px). Strips narrower than the
0.001 deg grid disappear (Houston's road-strip annexations, some in Waco, Tulsa, Corpus Christi): under
2 px wide at zoom 10. Neighbouring cities are simplified independently, so shared borders can show slivers
of up to ~2 x the tolerance.

States (a line backdrop): coverage simplification at 0.06 deg and 2 decimals gives 100 KB raw, 27 KB gzip
(0.03 deg / 3 decimals was 207 KB / 63 KB; 0.07 deg / 3 decimals 30 KB). Outlines move ~0.6 km on average,
sub-pixel at the national zoom; at zoom 10 a state line can be 10+ px off (Memphis / West Memphis).
"""

from __future__ import annotations

import csv
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from dashboard.pipeline.io import write_geojson_atomic

log = logging.getLogger(__name__)

# --- source files, relative to the ``sources`` directory (../shared/sources) ---------------------------
BOUNDARIES = Path("boundaries")
CB_PLACE_ZIP = BOUNDARIES / "NYPL-Simplified__geojson-places-us" / "cb_2015_{statefp}_place_500k.zip"
CB_STATE_ZIP = BOUNDARIES / "NYPL-Simplified__geojson-places-us" / "cb_2015_us_state_500k.zip"
TIGER_PLACE_FILES: tuple[Path, ...] = (
    BOUNDARIES / "places_pop100k.geojson",
    BOUNDARIES / "program_cities.geojson",
)
PEP_CSV = BOUNDARIES / "Urban-Ocean-Lab__coastal_cities" / "SUB-IP-EST2019-ANNRNK.csv"

# --- processing parameters ----------------------------------------------------------------------------
SOURCE_CRS = "EPSG:4269"  # NAD83 lon/lat, all Census files here
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
CITY_MARKER_DECIMALS = 4  # the lon/lat marker point (~10 m)
METRES_PER_DEGREE_LAT = 111_320.0

# The states layer is a backdrop only: GEOS coverage simplification (Visvalingam-Whyatt on the shared
# edges, so neighbouring states keep one common border line, no slivers or gaps), tolerance roughly the
# square root of the triangle area removed (~6 km), islands under 5 km2 dropped, 2 decimals (~1 km).
STATE_SIMPLIFY_TOLERANCE_DEG = 0.06
STATE_MIN_PART_KM2 = 5.0
STATE_COORD_DECIMALS = 2
# 50 states + DC (FIPS <= 56) + Puerto Rico; the other island areas are off the map's extent.
STATE_FIPS_EXTRA: frozenset[str] = frozenset({"72"})

# --- labels -------------------------------------------------------------------------------------------
BOUNDARY_SOURCE_CB = "Census CB 2015 500k (shoreline-clipped)"
BOUNDARY_SOURCE_TIGER = "Census TIGER/Line 2019 (legal boundary incl. water; not in CB 2015)"
AREA_SOURCE_TIGER = "Census TIGER/Line 2019 ALAND/AWATER"
AREA_SOURCE_CB = "Census CB 2015 500k ALAND/AWATER"
POPULATION_SOURCE = "Census PEP Vintage 2019 (SUB-IP-EST2019-ANNRNK), July 1, 2019 estimate"
POPULATION_YEAR = 2019

# Census names that nobody uses on a map (consolidated-government "balance" places, urban counties, a CDP
# standing in for Honolulu). Keyed by GEOID so a name change at Census cannot silently re-target a row;
# the Census name is kept in ``census_name``.
DISPLAY_NAMES: dict[str, str] = {
    "1303440": "Athens",  # Athens-Clarke County unified government (balance), GA
    "1304204": "Augusta",  # Augusta-Richmond County consolidated government (balance), GA
    "1349008": "Macon",  # Macon-Bibb County, GA
    "1571550": "Honolulu",  # Urban Honolulu CDP, HI
    "1836003": "Indianapolis",  # Indianapolis city (balance), IN
    "2146027": "Lexington",  # Lexington-Fayette urban county, KY
    "2148006": "Louisville",  # Louisville/Jefferson County metro government (balance), KY
    "4752006": "Nashville",  # Nashville-Davidson metropolitan government (balance), TN
    "0665042": "Ventura",  # San Buenaventura (Ventura) city, CA
}

# CB files carry an LSAD code instead of NAMELSAD; only needed for places absent from both TIGER files.
_LSAD_SUFFIX: dict[str, str] = {
    "00": "",
    "21": " borough",
    "25": " city",
    "37": " municipality",
    "43": " town",
    "47": " village",
    "53": " city and borough",
    "57": " CDP",
}

_GEOID_RE = re.compile(r"^\d{7}$")
_TIGER_COLUMNS = ("GEOID", "NAME", "NAMELSAD", "STATEFP", "STUSPS", "ALAND", "AWATER", "vintage")


# ======================================================================================================
# Readers. Cached because tests and the pipeline build more than once per process; callers get copies.
# ======================================================================================================


@functools.lru_cache(maxsize=4)
def _read_states_cached(path: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(f"zip://{path}")


def read_state_table(sources: Path) -> pd.DataFrame:
    """State FIPS, USPS code and name from the CB 2015 state file (attributes only).

    Used to turn PEP's "..., Tennessee" into a FIPS code without a hand-typed table.
    """
    path = Path(sources) / CB_STATE_ZIP
    table = pyogrio.read_dataframe(
        f"zip://{path}", read_geometry=False, columns=["STATEFP", "STUSPS", "NAME"]
    )
    table = table.sort_values("STATEFP").reset_index(drop=True)
    if table["STATEFP"].duplicated().any() or table["NAME"].duplicated().any():
        raise ValueError(f"duplicate state in {path}")
    return table


@functools.lru_cache(maxsize=4)
def _read_tiger_cached(sources: Path) -> gpd.GeoDataFrame:
    frames = []
    for rel in TIGER_PLACE_FILES:
        frame = gpd.read_file(Path(sources) / rel)
        if frame.crs is None or frame.crs.to_epsg() != 4269:
            raise ValueError(f"{rel}: expected EPSG:4269, got {frame.crs}")
        frame["file"] = str(rel)
        frames.append(frame[[*_TIGER_COLUMNS, "file", "geometry"]])
    both = pd.concat(frames, ignore_index=True)
    # A program city of 100k+ is in both files, copied from the same TIGER feature (the vintage wording
    # differs between the two files, so it is left out of the comparison).
    check = both.drop(columns=["file", "vintage", "geometry"]).drop_duplicates()
    if check["GEOID"].duplicated().any():
        dup = sorted(check.loc[check["GEOID"].duplicated(), "GEOID"])
        raise ValueError(f"TIGER files disagree on attributes of {dup}")
    both = both.drop_duplicates("GEOID", keep="first").sort_values("GEOID").reset_index(drop=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=SOURCE_CRS)


def read_tiger_places(sources: Path) -> gpd.GeoDataFrame:
    """The TIGER/Line 2019 places the sources carry: the >=100k file plus the program cities, one row each.

    Two rows of the >=100k file (Burbank CA, Mesquite TX) are CB 2015 copies; their ``vintage`` says so.
    """
    return _read_tiger_cached(Path(sources)).copy()


@functools.lru_cache(maxsize=64)
def _read_cb_state_cached(path: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(f"zip://{path}")


def read_cb2015_places(sources: Path, geoids: Iterable[str]) -> gpd.GeoDataFrame:
    """The unsimplified CB 2015 500k polygons (EPSG:4269) for ``geoids``; absent GEOIDs are simply missing.

    Public so tests can compare the display geometry with its unsimplified source.
    """
    wanted = sorted(set(geoids))
    frames = []
    for statefp in sorted({g[:2] for g in wanted}):
        path = Path(sources) / str(CB_PLACE_ZIP).format(statefp=statefp)
        if not path.exists():
            log.warning("no CB 2015 place file for state %s (%s)", statefp, path)
            continue
        frame = _read_cb_state_cached(path)
        frames.append(frame[frame["GEOID"].isin(wanted)])
    if not frames:
        return gpd.GeoDataFrame({"GEOID": []}, geometry=gpd.GeoSeries([], crs=SOURCE_CRS))
    cb = pd.concat(frames, ignore_index=True)
    if cb["GEOID"].duplicated().any():
        raise ValueError(f"duplicate GEOIDs in CB 2015: {sorted(cb.loc[cb['GEOID'].duplicated(), 'GEOID'])}")
    cb = gpd.GeoDataFrame(cb, geometry="geometry", crs=frames[0].crs).to_crs(SOURCE_CRS)
    return cb.sort_values("GEOID").reset_index(drop=True)


def _parse_count(cell: str) -> int | None:
    cell = cell.strip()
    if cell in ("", "(X)"):
        return None
    return int(cell.replace(",", ""))


def read_pep_2019(sources: Path, path: Path | None = None) -> pd.DataFrame:
    """Parse the PEP Vintage 2019 place table (788 places of 50,000+).

    The file is the Census spreadsheet saved as CSV: a title row, two header rows, data rows whose first
    cell is the rank, then notes and citation rows; numbers carry thousands separators and "(X)" marks a
    place incorporated after 2010. Columns are found from the header text, never by position.

    Returns one row per place: ``statefp``, ``state_name``, ``namelsad`` (the Census name exactly as printed,
    e.g. "Indianapolis city (balance)"), ``rank_2019``, ``census_2010`` (nullable) and ``pop_2019``.
    """
    path = Path(path) if path is not None else Path(sources) / PEP_CSV
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    try:
        head = next(i for i, row in enumerate(rows) if row[:2] == ["Rank", "Geographic Area"])
    except StopIteration:
        raise ValueError(f"{path}: no 'Rank, Geographic Area' header row") from None
    years = [c.strip() for c in rows[head + 1]]
    col_2019 = years.index("2019")
    col_census = years.index("Census")
    state_table = read_state_table(sources)
    state_fips = dict(zip(state_table["NAME"], state_table["STATEFP"], strict=True))

    records = []
    for row in rows[head + 2 :]:
        if not row or not row[0].strip().isdigit():
            continue  # notes, citation, release date
        area = row[1].strip()
        namelsad, sep, state_name = area.rpartition(", ")
        if not sep or state_name not in state_fips:
            raise ValueError(f"{path}: cannot split place and state in {area!r}")
        pop = _parse_count(row[col_2019])
        if pop is None:
            raise ValueError(f"{path}: no 2019 estimate for {area!r}")
        records.append(
            {
                "statefp": state_fips[state_name],
                "state_name": state_name,
                "namelsad": namelsad,
                "rank_2019": int(row[0]),
                "census_2010": _parse_count(row[col_census]),
                "pop_2019": pop,
            }
        )
    pep = pd.DataFrame.from_records(records)
    pep["census_2010"] = pep["census_2010"].astype("Int64")
    key = pep[["statefp", "namelsad"]]
    if key.duplicated().any():
        raise ValueError(f"{path}: duplicate state + name rows: {key[key.duplicated()].to_dict('records')}")
    return pep


def match_pep_population(places: pd.DataFrame, pep: pd.DataFrame) -> dict[str, int]:
    """Map GEOID -> 2019 estimate by exact (state FIPS, NAMELSAD) equality.

    ``places`` needs ``geoid``, ``statefp`` and ``namelsad``. Exact equality on purpose: "Jackson city"
    must not catch "Jacksonville city", and Jackson TN must not get Jackson MS's number. Places not in the
    table (under 50,000, e.g. West Memphis) are absent from the result and logged.
    """
    lookup = {(r.statefp, r.namelsad): int(r.pop_2019) for r in pep.itertuples(index=False)}
    out: dict[str, int] = {}
    missing = []
    for r in places.itertuples(index=False):
        value = lookup.get((r.statefp, r.namelsad))
        if value is None:
            missing.append(f"{r.geoid} {r.namelsad}")
        else:
            out[r.geoid] = value
    used = [(r.statefp, r.namelsad) for r in places.itertuples(index=False)]
    if len(set(used)) != len(used):
        raise ValueError("two places share a state + NAMELSAD; the population match would be ambiguous")
    if missing:
        log.warning("not in the PEP 2019 table (population left null): %s", "; ".join(missing))
    return out


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
    """The map's place universe: the program cities plus every place of 100,000+ (sorted, unique)."""
    programs = pd.read_csv(programs_csv, dtype={"geoid": str})
    return _validate_geoids([*programs["geoid"], *read_tiger_places(sources)["GEOID"]])


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


def _drop_small_parts(geom: BaseGeometry, min_km2: float) -> BaseGeometry:
    """Drop islands under ``min_km2`` (measured equal-area); always keeps the largest part."""
    parts = gpd.GeoSeries(list(shapely.get_parts(geom)), crs=DISPLAY_CRS)
    areas = parts.to_crs(EQUAL_AREA_CRS).area.to_numpy()
    keep = [p for p, a in zip(parts, areas, strict=True) if a >= min_km2 * 1e6]
    if not keep:
        keep = [parts.iloc[int(np.argmax(areas))]]
    return keep[0] if len(keep) == 1 else MultiPolygon(keep)


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
