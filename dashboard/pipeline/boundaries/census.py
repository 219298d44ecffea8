"""Census readers: state table, TIGER/Line and CB 2015 place files, PEP 2019 population."""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

SOURCE_CRS = "EPSG:4269"  # NAD83 lon/lat, all Census files here
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

# --- processing parameters ----------------------------------------------------------------------------
