"""The Marshall Project's city-crime file (``crime/themarshallproject__city-crime``): violent crime 1975-2015.

68 large agencies plus a "National" row per year. Counts come from the ICPSR "Offenses Known
and Clearances by Arrest" files; 2015 from CIUS 2015 (Table 8, or Table 10 for county police);
gaps were filled by the Marshall Project from state programmes or the agencies themselves (the
file's own ``source`` column says which). Notably Chicago has a rape count, and so a violent
total, for 1985-2013 when the FBI published none. See ``shared/sources/crime/PROVENANCE.md`` 1.1.

The file has no property offences; those columns are <NA>. Its "National" rows are the US series,
which :func:`parse_marshall_national` returns for cross-checking the national series only.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import check_source_csv, source_errors
from dashboard.pipeline.sources.kaplan import (
    STATE_USPS,
    city_key,
    cius_city_rape_definitions,
    rape_definition_for,
)
from dashboard.schema import OFFENCES, RAW_CITY_COLUMNS

log = logging.getLogger(__name__)

FILE = Path("crime") / "themarshallproject__city-crime" / "ucr_crime_1975_2015.csv"
SOURCE = "Marshall Project city-crime (ICPSR/CIUS)"
SOURCE_KIND = "marshall_project"
NATIONAL_LABEL = "National"

_COUNT_COLUMNS: dict[str, str] = {
    "violent_crime": "violent_crime",
    "murder": "homs_sum",
    "rape": "rape_sum",
    "robbery": "rob_sum",
    "aggravated_assault": "agg_ass_sum",
}
# ORI prefixes are NCIC state codes; they equal USPS codes except this one.
_NCIC_TO_USPS: dict[str, str] = {"NB": "NE"}
# The Marshall Project's README: the victims of 11 September 2001 were removed from NYC's 2001 murders.
_SEPT_11 = ("NY03030", 2001)
SEPT_11_NOTE = "murders exclude the victims of 11 September 2001 (Marshall Project adjustment, as in CIUS)"
CIUS_2015_LABEL = "Crime in the U.S. 2015"


def _read(sources: Path) -> pd.DataFrame:
    path = Path(sources) / FILE
    text = check_source_csv(path)
    with source_errors(path):
        raw = pd.read_csv(
            io.StringIO(text), dtype={"ORI": str, "department_name": str, "source": str, "url": str}
        )
    needed = {
        "ORI",
        "year",
        "department_name",
        "total_pop",
        "months_reported",
        "source",
        *_COUNT_COLUMNS.values(),
    }
    if needed - set(raw.columns):
        raise ValueError(f"{path}: missing columns {sorted(needed - set(raw.columns))}")
    return raw


def _counts(raw: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(raw[column], errors="raise").astype("Float64")
    if (values.notna() & (values != values.round())).any():
        raise ValueError(f"Marshall: non-integral values in {column}")
    return values.astype("Int64")


def _state_from_ori(ori: pd.Series) -> pd.Series:
    prefix = ori.str[:2].str.upper()
    state = prefix.replace(_NCIC_TO_USPS)
    unknown = sorted(set(state.dropna()) - set(STATE_USPS.values()))
    if unknown:
        raise ValueError(f"Marshall: ORI prefixes that are not states: {unknown}")
    return state


def _city_keys(department_name: str) -> list[str]:
    """CIUS city-table spellings to try for a Marshall label ("Memphis, Tenn." -> "memphis", ...)."""
    base = city_key(department_name.split(",")[0])
    keys = [base, f"{base} metropolitan", f"{base} metro", f"{base} metropolitan police department"]
    if base.endswith(" city"):
        keys.append(base.removesuffix(" city"))
    return keys


def parse_marshall(sources: Path) -> pd.DataFrame:
    """Agency rows (not "National") as ``schema.RAW_CITY_COLUMNS``; property offences <NA>.

    * state: USPS code from the first two letters of the ORI (the NCIC code "NB" is Nebraska, "NE").
    * Rows without any offence count (Louisville before 2003, Cincinnati 1997-1998 and four
      2015 rows that have only a population) are dropped.
    * notes: "N of 12 months reported" where the file says fewer than 12 (the ICPSR count), the
      non-FBI provider where the Marshall Project filled the row from one, and "population is the
      2014 value" where a 2015 row repeats 2014's population.
    * rape_definition: legacy before 2013; from 2013 the agency's own definition, read from the
      CIUS city table of that year where it has the agency (see :mod:`.kaplan`).
    """
    raw = _read(sources)
    with source_errors(Path(sources) / FILE):
        return _agency_rows(raw, sources)


def _agency_rows(raw: pd.DataFrame, sources: Path) -> pd.DataFrame:
    raw = raw[raw["department_name"].str.strip() != NATIONAL_LABEL].reset_index(drop=True)
    if raw["ORI"].isna().any():
        raise ValueError("Marshall: agency rows without an ORI")

    out = pd.DataFrame(
        {
            "ori": raw["ORI"].str.strip(),
            "state": _state_from_ori(raw["ORI"].str.strip()),
            "agency": raw["department_name"],
            "year": raw["year"].astype(int),
            "population": _counts(raw, "total_pop"),
        }
    )
    for offence in OFFENCES:
        out[offence] = _counts(raw, _COUNT_COLUMNS[offence]) if offence in _COUNT_COLUMNS else pd.NA
        out[offence] = out[offence].astype("Int64")
    months = pd.to_numeric(raw["months_reported"], errors="raise")
    provider = raw["source"].fillna("").str.strip()

    has_offence = out[list(_COUNT_COLUMNS)].notna().any(axis=1)
    if (~has_offence).any():
        dropped = out.loc[~has_offence, ["agency", "year"]].values.tolist()
        log.info("Marshall: dropped %d agency-years with no counts: %s", len(dropped), dropped)

    population_2014 = out[out["year"] == 2014].set_index("ori")["population"]
    lookup = cius_city_rape_definitions(sources)
    notes: list[str] = []
    definitions: list[str] = []
    for i, row in out.iterrows():
        parts: list[str] = []
        if pd.notna(months.iat[i]) and months.iat[i] == 0:
            parts.append(
                "the FBI file has no monthly report behind this count: the months it covers are not stated"
            )
        elif pd.notna(months.iat[i]) and months.iat[i] < 12:
            parts.append(f"{int(months.iat[i])} of 12 months reported")
        if provider.iat[i] and provider.iat[i] != CIUS_2015_LABEL:
            parts.append(f"figures from {provider.iat[i]} (via the Marshall Project), not the FBI file")
        if (row["ori"], row["year"]) == _SEPT_11:
            parts.append(SEPT_11_NOTE)
        if (
            row["year"] == 2015
            and pd.notna(row["population"])
            and row["population"] == population_2014.get(row["ori"])
        ):
            parts.append("population is the 2014 value (Marshall Project)")
        definition, note = rape_definition_for(
            lookup, row["state"], _city_keys(row["agency"]), int(row["year"])
        )
        if note and pd.notna(row["rape"]):
            parts.append(note)
        definitions.append(definition)
        notes.append(" | ".join(parts))
    # 1-12 as the file gives it; 0 (a count with no monthly report, e.g. a year-end total a state agency
    # supplied) and blanks say nothing about the months the count covers, so they become <NA>
    out["months_reported"] = pd.array(
        [int(m) if pd.notna(m) and 1 <= m <= 12 else pd.NA for m in months], dtype="Int64"
    )
    out["rape_definition"] = definitions
    out["notes"] = notes
    out["source"] = SOURCE
    out["source_kind"] = SOURCE_KIND
    out = out[has_offence]

    if out.duplicated(["state", "agency", "year"]).any():
        raise ValueError("Marshall: duplicate agency-years")
    log.info("Marshall: %d agency-years, %d agencies", len(out), out["agency"].nunique())
    return out[list(RAW_CITY_COLUMNS)].sort_values(["state", "agency", "year"]).reset_index(drop=True)


def parse_marshall_national(sources: Path) -> pd.DataFrame:
    """The "National" rows: year, murder and violent_crime (Int64). For cross-checks only."""
    raw = _read(sources)
    with source_errors(Path(sources) / FILE):
        return _national_rows(raw)


def _national_rows(raw: pd.DataFrame) -> pd.DataFrame:
    national = raw[raw["department_name"].str.strip() == NATIONAL_LABEL].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "year": national["year"].astype(int),
            "murder": _counts(national, "homs_sum"),
            "violent_crime": _counts(national, "violent_crime"),
        }
    )
    return out.sort_values("year").reset_index(drop=True)
