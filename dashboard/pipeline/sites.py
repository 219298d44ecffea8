"""Program sites that are not in the 100,000+ place universe: small cities and counties (issue 12).

The place universe (``build.universe_places``) is every place of 100,000+ plus the program cities of the
TIGER/Line file. PSP sites added since 2018 include smaller cities (Anniston and Oxford AL, Salisbury NC,
Saginaw MI, Gary IN) and two counties. A small city takes its name from the Census CB 2015 place file,
the same file its outline comes from, so the FBI rows for it are matched like any other place's; a county
never goes through the name matcher (its figures come from the county table, by GEOID).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from dashboard.pipeline.boundaries.census import (
    CB_PLACE_ZIP,
    CB_STATE_ZIP,
    read_cb2015_places,
    read_state_table,
)
from dashboard.pipeline.boundaries.counties import is_county_geoid
from dashboard.pipeline.io import check_zip
from dashboard.pipeline.names import Place
from dashboard.pipeline.sources.cius_counties import parse_county_sites

_SHAPEFILE = (".shp", ".dbf", ".shx")


def county_geoids(geoids: Iterable[str]) -> list[str]:
    """The 5-digit (county) GEOIDs among ``geoids``, sorted and unique."""
    return sorted({g for g in geoids if is_county_geoid(g)})


def place_geoids(geoids: Iterable[str]) -> list[str]:
    """The 7-digit (place) GEOIDs among ``geoids``, sorted and unique."""
    return sorted({g for g in geoids if not is_county_geoid(g)})


def cb_places(sources: Path, geoids: Iterable[str]) -> list[Place]:
    """Places named by the CB 2015 place files (NAME and state), for program cities the TIGER files lack.

    The archives are checked first, so a broken one is reported by name, as the boundary step does."""
    geoids = sorted(set(geoids))
    if not geoids:
        return []
    check_zip(Path(sources) / CB_STATE_ZIP, _SHAPEFILE)
    for statefp in sorted({g[:2] for g in geoids}):
        path = Path(sources) / str(CB_PLACE_ZIP).format(statefp=statefp)
        if path.exists():
            check_zip(path, _SHAPEFILE)
    cb = read_cb2015_places(sources, geoids)
    if cb.empty:
        return []
    states = read_state_table(sources)
    usps = dict(zip(states["STATEFP"], states["STUSPS"], strict=True))
    return [Place(str(r.GEOID), usps[str(r.STATEFP)], str(r.NAME)) for r in cb.itertuples(index=False)]


def with_county_rows(raw: pd.DataFrame, sources: Path, programs: pd.DataFrame) -> pd.DataFrame:
    """``raw`` (matched source rows) plus the county sites' county-table rows, which carry their GEOID."""
    counties = county_geoids(programs["geoid"])
    if not counties:
        return raw
    rows = parse_county_sites(sources, counties)
    return pd.concat([raw, rows[list(raw.columns)]], ignore_index=True)
