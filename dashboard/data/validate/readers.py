"""Strict readers for CSV and JSON files: every problem names the file, line and value."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.errors import DataFileError

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


def _clip(value: object, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


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


YEAR_RANGE = (1900, 2100)
