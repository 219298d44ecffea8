"""FBI "Crime in the United States" (CIUS) city tables: Table 8 (2010, 2013-15, 2017-19) and Table 6 (2016).

The city table is the highest-precedence city source (``cius_city_table``), so this parser keeps the
published figures exactly: a blank cell is <NA> (the FBI left it out on purpose, e.g. Chicago's rape counts
before 2014), never 0, and each row carries the FBI footnotes that the table glues to the city or state name.

The layouts differ per edition (one rape column until 2012, a revised and a legacy column 2013-2016, one
revised-only column from 2017; the 2010 copy is an edited file without title rows), so columns are located by
their header text, never by position. The helpers for that are shared with :mod:`.cius_msa` and
:mod:`.cius_county`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlrd

from dashboard.pipeline.io import read_source_bytes, source_errors
from dashboard.pipeline.schema import OFFENCES, RAW_CITY_COLUMNS

log = logging.getLogger(__name__)

COUNT_COLUMNS: tuple[str, ...] = ("population", *OFFENCES)
SOURCE_KIND = "cius_city_table"
REVISED_RAPE_FROM = 2013  # first edition that prints revised-definition rape
REVISED_ONLY_FROM = 2017  # first edition that prints revised-definition rape only

STATE_CODES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN",
    "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD",
    "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO",
    "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ",
    "NEW MEXICO": "NM", "NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH",
    "OKLAHOMA": "OK", "OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA",
    "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY", "PUERTO RICO": "PR",
}  # fmt: skip
USPS_CODES: frozenset[str] = frozenset(STATE_CODES.values())

# "Chicago7", "Mobile4,5", "Louisville Metro6, 7", "City of Abilene2, 3": footnote numbers glued to a label.
_MARKS = re.compile(r"^(?P<label>.*?[^\d\s,])\s*(?P<marks>\d{1,2}(?:\s*,\s*\d{1,2})*)\s*$")
# A footnote row at the bottom of a sheet: "6 The FBI determined ..." (2019 prints "8Arson offenses ...").
_FOOTNOTE = re.compile(r"^\s*(?P<num>\d{1,2})\s*(?P<text>[A-Za-z].*)$", re.S)
_INTEGER_TEXT = re.compile(r"^\d{1,3}(?:,\d{3})*$|^\d+$")


# ----------------------------------------------------------------------------------------------------
# Shared helpers (also used by cius_msa and cius_county)
# ----------------------------------------------------------------------------------------------------


def clean_label(text: object) -> str:
    """A printed label with line breaks and runs of blanks collapsed (some names are padded: "Central  ")."""
    return " ".join(str(text).split())


def split_marks(label: str) -> tuple[str, tuple[int, ...]]:
    """Split footnote numbers off a printed label: "Louisville Metro6, 7" -> ("Louisville Metro", (6, 7))."""
    label = clean_label(label)
    match = _MARKS.match(label)
    if not match:
        return label, ()
    marks = tuple(int(m) for m in re.split(r"\s*,\s*", match["marks"]))
    return match["label"], marks


def state_code(printed: str) -> str:
    """USPS code for a printed state name, footnote digits allowed ("ILLINOIS5" -> "IL"); "" if unknown."""
    name, _ = split_marks(printed)
    return STATE_CODES.get(name.upper(), "")


def header_key(text: object) -> str:
    """Header text reduced to letters, so "Larceny-\\ntheft" and "Murder and non-negligent man-  slaughter"
    match across editions."""
    label, _ = split_marks(str(text))
    return re.sub(r"[^a-z]", "", label.lower())


def detect_columns(header: Sequence[object], year: int) -> dict[str, int]:
    """Map schema fields to column positions by header text, so each edition's own layout is honoured.

    Rape gets one of three keys: ``rape_revised``, ``rape_legacy`` (2013-2016 city tables print both, and
    pre-2013 "Forcible rape" is legacy) or ``rape_mixed`` (the 2013-2016 MSA tables add up both definitions).
    Index totals, "Modified Crime Index" and arson are ignored.
    """
    found: dict[str, int] = {}
    for pos, text in enumerate(header):
        key = header_key(text)
        name: str | None = None
        if key == "population":
            name = "population"
        elif key.startswith("violentcrime"):
            name = "violent_crime"
        elif key.startswith("murder"):
            name = "murder"
        elif key.startswith("rape") or key.startswith("forciblerape"):
            if "revised" in key:
                name = "rape_revised"
            elif "legacy" in key or key.startswith("forcible") or year < REVISED_RAPE_FROM:
                name = "rape_legacy"
            elif year >= REVISED_ONLY_FROM:
                name = "rape_revised"
            else:
                name = "rape_mixed"
        elif key == "robbery":
            name = "robbery"
        elif key.startswith("aggravatedassault"):
            name = "aggravated_assault"
        elif key.startswith("propertycrime"):
            name = "property_crime"
        elif key == "burglary":
            name = "burglary"
        elif key.startswith("larceny"):
            name = "larceny_theft"
        elif key.startswith("motorvehicletheft"):
            name = "motor_vehicle_theft"
        if name is None:
            continue
        if name in found:
            raise ValueError(f"header {list(header)!r}: two columns read as {name!r}")
        found[name] = pos
    return found


def require_columns(found: dict[str, int], *, population: bool, where: str) -> None:
    """Fail loudly when an edition's header lacks an offence: a silent <NA> column would pass for data."""
    needed = [c for c in COUNT_COLUMNS if c != "rape" and (population or c != "population")]
    missing = [c for c in needed if c not in found]
    if not any(k.startswith("rape_") for k in found):
        missing.append("rape")
    if missing:
        raise ValueError(f"{where}: no column found for {missing}")


