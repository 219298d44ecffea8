"""Rules for the contract tables (city-year, national, programs, breaks) and across them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dashboard.data.validate.config import check_choice, check_not_blank, check_unique
from dashboard.data.validate.readers import _first_bad, _line_of, parse_count_column, parse_year_column
from dashboard.data.validate.rules import check_geoids, check_pattern
from dashboard.errors import DataFileError
from dashboard.schema import (
    OFFENCES,
    OUTCOME_COLUMNS,
    OUTCOME_VERDICTS,
    PEER_COLUMNS,
    PEER_GROUPS,
    RAPE_DEFINITIONS,
    cohort_slug,
)

# programs.csv "announced": ISO date, or year-month / year where only that is documented.
ANNOUNCED_PATTERN = re.compile(r"^(19|20)\d\d(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")

CITY_YEAR_COLUMNS = (
    "geoid", "year", "population", *OFFENCES, "rape_definition", "source", "notes", "months_reported",
)  # fmt: skip
NATIONAL_COLUMNS = ("year", "population", *OFFENCES, "rape_definition", "source", "notes")
PROGRAM_COLUMNS = ("geoid", "program", "cohort", "role", "announced", "source_url")
# Later columns of programs.csv (issue 12), optional so that an older file still loads: the value each
# takes when its column is absent.
PROGRAM_OPTIONAL_COLUMNS: dict[str, str] = {
    "site": "",
    "name": "",
    "cohort_id": "",  # filled from the cohort label when empty
    "geography": "place",
    "status": "confirmed",
    "source_title": "",
    "source_date": "",
    "note": "",
}
PROGRAM_GEOGRAPHIES = ("place", "county")
PROGRAM_STATUSES = ("confirmed", "unconfirmed")
BREAK_COLUMNS = ("geoid", "year_from", "year_to", "kind", "offences", "note", "source")
# geodata/README.md lists the kinds; "not_published" is used by the committed breaks.csv too.
BREAK_KINDS = (
    "jurisdiction",
    "coverage",
    "partial_year",
    "partial_state",
    "not_comparable",
    "missing",
    "not_published",
    "rape_excluded",
    "rape_definition",
)


def validate_crime_table(frame: pd.DataFrame, path: Path, key: Sequence[str]) -> pd.DataFrame:
    """Typed copy of a city-year or national-year table, or a DataFileError."""
    result = frame.copy()
    if "geoid" in key:
        check_geoids(result, path)
    result["year"] = parse_year_column(result, "year", path)
    for column in ("population", *OFFENCES):
        result[column] = parse_count_column(result, column, path)
    check_choice(result, "rape_definition", RAPE_DEFINITIONS, path)
    if "months_reported" in result:  # city-years: 1-12 where a source states the months, else empty
        result["months_reported"] = parse_count_column(result, "months_reported", path)
        bad = result["months_reported"].notna() & ~result["months_reported"].between(1, 12)
        if bad.any():
            raise DataFileError(path, "months_reported must be empty or 1-12", _first_bad(result, bad))
    check_not_blank(result, ("source",), path)
    check_unique(result, key, path)
    empty = result[list(OFFENCES)].isna().all(axis=1) & result["population"].isna()
    if empty.any():
        raise DataFileError(
            path, "row has no population and no offence count (truncated row?)", _first_bad(result, empty)
        )
    return result


def validate_national_years(national: pd.DataFrame, path: Path) -> None:
    """The US series has no gap between its first and last year (a lost row would leave one)."""
    years = sorted(set(national["year"]))
    gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    if gaps:
        raise DataFileError(path, f"no row for year(s) {', '.join(map(str, gaps[:10]))} (rows missing?)")


def check_national_coverage(crime: pd.DataFrame, national: pd.DataFrame, national_path: Path) -> None:
    """Every city figure has a national figure for the same year and rape definition to compare with."""
    have = set(zip(national["year"], national["rape_definition"], strict=True))
    needed = crime[["year", "rape_definition"]].drop_duplicates()
    missing = [(y, d) for y, d in needed.itertuples(index=False) if (y, d) not in have]
    if missing:
        year, definition = sorted(missing)[0]
        raise DataFileError(
            national_path,
            f"no row for year {year} ({definition} rape definition), which crime_city_year.csv needs "
            "(file truncated?)",
        )


def check_known_geoids(frame: pd.DataFrame, known: set[str], path: Path, against: str) -> None:
    """Every geoid of a table has a boundary (a feature in cities.geojson)."""
    bad = ~frame["geoid"].isin(known)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path, f"geoid {frame['geoid'][index]} has no boundary in {against}", _line_of(index)
        )


def validate_programs(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """programs.csv with every optional column present: one row per site and cohort (Kansas City is a 2017
    and a 2018 site), a county site has a 5-digit GEOID, and ``cohort_id`` is the cohort's URL form."""
    frame = frame.copy()
    for column, default in PROGRAM_OPTIONAL_COLUMNS.items():
        if column not in frame.columns:
            frame[column] = default
    frame["cohort_id"] = frame["cohort_id"].where(frame["cohort_id"] != "", frame["cohort"].map(cohort_slug))
    check_geoids(frame, path)
    check_not_blank(frame, ("program", "cohort", "role", "source_url"), path)
    check_pattern(frame, "announced", ANNOUNCED_PATTERN, "a date like 2017-06-20, 2016-09 or 2014", path)
    dated = frame[frame["source_date"] != ""]
    check_pattern(dated, "source_date", ANNOUNCED_PATTERN, "empty or a date like 2018-09-04, 2018-09", path)
    check_choice(frame, "geography", PROGRAM_GEOGRAPHIES, path)
    check_choice(frame, "status", PROGRAM_STATUSES, path)
    county = frame["geography"] == "county"
    wrong = county != (frame["geoid"].str.len() == 5)
    if wrong.any():
        problem = "a county site needs a 5-digit county GEOID and a place a 7-digit one"
        raise DataFileError(path, problem, _first_bad(frame, wrong))
    slug_differs = frame["cohort_id"] != frame["cohort"].map(cohort_slug)
    if slug_differs.any():
        problem = "column 'cohort_id' must be the cohort's URL form (\"PSP 2017\" -> psp-2017)"
        raise DataFileError(path, problem, _first_bad(frame, slug_differs))
    check_unique(frame, ("geoid", "program", "cohort"), path)
    return frame


