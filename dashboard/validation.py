"""Start-up checks for the files in ``geodata/`` and ``dashboard/config/``.

A malformed data file must stop the app with a message naming the file, the line (or the
GeoJSON feature) and the problem, never produce a half-working dashboard. Every check here
raises :class:`DataFileError` with that information. CSV tables are read into DataFrames whose
index is the file line of each row, so every later check can point at the line it refuses.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.pipeline.schema import OFFENCES, RAPE_DEFINITIONS

GEOID_PATTERN = re.compile(r"^\d{7}$")
STATEFP_PATTERN = re.compile(r"^\d{2}$")
USPS_PATTERN = re.compile(r"^[A-Z]{2}$")
COLOUR_PATTERN = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# programs.csv "announced": ISO date, or year-month / year where only that is documented.
ANNOUNCED_PATTERN = re.compile(r"^(19|20)\d\d(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
YEAR_RANGE = (1900, 2100)

CITY_YEAR_COLUMNS = ("geoid", "year", "population", *OFFENCES, "rape_definition", "source", "notes")
NATIONAL_COLUMNS = ("year", "population", *OFFENCES, "rape_definition", "source", "notes")
PROGRAM_COLUMNS = ("geoid", "program", "cohort", "role", "announced", "source_url")
BREAK_COLUMNS = ("geoid", "year_from", "year_to", "kind", "offences", "note", "source")
OFFENCE_CONFIG_COLUMNS = ("offence", "label", "group", "rape_linked", "order")
CITY_PROPERTIES = ("geoid", "name", "state", "label", "population", "land_km2", "lon", "lat")
STATE_PROPERTIES = ("statefp", "state", "name")
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


class DataFileError(ValueError):
    """A data file is missing or malformed; the message says which file, where and what.

    ``unit`` names what ``line`` counts ("line" for text files, "row" for spreadsheet rows).
    """

    def __init__(self, path: Path, problem: str, line: int | None = None, *, unit: str = "line") -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}" + (f", {unit} {line}" if line is not None else "")
        super().__init__(f"{where}: {problem}")


# ----------------------------------------------------------------------------------------------------
# Text and CSV
# ----------------------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text; a missing, unreadable, empty or non-UTF-8 file is refused.

    A UTF-8 byte-order mark is accepted (spreadsheet programs add one) and dropped.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "file is missing")
    if not path.is_file():
        raise DataFileError(path, "is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise DataFileError(path, "is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataFileError(
            path,
            f"is not valid UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
            "(save the file as UTF-8)",
            line,
        ) from exc
    if "\x00" in text:
        raise DataFileError(
            path, "contains NUL bytes: not a text file", text.count("\n", 0, text.index("\x00")) + 1
        )
    return text


def _line_of(index: int) -> int:
    """File line of a row of a table read by :func:`read_csv_strict` (its index is the line)."""
    return int(index)


def check_row_shapes(text: str, path: Path) -> None:
    """Every row has as many fields as the header, and the file ends with a newline.

    Both catch a file cut short mid-row, which pandas would silently pad with blanks.
    """
    _parse_csv_rows(text, path)


def _parse_csv_rows(text: str, path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and the file line each row starts on.

    Refused: no final newline (a file cut mid-row), a row with too few or too many fields,
    an unterminated quote, a blank line followed by more data (a row lost in an edit).
    """
    if not text.endswith("\n"):
        raise DataFileError(
            path, "does not end with a newline: the file looks truncated", text.count("\n") + 1
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DataFileError(path, f"header cannot be parsed as CSV ({exc})", 1) from exc
    if not header or not any(h.strip() for h in header):
        raise DataFileError(path, "first line is not a CSV header", 1)
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DataFileError(path, f"column(s) named twice in the header: {', '.join(duplicated)}", 1)
    rows: list[list[str]] = []
    lines: list[int] = []
    blank_at: int | None = None
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataFileError(
                path, f"cannot be parsed as CSV ({exc}); truncated or unbalanced quotes?", previous_end + 1
            ) from exc
        start = previous_end + 1
        previous_end = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            blank_at = blank_at or start
            continue
        if blank_at is not None:
            raise DataFileError(path, "blank line inside the table (a row is missing?)", blank_at)
        if len(row) != len(header):
            raise DataFileError(
                path, f"has {len(row)} fields, expected {len(header)} (truncated or shifted row)", start
            )
        rows.append(row)
        lines.append(start)
    return header, rows, lines


def read_csv_strict(path: Path, required: Sequence[str], *, exact: bool = False) -> pd.DataFrame:
    """A CSV as text columns, indexed by file line; every required column must be there.

    ``exact`` also refuses columns that are not in ``required`` (an unknown offence column
    in a crime table would otherwise be silently ignored).
    """
    path = Path(path)
    header, rows, lines = _parse_csv_rows(read_text(path), path)
    missing = [c for c in required if c not in header]
    if missing:
        raise DataFileError(path, f"missing column(s): {', '.join(missing)}", line=1)
    if exact:
        extra = [c for c in header if c not in required]
        if extra:
            raise DataFileError(path, f"unknown column(s): {', '.join(extra)}", line=1)
    if not rows:
        raise DataFileError(path, "has a header but no data rows (truncated?)")
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=str)
    return frame.astype(str)


