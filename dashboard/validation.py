"""Start-up checks for the files in ``geodata/``.

A malformed data file must stop the app with a message naming the file, the line and
the problem, never produce a half-working dashboard. Every check here raises
:class:`DataFileError` with that information.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .pipeline.schema import OFFENCES, RAPE_DEFINITIONS

GEOID_PATTERN = re.compile(r"^\d{7}$")
YEAR_RANGE = (1900, 2100)

CITY_YEAR_COLUMNS = ("geoid", "year", "population", *OFFENCES, "rape_definition", "source", "notes")
NATIONAL_COLUMNS = ("year", "population", *OFFENCES, "rape_definition", "source", "notes")
PROGRAM_COLUMNS = ("geoid", "program", "cohort", "role", "announced", "source_url")
BREAK_COLUMNS = ("geoid", "year_from", "year_to", "kind", "offences", "note", "source")
CITY_PROPERTIES = ("geoid", "name", "state", "label", "population", "land_km2", "lon", "lat")


class DataFileError(ValueError):
    """A data file is missing or malformed; the message says which file, where and what."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {problem}")


def _line_of(index: int) -> int:
    """File line of a DataFrame row read with a header (1-based, header is line 1)."""
    return int(index) + 2


def read_csv_strict(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """Read a CSV as text and check that every required column is there."""
    if not path.is_file():
        raise DataFileError(path, "file is missing")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"is not UTF-8 text ({exc})") from exc
    check_row_shapes(text, path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(path, f"cannot be parsed as CSV ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataFileError(path, f"missing column(s): {', '.join(missing)}", line=1)
    if frame.empty:
        raise DataFileError(path, "has a header but no data rows")
    return frame


def check_row_shapes(text: str, path: Path) -> None:
    """Every row has as many fields as the header, and the file ends with a newline.

    Both catch a file cut short mid-row, which pandas would silently pad with blanks.
    """
    if text and not text.endswith("\n"):
        raise DataFileError(
            path, "does not end with a newline: the file looks truncated", text.count("\n") + 1
        )
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        raise DataFileError(path, "is empty")
    for number, row in enumerate(rows, start=2):
        if row and len(row) != len(header):
            raise DataFileError(
                path, f"has {len(row)} fields, expected {len(header)} (truncated or shifted row)", number
            )


def parse_count_column(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Non-negative integer counts; an empty cell is missing (<NA>), never 0."""
    text = frame[column].str.strip()
    numeric = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (text != "") & (numeric.isna() | (numeric < 0) | (numeric % 1 != 0))
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path,
            f"column '{column}' must be a whole non-negative number, found {text[index]!r}",
            _line_of(index),
        )
    return numeric.astype("Int64")


def parse_year_column(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    years = parse_count_column(frame, column, path)
    bad = years.isna() | (years < YEAR_RANGE[0]) | (years > YEAR_RANGE[1])
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path, f"column '{column}' has an invalid year {frame[column][index]!r}", _line_of(index)
        )
    return years.astype(int)


def check_geoids(frame: pd.DataFrame, path: Path) -> None:
    bad = ~frame["geoid"].str.match(GEOID_PATTERN)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(path, f"geoid must be 7 digits, found {frame['geoid'][index]!r}", _line_of(index))


def check_unique(frame: pd.DataFrame, key: Sequence[str], path: Path) -> None:
    duplicated = frame.duplicated(subset=list(key), keep="first")
    if duplicated.any():
        index = duplicated[duplicated].index[0]
        values = ", ".join(f"{k}={frame[k][index]}" for k in key)
        raise DataFileError(path, f"duplicate row for {values}", _line_of(index))


def check_choice(frame: pd.DataFrame, column: str, allowed: Sequence[str], path: Path) -> None:
    bad = ~frame[column].isin(allowed)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path,
            f"column '{column}' must be one of {', '.join(allowed)}, found {frame[column][index]!r}",
            _line_of(index),
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
    check_unique(result, key, path)
    empty = result[list(OFFENCES)].isna().all(axis=1) & result["population"].isna()
    if empty.any():
        index = empty[empty].index[0]
        raise DataFileError(
            path, "row has no population and no offence count (truncated row?)", _line_of(index)
        )
    return result


def load_feature_collection(path: Path, required: Sequence[str]) -> dict:
    """A GeoJSON FeatureCollection whose features all carry the required properties."""
    if not path.is_file():
        raise DataFileError(path, "file is missing")
    try:
        with open(path, encoding="utf-8") as handle:
            collection = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise DataFileError(path, f"is not valid JSON ({exc.__class__.__name__}: {exc})", line) from exc
    if collection.get("type") != "FeatureCollection" or not isinstance(collection.get("features"), list):
        raise DataFileError(path, "is not a GeoJSON FeatureCollection")
    if not collection["features"]:
        raise DataFileError(path, "has no features")
    for number, feature in enumerate(collection["features"], start=1):
        props = feature.get("properties") or {}
        missing = [k for k in required if k not in props]
        geometry = feature.get("geometry") or {}
        if missing:
            raise DataFileError(path, f"feature {number} lacks properties: {', '.join(missing)}")
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise DataFileError(path, f"feature {number} has no polygon geometry")
    return collection
