"""Generic column rules shared by the table and config checks: GEOIDs, patterns, choices, uniqueness."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from dashboard.data.validate.readers import (
    _clip,
    _first_bad,
    _line_of,
)
from dashboard.errors import DataFileError

# A Census place GEOID (7 digits: state + place FIPS) or, for the few county program sites (Harris County
# TX, DeKalb County GA), a county GEOID (5 digits: state + county FIPS).
GEOID_PATTERN = re.compile(r"^(\d{7}|\d{5})$")


def check_geoids(frame: pd.DataFrame, path: Path) -> None:
    bad = ~frame["geoid"].str.match(GEOID_PATTERN)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path,
            f"geoid must be 7 digits (place) or 5 digits (county), found {frame['geoid'][index]!r}",
            _line_of(index),
        )


def check_pattern(frame: pd.DataFrame, column: str, pattern: re.Pattern[str], what: str, path: Path) -> None:
    bad = ~frame[column].str.match(pattern)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path, f"column '{column}' must be {what}, found {frame[column][index]!r}", _line_of(index)
        )


def check_unique(frame: pd.DataFrame, key: Sequence[str], path: Path) -> None:
    """One row per key; the message names the repeated row and the line it first appeared on."""
    duplicated = frame.duplicated(subset=list(key), keep="first")
    if duplicated.any():
        index = duplicated[duplicated].index[0]
        values = ", ".join(f"{k}={_clip(frame[k][index])}" for k in key)
        same = (frame[list(key)] == frame.loc[index, list(key)]).all(axis=1)
        first = same[same].index[0]
        raise DataFileError(
            path, f"duplicate row for {values} (first on line {_line_of(first)})", _line_of(index)
        )


def check_choice(frame: pd.DataFrame, column: str, allowed: Sequence[str], path: Path) -> None:
    bad = ~frame[column].isin(allowed)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path,
            f"column '{column}' must be one of {', '.join(allowed)}, found {frame[column][index]!r}",
            _line_of(index),
        )


def check_not_blank(frame: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    """Text columns that every row must fill (a label, a citation)."""
    for column in columns:
        bad = frame[column].str.strip() == ""
        if bad.any():
            raise DataFileError(path, f"column '{column}' is empty", _first_bad(frame, bad))
