"""Helpers shared by the CIUS parsers: xls rows, header detection, counts, footnotes."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlrd

from dashboard.pipeline.io import read_source_bytes, source_errors
from dashboard.schema import OFFENCES, RAW_CITY_COLUMNS

log = logging.getLogger(__name__)

COUNT_COLUMNS: tuple[str, ...] = ("population", *OFFENCES)
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
    frame["months_reported"] = frame["months_reported"].astype("Int64")  # the CIUS tables do not say
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
    if Path(path).suffix.lower() == ".xlsx":  # CIUS 2021 on (issue 12)
        from dashboard.pipeline.sources.xlsx import read_xlsx_rows

        return read_xlsx_rows(path)
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


@dataclass(frozen=True)
class Table:
    """A CIUS workbook read up to its header: what every table parser starts from."""

    rows: list[list[object]]
    header_index: int
    header: list[object]
    keys: list[str]  # header_key of each header cell
    columns: dict[str, int]  # detect_columns of the header


def open_table(path: Path, year: int, label_key: str, where: str, *, population: bool) -> Table:
    """Read a CIUS table, find the header row naming ``label_key``, check the title's year against
    ``year`` and map the offence columns (``require_columns``), or raise a ValueError naming ``where``."""
    rows = read_xls_rows(path)
    header_index = find_header(rows, (label_key,), where)
    header = rows[header_index]
    printed_year = title_year(rows, header_index)
    if printed_year is not None and printed_year != year:
        raise ValueError(f"{where}: title says {printed_year}")
    columns = detect_columns(header, year)
    require_columns(columns, population=population, where=where)
    return Table(rows, header_index, header, [header_key(c) for c in header], columns)