def _first_bad(frame: pd.DataFrame, bad: pd.Series) -> int:
    return _line_of(bad[bad].index[0])


def parse_count_column(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Non-negative whole numbers written as plain digits; an empty cell is missing (<NA>), never 0."""
    text = frame[column].str.strip()
    filled = text != ""
    numeric = pd.to_numeric(text.where(filled), errors="coerce")
    bad = filled & (~text.str.isdigit() | numeric.isna() | (text.str.len() > 15))
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path,
            f"column '{column}' must be a whole non-negative number, found {text[index]!r}",
            _line_of(index),
        )
    return numeric.astype("Int64")


def parse_year_column(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Four-digit years in a plausible range; a blank year is refused (every row needs one)."""
    text = frame[column].str.strip()
    years = pd.to_numeric(text.where(text.str.fullmatch(r"\d{4}")), errors="coerce")
    bad = years.isna() | (years < YEAR_RANGE[0]) | (years > YEAR_RANGE[1])
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path, f"column '{column}' must be a year, found {frame[column][index]!r}", _line_of(index)
        )
    return years.astype(int)


def check_geoids(frame: pd.DataFrame, path: Path) -> None:
    bad = ~frame["geoid"].str.match(GEOID_PATTERN)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(path, f"geoid must be 7 digits, found {frame['geoid'][index]!r}", _line_of(index))


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


