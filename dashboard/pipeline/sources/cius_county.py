"""Camden County Police Department rows of CIUS Table 10, New Jersey (2013-2015) (``cius_county_table``).

Since May 2013 the county force's Metro Division polices the City of Camden, and the FBI lists it among county
agencies (Table 10) instead of in the city table, so Camden's 2013-2015 counts exist only here. County tables
print no population, so the row's population is <NA> and the matcher/harmoniser must not derive a rate from
this source alone.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import source_errors
from dashboard.pipeline.sources import cius_common as cius

log = logging.getLogger(__name__)

SOURCE_KIND = "cius_county_table"
AGENCY = "Camden County Police Department"
CAMDEN_NOTE = (
    "Camden County Police Department (Metro Division), the county force that has policed the City of Camden "
    "since May 2013; the FBI lists it with county agencies (Table 10) and publishes no population for it."
)
_TABLE_10 = re.compile(r"^Table_10_Offenses_Known_to_Law_Enforcement_.*New_Jersey.*_(?P<year>\d{4})\.xls$")


def _parse_table_10(path: Path, year: int) -> list[dict]:
    """The Camden County Police Department row of one New Jersey Table 10 file."""
    with source_errors(path):
        return _parse_camden_row(path, year)


def _parse_camden_row(path: Path, year: int) -> list[dict]:
    source = f"FBI CIUS {year} Table 10 (New Jersey)"
    where = f"{source} ({path.name})"
    table = cius.open_table(path, year, "county", where, population=False)
    rows, header_index, columns = table.rows, table.header_index, table.columns
    agency_col = table.keys.index("county")

    # The state heading ("NEW JERSEY1" in 2015) sits in the title rows and may carry a footnote.
    state_label = next(
        (
            cius.clean_label(c)
            for cells in rows[:header_index]
            for c in cells
            if cius.state_code(str(c)) == "NJ"
        ),
        "",
    )
    if not state_label:
        raise ValueError(f"{where}: no NEW JERSEY heading")
    end = next((i for i in range(header_index + 1, len(rows)) if cius.footnote_row(rows[i])), len(rows))
    footnotes = cius.read_footnotes(rows, end, where)

    records: list[dict] = []
    for index in range(header_index + 1, end):
        label = cius.clean_label(rows[index][agency_col])
        name, marks = cius.split_marks(label)
        if name != AGENCY:
            continue
        cell_where = f"{where} row {index + 1} ({label})"
        values = {name: cius.parse_count(rows[index][pos], where=cell_where) for name, pos in columns.items()}
        rape, definition = cius.pick_rape(values, year)
        notes = [CAMDEN_NOTE, *footnotes.notes([*cius.split_marks(state_label)[1], *marks], cell_where)]
        records.append(
            {
                "state": "NJ",
                "agency": AGENCY,
                "year": year,
                "population": None,
                **{c: values.get(c) for c in cius.COUNT_COLUMNS if c not in ("population", "rape")},
                "rape": rape,
                "rape_definition": definition,
                "source": source,
                "source_kind": SOURCE_KIND,
                "notes": " | ".join(dict.fromkeys(notes)),
            }
        )
    if not records:
        log.warning("%s: no %s row", where, AGENCY)
    return records


@functools.lru_cache(maxsize=4)
def _parse_camden_county_cached(sources: Path) -> pd.DataFrame:
    files = []
    for path in sorted((sources / "crime").rglob("Table_10_*.xls")):
        match = _TABLE_10.match(path.name)
        if match:
            files.append((int(match["year"]), path))
    if not files:
        raise FileNotFoundError(f"no New Jersey Table 10 files under {sources / 'crime'}")
    records = [record for year, path in sorted(files) for record in _parse_table_10(path, year)]
    return cius.finish_frame(records, what="CIUS Table 10 (Camden County PD)")


def parse_camden_county(sources: Path) -> pd.DataFrame:
    """Camden County Police Department 2013-2015, from the New Jersey CIUS Table 10 files (RAW_CITY_COLUMNS).

    Agency "Camden County Police Department", state "NJ", population <NA> (county tables have none); the notes
    explain that this county force polices the City of Camden. Parsed once per process.
    """
    return _parse_camden_county_cached(Path(sources).resolve()).copy()
