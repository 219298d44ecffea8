"""County-site rows of CIUS Table 10 (county agencies), 2022 on (``cius_county_table``).

Two PSP sites are counties (Harris County TX, 2019; DeKalb County GA, 2024). The FBI publishes no city row
for them: their figures are those of the county's own agency in Table 10, "Offenses Known to Law
Enforcement by State by Metropolitan and Nonmetropolitan Counties", which the FBI heads "do not reflect
county totals but are the number of offenses reported by the sheriff's office or county police
department". Which printed row is a site's agency is data, with the reason, in
``pipeline/county_agencies.csv`` (DeKalb prints two rows). Table 10 prints no population, so these rows
have counts and no rate; the row's ``notes`` say so. Rows carry their county GEOID: the place-name
matcher never sees them, so a county is never compared as if it were a city of the same name.
"""

from __future__ import annotations

import csv
import functools
import logging
import re
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import source_errors
from dashboard.pipeline.sources import cius_common as cius

log = logging.getLogger(__name__)

SOURCE_KIND = "cius_county_table"
AGENCIES_CSV = Path(__file__).resolve().parent.parent / "county_agencies.csv"
_TABLE_10 = re.compile(
    r"^Table_10_Offenses_Known_to_Law_Enforcement_by_State_by_Metropolitan_and_Nonmetropolitan_Counties_"
    r"(?P<year>\d{4})\.xlsx?$"
)
NO_POPULATION_NOTE = (
    "County agency figures from the FBI county table (Table 10), which prints no population: counts only, "
    "no rate or ratio to the national rate."
)


def read_county_agencies(path: Path = AGENCIES_CSV) -> list[dict[str, str]]:
    """The county sites' agencies: geoid, state, printed (Table 10's label), agency and why."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if not re.fullmatch(r"\d{5}", row["geoid"]) or not row["printed"].strip() or not row["why"].strip():
            raise ValueError(f"{path.name}: every row needs a 5-digit geoid, a printed label and a reason")
    return rows


def _split_state(label: str) -> tuple[str, tuple[int, ...]]:
    """ "FLORIDA2 - Metropolitan Counties" -> ("FL", (2,)); ("", ()) when the cell is not a state heading."""
    head = label.split(" - ")[0]
    name, marks = cius.split_marks(head)
    return cius.state_code(name), marks


def parse_table_10(path: Path, year: int, agencies: list[dict[str, str]]) -> list[dict]:
    """The rows of one Table 10 workbook that are the agencies of ``agencies``, as RAW_CITY_COLUMNS records
    plus ``geoid``."""
    with source_errors(path):
        return _parse_rows(path, year, agencies)


def _parse_rows(path: Path, year: int, agencies: list[dict[str, str]]) -> list[dict]:
    source = f"FBI CIUS {year} Table 10 (county agencies)"
    where = f"{source} ({path.name})"
    table = cius.open_table(path, year, "county", where, population=False)
    rows, header_index, columns = table.rows, table.header_index, table.columns
    state_col, label_col = table.keys.index("state"), table.keys.index("county")
    end = next((i for i in range(header_index + 1, len(rows)) if cius.footnote_row(rows[i])), len(rows))
    footnotes = cius.read_footnotes(rows, end, where)
    wanted = {(a["state"], a["printed"]): a for a in agencies}

    records: list[dict] = []
    state, state_marks = "", ()
    for index in range(header_index + 1, end):
        cells = rows[index]
        printed_state = cius.clean_label(cells[state_col])
        if printed_state:
            state, state_marks = _split_state(printed_state)
        label, marks = cius.split_marks(cius.clean_label(cells[label_col]))
        agency = wanted.get((state, label))
        if agency is None:
            continue
        cell_where = f"{where} row {index + 1} ({label})"
        values = {name: cius.parse_count(cells[pos], where=cell_where) for name, pos in columns.items()}
        rape, definition = cius.pick_rape(values, year)
        notes = [
            f"{agency['agency']} (FBI Table 10 row '{label}'): {agency['why']}",
            NO_POPULATION_NOTE,
            *footnotes.notes([*state_marks, *marks], cell_where),
        ]
        records.append(
            {
                "geoid": agency["geoid"],
                "state": state,
                "agency": agency["agency"],
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
    found = {(r["state"], a["printed"]) for r in records for a in agencies if a["geoid"] == r["geoid"]}
    for key in sorted(set(wanted) - found):
        log.warning("%s: no row %r in %s", where, key[1], key[0])
    return records


@functools.lru_cache(maxsize=4)
def _parse_cached(sources: Path, geoids: tuple[str, ...]) -> pd.DataFrame:
    agencies = [a for a in read_county_agencies() if a["geoid"] in geoids]
    missing = sorted(set(geoids) - {a["geoid"] for a in agencies})
    if missing:
        raise ValueError(f"county sites {missing} have no agency in {AGENCIES_CSV.name}")
    files = []
    for path in sorted((sources / "crime").rglob("Table_10_*")):
        match = _TABLE_10.match(path.name)
        if match:
            files.append((int(match["year"]), path))
    records = [r for year, path in sorted(files) for r in parse_table_10(path, year, agencies)]
    geoid_of = {(r["source"], r["state"], r["agency"], r["year"]): r["geoid"] for r in records}
    frame = cius.finish_frame(records, what="CIUS Table 10 (county sites)")
    keys = frame[["source", "state", "agency", "year"]].itertuples(index=False)
    frame["geoid"] = [geoid_of[tuple(k)] for k in keys]
    return frame


def parse_county_sites(sources: Path, geoids: list[str]) -> pd.DataFrame:
    """Table 10 rows of the county sites ``geoids`` (RAW_CITY_COLUMNS plus ``geoid``), every edition found."""
    return _parse_cached(Path(sources).resolve(), tuple(sorted(set(geoids)))).copy()
