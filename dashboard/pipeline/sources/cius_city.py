"""CIUS city tables (Table 8 and its equivalents, 2010, 2013–2019, 2021–2022; 2021 on as .xlsx)."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import source_errors
from dashboard.pipeline.sources import cius_common as cius

log = logging.getLogger(__name__)
SOURCE_KIND = "cius_city_table"
USPS_CODES: frozenset[str] = frozenset(cius.STATE_CODES.values())


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
    paths = [*(Path(sources) / "crime").rglob("*.xls"), *(Path(sources) / "crime").rglob("*.xlsx")]
    for path in sorted(paths):
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
    opened = cius.open_table(table.path, table.year, "city", where, population=True)
    rows, header_index, header, columns = opened.rows, opened.header_index, opened.header, opened.columns
    if "state" not in opened.keys:
        raise ValueError(f"{where}: no State column in {header!r}")
    state_col, city_col = opened.keys.index("state"), opened.keys.index("city")
    if "rape_mixed" in columns:
        raise ValueError(f"{where}: rape column of unknown definition")
    header_marks = [m for c in header for m in cius.split_marks(str(c))[1]]

    # Data end where the footnotes begin: the first footnote row after the header.
    end = next((i for i in range(header_index + 1, len(rows)) if cius.footnote_row(rows[i])), len(rows))
    footnotes = cius.read_footnotes(rows, end, where)
    for mark in header_marks:
        if mark not in footnotes.texts:
            log.warning("%s: header footnote %d is not printed", where, mark)

    records: list[dict] = []
    state_label = ""
    for index in range(header_index + 1, end):
        cells = rows[index]
        printed_state = cius.clean_label(cells[state_col]) if state_col < len(cells) else ""
        if printed_state:
            if not cius.state_code(printed_state):
                log.warning("%s row %d: unknown state %r skipped", where, index + 1, printed_state)
                continue
            state_label = printed_state
        city = cius.clean_label(cells[city_col]) if city_col < len(cells) else ""
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
            name: cius.parse_count(cells[pos] if pos < len(cells) else "", where=cell_where)
            for name, pos in columns.items()
        }
        rape, definition = cius.pick_rape(values, table.year)
        marks = [*cius.split_marks(state_label)[1], *cius.split_marks(city)[1]]
        records.append(
            {
                "state": cius.state_code(state_label),
                "agency": city,
                "year": table.year,
                **{c: values.get(c) for c in cius.COUNT_COLUMNS if c != "rape"},
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
    return cius.finish_frame(records, what="CIUS city tables")


def parse_city_tables(sources: Path) -> pd.DataFrame:
    """All CIUS city tables under ``sources/crime`` as one RAW_CITY_COLUMNS frame, one row per printed city.

    ``agency`` is the city label exactly as printed (footnote digits included, e.g. "Chicago3"); ``state``
    is the USPS code of the state heading above it. ``notes`` holds the text of the footnotes glued to the
    city or to its state heading, prefixed "FBI footnote: " (column-header footnotes are not copied: the rape
    ones are what ``rape_definition`` records, the arson ones concern a dropped column). Parsed once per
    process.
    """
    return _parse_city_tables_cached(Path(sources).resolve()).copy()