def parse_count(value: object, *, dash_is_zero: bool = False, where: str = "") -> int | None:
    """A printed count as int; None for a blank cell (never 0). "1,234 " is fine; "-" is 0 only where the
    table says dashes mean a zero report (CIUS 2000)."""
    if type(value) is float and value.is_integer():  # the common case: an xls number cell
        return int(value)
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{where}: unexpected boolean cell")
    if isinstance(value, int | float):
        if value != int(value):
            log.warning("%s: non-integer count %r read as <NA>", where, value)
            return None
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if text == "-" and dash_is_zero:
        return 0
    if _INTEGER_TEXT.match(text):
        return int(text.replace(",", ""))
    log.warning("%s: unreadable count %r read as <NA>", where, text)
    return None


def footnote_row(cells: Sequence[object]) -> tuple[int, str] | None:
    """(number, text) when a row is a footnote: a single text cell starting with its number and no counts."""
    filled = [c for c in cells if not (isinstance(c, str) and not c.strip()) and c is not None]
    if len(filled) != 1 or not isinstance(filled[0], str):
        return None
    match = _FOOTNOTE.match(filled[0])
    if not match:
        return None
    return int(match["num"]), clean_label(match["text"])


@dataclass
class Footnotes:
    """The numbered footnotes at the bottom of one sheet, plus unnumbered remarks ("Dashes (-) ...")."""

    texts: dict[int, str] = field(default_factory=dict)
    remarks: list[str] = field(default_factory=list)

    def add(self, number: int, text: str, where: str) -> None:
        old = self.texts.get(number)
        if old is not None and old != text:
            log.warning("%s: footnote %d printed twice with different text; keeping the first", where, number)
            return
        self.texts[number] = text

    def notes(self, marks: Iterable[int], where: str) -> list[str]:
        """Plain-language notes for footnote numbers; arson footnotes are dropped with the arson column."""
        out: list[str] = []
        for mark in marks:
            text = self.texts.get(mark)
            if text is None:
                log.warning("%s: footnote %d is referenced but not printed", where, mark)
                out.append(f"FBI footnote {mark} (its text is missing from the table)")
            elif re.search(r"\barson\b", text, re.I):
                continue
            else:
                out.append(f"FBI footnote: {text}")
        return out


def read_footnotes(rows: Sequence[Sequence[object]], start: int, where: str) -> Footnotes:
    """Collect the footnotes printed from ``start`` on; continuation lines join the previous note."""
    notes = Footnotes()
    last: int | None = None
    for cells in rows[start:]:
        if all(c == "" for c in cells):  # MSA15.csv pads to 65,536 rows
            continue
        parsed = footnote_row(cells)
        if parsed is not None:
            notes.add(parsed[0], parsed[1], where)
            last = parsed[0]
            continue
        text = " ".join(clean_label(c) for c in cells if isinstance(c, str) and c.strip())
        if not text or any(isinstance(c, int | float) and not isinstance(c, bool) for c in cells):
            continue
        if (
            last is not None
            and not re.match(r"^(NOTE|Dashes|Due to rounding)", text, re.I)
            and text[0].islower()
        ):
            notes.texts[last] = f"{notes.texts[last]} {text}"
        elif last is not None:
            notes.remarks.append(text)
    return notes