def validate_breaks(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Typed breaks table: known kinds, known offences, year_from <= year_to."""
    result = frame.copy()
    check_geoids(result, path)
    result["year_from"] = parse_year_column(result, "year_from", path)
    result["year_to"] = parse_year_column(result, "year_to", path)
    reversed_span = result["year_from"] > result["year_to"]
    if reversed_span.any():
        raise DataFileError(path, "year_from is after year_to", _first_bad(result, reversed_span))
    check_choice(result, "kind", BREAK_KINDS, path)
    for index, value in result["offences"].items():
        names = [name.strip() for name in value.split(";")]
        unknown = [name for name in names if name not in OFFENCES]
        if value.strip() != "all" and unknown:
            raise DataFileError(
                path,
                f"column 'offences' must be 'all' or a ';'-separated list of offences; "
                f"unknown offence {unknown[0]!r}",
                _line_of(index),
            )
    check_not_blank(result, ("note", "source"), path)
    check_unique(result, tuple(BREAK_COLUMNS), path)
    return result


def validate_peer_groups(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Typed copy of peer_groups_year.csv: known groups, counts and populations as integers, unique keys."""
    result = frame.copy()
    result["year"] = parse_year_column(result, "year", path)
    check_choice(result, "peer_group", tuple(g for g, *_ in PEER_GROUPS), path)
    for column in PEER_COLUMNS[2:-3]:
        result[column] = parse_count_column(result, column, path)
    check_unique(result, ("year", "peer_group"), path)
    return result.reset_index(drop=True)


def _parse_signed_column(frame: pd.DataFrame, column: str, path: Path, *, whole: bool) -> pd.Series:
    """Signed numbers (a gap, years since joining); an empty cell is missing, never 0."""
    text = frame[column].str.strip()
    filled = text != ""
    numeric = pd.to_numeric(text.where(filled), errors="coerce")
    pattern = r"-?\d{1,6}" if whole else r"-?\d{1,9}(\.\d+)?"
    bad = filled & (numeric.isna() | ~text.str.fullmatch(pattern))
    if bad.any():
        index = bad[bad].index[0]
        found = text[index]
        raise DataFileError(path, f"column '{column}' must be a number, found {found!r}", _line_of(index))
    return numeric.astype("Int64" if whole else "float64")


def validate_outcomes(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Typed copy of outcomes.csv (issue 14): known verdicts, numbers where numbers go, one row per key."""
    result = frame.copy()
    check_geoids(result, path)
    check_not_blank(result, ("site", "cohort"), path)
    result["year"] = parse_year_column(result, "year", path)
    result["years_since_joining"] = _parse_signed_column(result, "years_since_joining", path, whole=True)
    numbers = ("value", "comparison_value", "gap", "pre_fit_rmspe", "placebo_gap_low", "placebo_gap_high")
    for column in numbers:
        result[column] = _parse_signed_column(result, column, path, whole=False)
    for column in ("placebo_rank", "placebo_count"):
        result[column] = parse_count_column(result, column, path)
    check_choice(result, "verdict", OUTCOME_VERDICTS, path)
    check_unique(result, ("cohort", "geoid", "year"), path)
    return result[list(OUTCOME_COLUMNS)].reset_index(drop=True)