def _clip(value: object, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


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


def check_pattern(frame: pd.DataFrame, column: str, pattern: re.Pattern[str], what: str, path: Path) -> None:
    bad = ~frame[column].str.match(pattern)
    if bad.any():
        index = bad[bad].index[0]
        raise DataFileError(
            path, f"column '{column}' must be {what}, found {frame[column][index]!r}", _line_of(index)
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
    check_geoids(frame, path)
    check_not_blank(frame, ("program", "cohort", "role", "source_url"), path)
    check_pattern(frame, "announced", ANNOUNCED_PATTERN, "a date like 2017-06-20, 2016-09 or 2014", path)
    check_unique(frame, ("geoid", "program"), path)
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


def _reject_duplicate_keys(path: Path, text: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """JSON object hook: a key given twice is an editing slip (json would silently keep the last)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                spots = [m.start() for m in re.finditer(r'"' + re.escape(key) + r'"\s*:', text)]
                line = text.count("\n", 0, spots[1]) + 1 if len(spots) > 1 else None
                raise DataFileError(path, f"key {key!r} appears twice in one object", line)
            seen[key] = value
        return seen

    return hook


def _reject_constant(path: Path, text: str) -> Callable[[str], float]:
    """JSON parse_constant hook: NaN and Infinity are not JSON numbers (Python accepts them)."""

    def hook(name: str) -> float:
        match = re.search(r"[\[,:]\s*(" + re.escape(name) + r")\b", text)
        line = text.count("\n", 0, match.start(1)) + 1 if match else None
        raise DataFileError(path, f"{name} is not a valid JSON number (non-finite value)", line)

    return hook


def parse_json(text: str, path: Path, *, reject_duplicate_keys: bool = False) -> Any:
    """A JSON document; a cut or garbled file is refused with the line where parsing stopped."""
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant(path, text),
            object_pairs_hook=_reject_duplicate_keys(path, text) if reject_duplicate_keys else None,
        )
    except json.JSONDecodeError as exc:
        cut = not text.rstrip().endswith(("}", "]"))  # a whole document ends with its closing bracket
        hint = "; the file looks truncated" if cut else ""
        raise DataFileError(
            path, f"is not valid JSON ({exc.msg}, column {exc.colno}){hint}", exc.lineno
        ) from exc
    except RecursionError as exc:
        raise DataFileError(path, "is not valid JSON: nested too deeply") from exc


def load_json(path: Path, *, reject_duplicate_keys: bool = False) -> Any:
    path = Path(path)
    return parse_json(read_text(path), path, reject_duplicate_keys=reject_duplicate_keys)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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


# ----------------------------------------------------------------------------------------------------
# GeoJSON
# ----------------------------------------------------------------------------------------------------


def _feature_lines(text: str, count: int) -> list[int | None]:
    """File line of each feature when the file has the pipeline's one-feature-per-line layout."""
    lines = text.split("\n")
    if len(lines) == count + 3 and lines[-1] == "" and all(line.startswith("{") for line in lines[1:-2]):
        return list(range(2, count + 2))
    return [None] * count


_NUMBER_TYPES = (int, float)


def _in_feature(error: DataFileError, text: str, key: str | None) -> DataFileError:
    """Add "feature N (key value)" to a JSON-level error on a line that holds one whole feature."""
    lines = text.split("\n")
    if error.line is None or not 2 <= error.line <= len(lines) or not lines[0].endswith('"features":['):
        return error
    line = lines[error.line - 1]
    if not line.startswith('{"'):
        return error
    match = re.search(r'"' + re.escape(key or "") + r'":"?([^",}]*)', line) if key else None
    name = f"feature {error.line - 1}" + (f" ({key} {match[1]})" if match else "")
    return DataFileError(error.path, f"{name}: {error.problem}", error.line)


def _check_ring(ring: Any) -> str | None:
    """A closed ring of at least 4 [lon, lat] positions with finite, in-range numbers.

    Written as one tight loop: cities.geojson has ~100,000 positions and this runs at start-up.
    NaN fails every comparison and infinity fails the range test, so both are caught.
    """
    if not isinstance(ring, list) or len(ring) < 4:
        return "a polygon ring needs at least 4 positions"
    for position in ring:
        if (
            type(position) is not list
            or not 2 <= len(position) <= 3
            or type(position[0]) not in _NUMBER_TYPES
            or type(position[1]) not in _NUMBER_TYPES
            or not -180 <= position[0] <= 180
            or not -90 <= position[1] <= 90
        ):
            return f"invalid coordinate {str(position)[:60]} (needs finite [lon, lat] in degrees)"
    if ring[0] != ring[-1]:
        return "a polygon ring is not closed (first and last positions differ)"
    return None


def _check_polygon(rings: Any) -> str | None:
    if not isinstance(rings, list) or not rings:
        return "a polygon must be a non-empty list of rings"
    for ring in rings:
        problem = _check_ring(ring)
        if problem:
            return problem
    return None


def check_geometry(geometry: Any) -> str | None:
    """The problem with a Polygon/MultiPolygon geometry, or None when it is usable for the map."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "has no polygon geometry"
    coordinates = geometry.get("coordinates")
    if geometry["type"] == "Polygon":
        return _check_polygon(coordinates)
    if not isinstance(coordinates, list) or not coordinates:
        return "a MultiPolygon needs at least one polygon"
    for polygon in coordinates:
        problem = _check_polygon(polygon)
        if problem:
            return problem
    return None


def load_feature_collection(
    path: Path, required: Sequence[str], key: str | None = None
) -> tuple[dict, list[int | None]]:
    """A GeoJSON FeatureCollection whose features all carry the required properties and polygons.

    ``key`` names the identifying property (unique, reported with the feature number in errors).
    Returns the collection and the file line of each feature (None when not one per line).
    """
    path = Path(path)
    text = read_text(path)
    try:
        collection = parse_json(text, path)
    except DataFileError as exc:
        raise _in_feature(exc, text, key) from exc.__cause__
    if (
        not isinstance(collection, dict)
        or collection.get("type") != "FeatureCollection"
        or not isinstance(collection.get("features"), list)
    ):
        raise DataFileError(path, "is not a GeoJSON FeatureCollection")
    features = collection["features"]
    if not features:
        raise DataFileError(path, "has no features")
    lines = _feature_lines(text, len(features))
    seen: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        line = lines[number - 1]
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise DataFileError(path, f"feature {number} has no properties object", line)
        name = f"feature {number}" + (f" ({key} {props.get(key)})" if key and key in props else "")
        missing = [k for k in required if k not in props]
        if missing:
            raise DataFileError(path, f"{name} lacks properties: {', '.join(missing)}", line)
        problem = check_geometry(feature.get("geometry"))
        if problem:
            raise DataFileError(path, f"{name}: {problem}", line)
        if key:
            value = str(props[key])
            if value in seen:
                raise DataFileError(path, f"{name} repeats the {key} of feature {seen[value]}", line)
            seen[value] = number
    return collection, lines


def _bad_city_property(props: dict[str, Any]) -> str | None:
    if not isinstance(props["geoid"], str) or not GEOID_PATTERN.match(props["geoid"]):
        return f"geoid must be a 7-digit string, found {props['geoid']!r}"
    for text_key in ("name", "label"):
        if not isinstance(props[text_key], str) or not props[text_key].strip():
            return f"{text_key!r} must be a non-empty string, found {props[text_key]!r}"
    if not isinstance(props["state"], str) or not USPS_PATTERN.match(props["state"]):
        return f"'state' must be a USPS code like 'TN', found {props['state']!r}"
    population = props["population"]
    if population is not None and (not _is_number(population) or population < 0 or population % 1):
        return f"'population' must be a whole number or null, found {population!r}"
    if not _is_number(props["land_km2"]) or props["land_km2"] < 0:
        return f"'land_km2' must be a non-negative number, found {props['land_km2']!r}"
    if not (_is_number(props["lon"]) and -180 <= props["lon"] <= 180):
        return f"'lon' must be a longitude, found {props['lon']!r}"
    if not (_is_number(props["lat"]) and -90 <= props["lat"] <= 90):
        return f"'lat' must be a latitude, found {props['lat']!r}"
    return None


def load_cities(path: Path) -> tuple[dict, dict[str, tuple[int, int | None]]]:
    """cities.geojson: one feature per city with valid attributes, polygons and unique geoids.

    Returns the collection and geoid -> (feature number, file line) for later cross-file messages.
    """
    path = Path(path)
    collection, lines = load_feature_collection(path, CITY_PROPERTIES, key="geoid")
    where: dict[str, tuple[int, int | None]] = {}
    for number, feature in enumerate(collection["features"], start=1):
        props = feature["properties"]
        problem = _bad_city_property(props)
        if problem:
            raise DataFileError(
                path, f"feature {number} (geoid {props['geoid']}): {problem}", lines[number - 1]
            )
        where[props["geoid"]] = (number, lines[number - 1])
    return collection, where


def load_states(path: Path) -> dict:
    """states.geojson: the backdrop outlines, one feature per state FIPS code."""
    path = Path(path)
    collection, lines = load_feature_collection(path, STATE_PROPERTIES, key="statefp")
    for number, feature in enumerate(collection["features"], start=1):
        props = feature["properties"]
        if not isinstance(props["statefp"], str) or not STATEFP_PATTERN.match(props["statefp"]):
            problem = f"'statefp' must be a 2-digit string, found {props['statefp']!r}"
        elif not isinstance(props["state"], str) or not USPS_PATTERN.match(props["state"]):
            problem = f"'state' must be a USPS code, found {props['state']!r}"
        else:
            continue
        raise DataFileError(
            path, f"feature {number} (statefp {props['statefp']}): {problem}", lines[number - 1]
        )
    return collection
