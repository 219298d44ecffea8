"""Checks for the configuration files: ``offences.csv`` and ``theme.json``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.data.validate.readers import (
    _first_bad,
    _is_number,
    parse_count_column,
    parse_json,
    read_csv_strict,
    read_text,
)
from dashboard.data.validate.rules import check_choice, check_not_blank, check_unique
from dashboard.errors import DataFileError
from dashboard.schema import OFFENCES

COLOUR_PATTERN = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
OFFENCE_CONFIG_COLUMNS = ("offence", "label", "group", "rape_linked", "order")
OFFENCE_GROUPS = ("violent", "property")
THEME_COLOURS = (
    "city_colour",
    "national_colour",
    "no_data_colour",
    "state_line_colour",
    "program_outline_colour",
)
THEME_NUMBERS = ("font_size", "title_size", "map_zoom")
THEME_COLORSCALES = ("ratio_colorscale", "rate_colorscale")


# ----------------------------------------------------------------------------------------------------
# Config: offences.csv and theme.json
# ----------------------------------------------------------------------------------------------------


def load_offence_config(path: Path) -> pd.DataFrame:
    """offences.csv, checked: exactly the schema's offences, once each, with a label, group and order."""
    frame = read_csv_strict(path, OFFENCE_CONFIG_COLUMNS)
    check_choice(frame, "offence", OFFENCES, path)
    check_unique(frame, ("offence",), path)
    absent = [o for o in OFFENCES if o not in set(frame["offence"])]
    if absent:
        raise DataFileError(path, f"no row for offence(s): {', '.join(absent)}")
    check_not_blank(frame, ("label",), path)
    check_choice(frame, "group", OFFENCE_GROUPS, path)
    lowered = frame["rape_linked"].str.strip().str.lower()
    bad = ~lowered.isin(("true", "false"))
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path, f"column 'rape_linked' must be true or false, found {frame['rape_linked'][index]!r}", index
        )
    order = parse_count_column(frame, "order", path)
    if order.isna().any():
        raise DataFileError(path, "column 'order' is empty", _first_bad(frame, order.isna()))
    result = frame.copy()
    result["rape_linked"] = lowered == "true"
    result["order"] = order.astype(int)
    return result


def load_theme(path: Path) -> dict[str, Any]:
    """theme.json, checked: the colours, sizes and colour scales the figures read."""
    path = Path(path)
    text = read_text(path)
    theme = parse_json(text, path, reject_duplicate_keys=True)
    if not isinstance(theme, dict):
        raise DataFileError(path, "must be a JSON object")

    def fail(key: str, problem: str) -> DataFileError:
        """An error at the line where ``key`` is written (None if it is not there)."""
        match = re.search(r'"' + re.escape(key) + r'"\s*:', text)
        return DataFileError(path, problem, text.count("\n", 0, match.start()) + 1 if match else None)

    def need(key: str) -> Any:
        if key not in theme:
            raise fail(key, f"missing key {key!r}")
        return theme[key]

    if not isinstance(need("font_family"), str) or not theme["font_family"].strip():
        raise fail("font_family", "'font_family' must be a non-empty string")
    for key in THEME_NUMBERS:
        if not _is_number(need(key)) or need(key) <= 0:
            raise fail(key, f"{key!r} must be a positive number, found {theme[key]!r}")
    for key in THEME_COLOURS:
        if not isinstance(need(key), str) or not COLOUR_PATTERN.match(theme[key]):
            raise fail(key, f"{key!r} must be a colour like '#b2182b', found {theme[key]!r}")
    from plotly.colors import get_colorscale  # only needed here; plotly is imported by the app anyway

    for key in THEME_COLORSCALES:
        try:
            get_colorscale(need(key))
        except Exception as exc:  # plotly raises its own PlotlyError for unknown names
            raise fail(key, f"{key!r} is not a plotly colour scale name: {theme[key]!r}") from exc
    cohorts = need("cohort_colours")
    if not isinstance(cohorts, dict) or "other" not in cohorts:
        raise fail("cohort_colours", "'cohort_colours' must be an object with an 'other' entry")
    for name, colour in cohorts.items():
        if not isinstance(colour, str) or not COLOUR_PATTERN.match(colour):
            raise fail(name, f"cohort_colours[{name!r}] must be a colour, found {colour!r}")
    centre = need("map_center")
    if (
        not isinstance(centre, dict)
        or not _is_number(centre.get("lat"))
        or not _is_number(centre.get("lon"))
        or not (-90 <= centre["lat"] <= 90 and -180 <= centre["lon"] <= 180)
    ):
        raise fail(
            "map_center", f"'map_center' must be {{'lat': ..., 'lon': ...}} in degrees, found {centre!r}"
        )
    return theme
