"""Checks for the all-places files (issue 13): places_year.csv (every city-table row), places.csv (points)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboard.data.validate.readers import parse_count_column, parse_year_column
from dashboard.data.validate.rules import check_choice, check_geoids, check_not_blank, check_unique
from dashboard.errors import DataFileError
from dashboard.schema import OFFENCES, PEER_GROUPS, PLACE_KINDS


def validate_places_year(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Typed copy: counts and populations as integers (empty = not available), known groups and kinds, at
    most one row per Census place and year."""
    result = frame.copy()
    result["year"] = parse_year_column(result, "year", path)
    for column in ("population", *OFFENCES):
        result[column] = parse_count_column(result, column, path)
    check_not_blank(result, ("state", "agency", "source"), path)
    check_choice(result, "place_kind", PLACE_KINDS, path)
    check_choice(result, "peer_group", ("", *(g for g, *_ in PEER_GROUPS)), path)
    placed = result[result["geoid"] != ""]
    check_geoids(placed, path)
    check_unique(placed, ("geoid", "year"), path)
    return result.reset_index(drop=True)


def validate_place_points(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Typed copy of places.csv: one row per GEOID, a name, a point inside the United States' extent."""
    result = frame.copy()
    check_geoids(result, path)
    check_unique(result, ("geoid",), path)
    check_not_blank(result, ("name", "state"), path)
    for column, low, high in (("lon", -180.0, -60.0), ("lat", 15.0, 72.0)):
        values = pd.to_numeric(result[column], errors="coerce")
        bad = values.isna() | (values < low) | (values > high)
        if bad.any():
            index = int(bad[bad].index[0])
            raise DataFileError(path, f"column '{column}' must be a number from {low} to {high}", index + 2)
        result[column] = values
    return result.reset_index(drop=True)
