"""FBI/BJS UCR Data Tool exports (``crime/ChrisBeaumont__crime``): rates turned back into counts.

The UCR Data Tool (ucrdatatool.gov, now retired) published **rates per 100,000** only, rounded
to one decimal. The project works in counts (rates are always re-derived from counts in
:mod:`dashboard.data`), so every count here is reconstructed as::

    count = round_half_up(rate x population / 100,000)

Because the printed rate is rounded to 0.1, the reconstruction can be off by up to
0.05 x population / 100,000 before the final rounding: about +/-1 for an agency of
2 million people (Houston 2010: 22,491 here, 22,491 in CIUS Table 8), less than 1 for most
100k+ agencies, about +/-4 for New York City and about +/-100 for the national series.
Every reconstructed row says so in ``notes``.

Provenance and caveats: ``shared/sources/crime/PROVENANCE.md`` section 1.3.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.pipeline.io import check_source_csv, source_errors
from dashboard.schema import OFFENCES, RAW_CITY_COLUMNS

log = logging.getLogger(__name__)

FOLDER = Path("crime") / "ChrisBeaumont__crime"
CITY_FILE = FOLDER / "city_crime.csv"
STATE_FILE = FOLDER / "state_crime.csv"

SOURCE = "FBI UCR Data Tool"
SOURCE_KIND = "ucr_data_tool"
RECONSTRUCTED_NOTE = "count reconstructed from UCR Data Tool rate x population"
NO_RAPE_NOTE = "rape rate not in the UCR Data Tool for this agency-year, so there is no violent total"

# Our offence -> the UCR Data Tool's rate column (identical names in city_crime.csv and state_crime.csv).
RATE_COLUMNS: dict[str, str] = {
    "violent_crime": "Violent Crime rate",
    "murder": "Murder",
    "rape": "Rape",
    "robbery": "Robbery",
    "aggravated_assault": "Assault",
    "property_crime": "Property",
    "burglary": "Burglary",
    "larceny_theft": "Larceny",
    "motor_vehicle_theft": "Vehicular",
}
PER = 100_000


def counts_from_rates(rates: pd.Series, population: pd.Series) -> pd.Series:
    """Reconstruct counts from rates per 100,000: round half up, <NA> where rate or population is missing.

    Half-up (not Python's banker's rounding) so that a count never depends on whether it is even.
    """
    raw = rates.astype("Float64") * population.astype("Float64") / PER
    return np.floor(raw + 0.5).astype("Int64")


def whole_population(values: pd.Series) -> pd.Series:
    """Population as Int64, refusing non-integral values instead of silently truncating them."""
    floats = pd.to_numeric(values, errors="raise").astype("Float64")
    fractional = floats.notna() & (floats != np.floor(floats))
    if fractional.any():
        raise ValueError(f"non-integral population values: {floats[fractional].head().tolist()}")
    return floats.astype("Int64")


def parse_ucr_data_tool_cities(sources: Path) -> pd.DataFrame:
    """Agencies of 100,000+ people, 1985-2012, as counts (``schema.RAW_CITY_COLUMNS``).

    One row per agency-year as printed. Rows where every offence rate is blank (for example
    Toledo 1988) are dropped: a population alone is not a crime figure. A blank rate stays
    <NA> (never 0). Chicago, Springfield IL and other Illinois agencies have no rape rate and
    hence no violent rate, because their rape data did not meet UCR guidelines.
    All years are before 2013, so the rape definition is the legacy one.
    """
    path = Path(sources) / CITY_FILE
    text = check_source_csv(path)
    with source_errors(path):
        return _cities_from_rates(pd.read_csv(io.StringIO(text), dtype={"Agency": str, "State": str}), path)


def _cities_from_rates(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    missing = set(RATE_COLUMNS.values()) | {"Agency", "State", "Population", "Year"}
    missing -= set(raw.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")

    population = whole_population(raw["Population"])
    out = pd.DataFrame(
        {
            "state": raw["State"].str.strip(),
            "agency": raw["Agency"],
            "year": raw["Year"].astype(int),
            "population": population,
        }
    )
    for offence in OFFENCES:
        out[offence] = counts_from_rates(raw[RATE_COLUMNS[offence]], population)

    has_offence = out[list(OFFENCES)].notna().any(axis=1)
    if (~has_offence).any():
        log.info(
            "UCR Data Tool: dropped %d agency-years with no offence rates at all", int((~has_offence).sum())
        )
    out = out[has_offence].copy()

    no_rape = out["rape"].isna() & out["violent_crime"].isna()
    out["notes"] = RECONSTRUCTED_NOTE
    out.loc[no_rape, "notes"] = f"{RECONSTRUCTED_NOTE} | {NO_RAPE_NOTE}"
    out["rape_definition"] = "legacy"
    out["source"] = SOURCE
    out["source_kind"] = SOURCE_KIND

    if out.duplicated(["state", "agency", "year"]).any():
        raise ValueError(f"{path}: duplicate agency-years")
    out["months_reported"] = pd.array([pd.NA] * len(out), dtype="Int64")  # the Data Tool does not say
    log.info("UCR Data Tool: %d agency-years, %d-%d", len(out), out["year"].min(), out["year"].max())
    return out[list(RAW_CITY_COLUMNS)].sort_values(["state", "agency", "year"]).reset_index(drop=True)


def parse_ucr_data_tool_national(sources: Path) -> pd.DataFrame:
    """The "United States-Total" rows of ``state_crime.csv`` (1960-2012) as counts.

    Columns: year, population and the nine offences (Int64). Used by
    :mod:`dashboard.pipeline.sources.national` for the years no other source covers.
    """
    path = Path(sources) / STATE_FILE
    text = check_source_csv(path)
    with source_errors(path):
        return _national_from_rates(pd.read_csv(io.StringIO(text), dtype={"State": str}), path)


def _national_from_rates(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    us = raw[raw["State"].str.strip() == "United States-Total"]
    if us.empty:
        raise ValueError(f"{path}: no 'United States-Total' rows")
    population = whole_population(us["Population"])
    out = pd.DataFrame({"year": us["Year"].astype(int), "population": population})
    for offence in OFFENCES:
        out[offence] = counts_from_rates(us[RATE_COLUMNS[offence]], population)
    if out["year"].duplicated().any():
        raise ValueError(f"{path}: duplicate United States-Total years")
    return out.sort_values("year").reset_index(drop=True)