def pick_rape(values: dict[str, int | None], year: int) -> tuple[int | None, str]:
    """The row's rape figure and its definition: revised where that cell is filled, else legacy.

    That is the figure the FBI's violent-crime total for the row includes (2013-2016 tables print both
    columns, and an agency fills only one). Before 2013 everything is legacy, from 2017 revised only.
    """
    revised, legacy = values.get("rape_revised"), values.get("rape_legacy")
    if revised is not None:
        return revised, "revised"
    if legacy is not None:
        return legacy, "legacy"
    return None, ("revised" if year >= REVISED_ONLY_FROM else "legacy")


def finish_frame(records: list[dict], *, what: str) -> pd.DataFrame:
    """Records -> the RAW_CITY_COLUMNS frame with nullable Int64 counts; duplicates are logged and dropped."""
    frame = pd.DataFrame.from_records(records, columns=list(RAW_CITY_COLUMNS))
    for column in COUNT_COLUMNS:
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    frame["year"] = frame["year"].astype("int64")
    for column in ("state", "agency", "rape_definition", "source", "source_kind", "notes"):
        frame[column] = frame[column].fillna("").astype(str)
    return drop_duplicate_keys(frame, what=what)


def drop_duplicate_keys(frame: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """Keep one row per (source, state, agency, year): identical repeats are dropped quietly, differing ones
    keep the first row and are logged as errors so the build output shows them."""
    key = ["source", "state", "agency", "year"]
    dup = frame.duplicated(key, keep=False)
    if not dup.any():
        return frame.reset_index(drop=True)
    for _, group in frame[dup].groupby(key, sort=True):
        values = group[list(COUNT_COLUMNS)].astype("string").fillna("<NA>")
        level = logging.WARNING if len(values.drop_duplicates()) == 1 else logging.ERROR
        first = group.iloc[0]
        log.log(
            level,
            "%s: %d rows for %s / %s / %s / %s%s; keeping the first",
            what,
            len(group),
            first["source"],
            first["state"],
            first["agency"],
            first["year"],
            "" if level == logging.WARNING else " with different figures",
        )
    return frame.drop_duplicates(key, keep="first").reset_index(drop=True)


def read_xls_rows(path: Path) -> list[list[object]]:
    """Cell values of the first sheet (the CIUS workbooks have one); empty cells become "".

    A truncated or garbled workbook stops the build with a SourceFileError naming the file
    (xlrd itself fails with bare IndexErrors or struct errors deep in its BIFF reader).
    """
    read_source_bytes(path)  # missing or empty file: a plain message, not an xlrd error
    with source_errors(path, "as an Excel .xls workbook"):
        book = xlrd.open_workbook(str(path), on_demand=True)
        try:
            if book.nsheets != 1:
                log.warning("%s: %d sheets, reading the first", path.name, book.nsheets)
            sheet = book.sheet_by_index(0)
            return [sheet.row_values(r) for r in range(sheet.nrows)]
        finally:
            book.release_resources()


def find_header(rows: Sequence[Sequence[object]], label_keys: tuple[str, ...], where: str) -> int:
    """Index of the header row: the first row (within the top 15) naming the label column and "Population" or
    "Violent crime" (county tables have no population)."""
    for index, cells in enumerate(rows[:15]):
        keys = {header_key(c) for c in cells if isinstance(c, str)}
        if keys & set(label_keys) and any(k.startswith(("population", "violentcrime")) for k in keys):
            return index
    raise ValueError(f"{where}: no header row with {label_keys} found")


def title_year(rows: Sequence[Sequence[object]], header_index: int) -> int | None:
    """The year printed in the title rows ("by State by City, 2015"), if the copy still has them."""
    for cells in rows[:header_index]:
        for cell in cells:
            match = re.search(r",\s*((?:19|20)\d\d)\b", str(cell))
            if match:
                return int(match[1])
    return None


# ----------------------------------------------------------------------------------------------------
# City tables
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CityTable:
    """One CIUS city-table file and what the FBI called it."""

    path: Path
    year: int
    table: int

    @property
    def source(self) -> str:
        return f"FBI CIUS {self.year} Table {self.table}"


_TABLE_FILE = re.compile(
    r"^Table_(?P<table>\d+)_Offenses_Known_to_Law_Enforcement_by_State_by_City_(?P<year>\d{4})"
)
_EDITED_2010 = re.compile(r"^(?P<yy>\d\d)tbl(?P<table>\d\d)\.xls$")  # eam17's edited copy: "10tbl08.xls"


def find_city_tables(sources: Path) -> list[CityTable]:
    """Every CIUS city table under ``sources/crime`` (file names carry edition year and table number)."""
    found: list[CityTable] = []
    for path in sorted((Path(sources) / "crime").rglob("*.xls")):
        match = _TABLE_FILE.match(path.name)
        if match:
            found.append(CityTable(path, int(match["year"]), int(match["table"])))
            continue
        match = _EDITED_2010.match(path.name)
        if match:
            found.append(CityTable(path, 2000 + int(match["yy"]), int(match["table"])))
    years = [t.year for t in found]
    if len(set(years)) != len(years):
        raise ValueError(f"two city tables for one edition: {sorted(years)}")
    return sorted(found, key=lambda t: t.year)


def parse_city_table(table: CityTable) -> list[dict]:
    """Rows of one city table as RAW_CITY_COLUMNS records (see :func:`parse_city_tables`)."""
    with source_errors(table.path):
        return _parse_city_table(table)


def _parse_city_table(table: CityTable) -> list[dict]:
    where = f"{table.source} ({table.path.name})"
    rows = read_xls_rows(table.path)
    header_index = find_header(rows, ("city",), where)
    header = rows[header_index]
    printed_year = title_year(rows, header_index)
    if printed_year is not None and printed_year != table.year:
        raise ValueError(f"{where}: title says {printed_year}")
    keys = [header_key(c) for c in header]
    if "state" not in keys:
        raise ValueError(f"{where}: no State column in {header!r}")
    state_col, city_col = keys.index("state"), keys.index("city")
    columns = detect_columns(header, table.year)
    require_columns(columns, population=True, where=where)
    if "rape_mixed" in columns:
        raise ValueError(f"{where}: rape column of unknown definition")
    header_marks = [m for c in header for m in split_marks(str(c))[1]]

    # Data end where the footnotes begin: the first footnote row after the header.
    end = next((i for i in range(header_index + 1, len(rows)) if footnote_row(rows[i])), len(rows))
    footnotes = read_footnotes(rows, end, where)
    for mark in header_marks:
        if mark not in footnotes.texts:
            log.warning("%s: header footnote %d is not printed", where, mark)

    records: list[dict] = []
    state_label = ""
    for index in range(header_index + 1, end):
        cells = rows[index]
        printed_state = clean_label(cells[state_col]) if state_col < len(cells) else ""
        if printed_state:
            if not state_code(printed_state):
                log.warning("%s row %d: unknown state %r skipped", where, index + 1, printed_state)
                continue
            state_label = printed_state
        city = clean_label(cells[city_col]) if city_col < len(cells) else ""
        if not city:
            if any(isinstance(c, float) for c in cells):
                log.warning("%s row %d: figures without a city name skipped", where, index + 1)
            elif printed_state:
                log.info("%s row %d: state %r printed without any city", where, index + 1, printed_state)
            continue
        if not state_label:
            raise ValueError(f"{where} row {index + 1}: city {city!r} before any state")
        cell_where = f"{where} row {index + 1} ({city})"
        values = {
            name: parse_count(cells[pos] if pos < len(cells) else "", where=cell_where)
            for name, pos in columns.items()
        }
        rape, definition = pick_rape(values, table.year)
        marks = [*split_marks(state_label)[1], *split_marks(city)[1]]
        records.append(
            {
                "state": state_code(state_label),
                "agency": city,
                "year": table.year,
                **{c: values.get(c) for c in COUNT_COLUMNS if c != "rape"},
                "rape": rape,
                "rape_definition": definition,
                "source": table.source,
                "source_kind": SOURCE_KIND,
                "notes": " | ".join(dict.fromkeys(footnotes.notes(marks, cell_where))),
            }
        )
    log.info("%s: %d city rows, %d footnotes", where, len(records), len(footnotes.texts))
    return records


@functools.lru_cache(maxsize=4)
def _parse_city_tables_cached(sources: Path) -> pd.DataFrame:
    tables = find_city_tables(sources)
    if not tables:
        raise FileNotFoundError(f"no CIUS city tables under {Path(sources) / 'crime'}")
    records = [record for table in tables for record in parse_city_table(table)]
    return finish_frame(records, what="CIUS city tables")


def parse_city_tables(sources: Path) -> pd.DataFrame:
    """All CIUS city tables under ``sources/crime`` as one RAW_CITY_COLUMNS frame, one row per printed city.

    ``agency`` is the city label exactly as printed (footnote digits included, e.g. "Chicago3"); ``state``
    is the USPS code of the state heading above it. ``notes`` holds the text of the footnotes glued to the
    city or to its state heading, prefixed "FBI footnote: " (column-header footnotes are not copied: the rape
    ones are what ``rape_definition`` records, the arson ones concern a dropped column). Parsed once per
    process.
    """
    return _parse_city_tables_cached(Path(sources).resolve()).copy()
