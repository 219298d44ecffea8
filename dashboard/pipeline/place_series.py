"""Every place of the FBI city tables, year by year (issue 13): rows behind the all-places map & ranking.

``places_year.csv`` keeps each city-table row as the FBI printed it (counts, population), with the Census
place it matched (``geoid``, empty when none), its FBI population group and what kind of place it is, so a
county subdivision or an unmatched row stays in the tables, the ranking and the CSV with its figures, only
off the map. ``places.csv`` gives each matched place its name and the gazetteer's internal point, which the
map draws as a dot sized by population (no polygon: 9,000 outlines would bury the large cities at national
zoom and cost megabytes).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import source_errors
from dashboard.pipeline.places import GAZETTEER, base_name
from dashboard.schema import OFFENCES, PLACES_COLUMNS, PLACES_YEAR_COLUMNS

PLACE_KIND_OF_REASON = {  # places.match_all_rows' unmatched_reason -> place_kind
    "": "census place",
    "county subdivision": "county subdivision",
    "ambiguous": "unmatched: ambiguous name",
    "not in the 2010 gazetteer": "unmatched: not in the 2010 gazetteer",
    "several jurisdictions": "several jurisdictions",
    "not a city police": "not a city police",
}


def places_year_rows(matched: pd.DataFrame, city_rows: pd.DataFrame) -> pd.DataFrame:
    """One row per city-table row: ``matched`` (:func:`places.match_all_rows`) beside the counts of
    ``city_rows`` (the same rows, same index), sorted by year, state and agency."""
    out = city_rows[["state", "agency", "year", "population", *OFFENCES, "rape_definition", "source"]].copy()
    # the study universe's match first (it knows places renamed or consolidated after 2010, e.g. Macon-Bibb
    # County GA, 1349008, where the 2010 gazetteer has the old Macon city): one GEOID per place in the atlas
    universe = city_rows["geoid"] if "geoid" in city_rows else pd.Series(pd.NA, index=city_rows.index)
    out["geoid"] = universe.where(universe.notna(), matched["place_geoid"].reindex(out.index))
    out["peer_group"] = matched["peer_group"].reindex(out.index)
    reasons = matched["unmatched_reason"].reindex(out.index).fillna("").where(universe.isna(), "")
    out["place_kind"] = [PLACE_KIND_OF_REASON.get(r, f"unmatched: {r}") for r in reasons]
    out["year"] = out["year"].astype(int)
    for column in ("population", *OFFENCES):
        out[column] = out[column].astype("Int64")
    out = out.sort_values(["year", "state", "agency"], kind="stable")
    return out[list(PLACES_YEAR_COLUMNS)].reset_index(drop=True)


def place_points(sources: Path, geoids: set[str]) -> pd.DataFrame:
    """Name ("West Memphis, AR") and internal point (2010 gazetteer, 4 decimals: ~10 m) of each place."""
    path = Path(sources) / GAZETTEER
    with source_errors(path):
        frame = pd.read_csv(path, sep="\t", encoding="latin-1", dtype=str)
    frame.columns = [c.strip() for c in frame.columns]
    frame = frame[frame["GEOID"].isin(geoids)]
    out = pd.DataFrame(
        {
            "geoid": frame["GEOID"],
            "name": frame["NAME"].map(base_name) + ", " + frame["STUSPS"],
            "state": frame["STUSPS"],
            "lon": frame["INTPTLONG"].astype(float).round(4),
            "lat": frame["INTPTLAT"].astype(float).round(4),
        }
    )
    return out.sort_values("geoid").reset_index(drop=True)[list(PLACES_COLUMNS)]
