"""Principal-city rows of the FBI CIUS "by Metropolitan Statistical Area" tables, 2000-2019.

Source kind ``cius_msa_table``. The MSA tables are the only published CIUS city counts for 2000-2009 and
2011-2012, which the city-table parser cannot give. Only the "City of X" rows (population and counts of one
principal city) are kept; MSA totals, "Estimated total" and rate rows are metro aggregates, not city figures.

Three layouts (see PROVENANCE 1.2), told apart by header text rather than by year:
  * 2000-2002: label in column 0, index-total columns before the offences; "City of X" rows, or a "City of:"
    row followed by the principal-city names (multi-state MSAs print "Memphis, TN4"). 2000 prints "-" for 0.
  * 2003-2004: the same label column, offences only (2003 adds a group row above the header).
  * 2005+: MSA name in column 0, "City of X" in the "Counties/principal cities" column.

Rape: legacy before 2013. The 2013-2016 tables have a single rape column that "is an aggregate total of the
data submitted using both the revised and legacy definitions", so a city row's rape figure is whatever that
agency submitted; its definition is read from the same year's CIUS city table (where the agency's figure sits
in either the revised or the legacy column) and the note says so. From 2017 the column is revised only, and
agencies that reported legacy rape have blank rape and violent cells, which stay blank.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import check_source_csv, source_errors
from dashboard.pipeline.sources import cius_common as cius
from dashboard.pipeline.sources.cius_city import USPS_CODES, parse_city_tables

log = logging.getLogger(__name__)

SOURCE_KIND = "cius_msa_table"
MSA_DIR = Path("crime") / "cferggie__MSA-Data"

_MSA_FILE = re.compile(r"^MSA(?P<yy>\d\d)\.csv$")
_AREA = re.compile(r"\bM\.(?:S\.A|D)\b\.?")  # "Abilene, TX M.S.A.", "Camden, NJ M.D."
_AREA_STATES = re.compile(
    r",\s*(?P<states>[A-Z]{2}(?:-[A-Z]{2})*)\b"
)  # ", TN-MS-AR"; twice in "Texarkana, TX-Texarkana, AR"
_LABEL_STATE = re.compile(r",\s*(?P<state>[A-Z]{2})$")
_CITY_OF = re.compile(r"^City of\s+(?P<name>[^\s:].*)$")
_CITY_LIST = re.compile(r"^City of\s*:$")  # "City of:" / "City of :" above a list of principal cities
_AGGREGATE = re.compile(r"^(Total area actually reporting|Estimated total|Rate per 100,000)", re.I)


_METRO_TOTAL = re.compile(r"^(Total area actually reporting|Estimated total)", re.I)
METRO_COLUMNS = ("source", "state", "agency", "year", "metro_area", "metro_violent_crime", "metro_murder")


def _note_metro_total(city_records: list[dict], figures: dict, area: str, where: str) -> None:
    """Give each city record of an area its metro total (the larger of "actually reporting" and
    "estimated total"): a principal city's count can never exceed it (issue 16's metro screen)."""
    for key, column in (("metro_violent_crime", "violent_crime"), ("metro_murder", "murder")):
        if column not in figures:
            continue
        value = cius.parse_count(figures[column], dash_is_zero=False, where=where)
        for record in city_records:
            if value is not None and (record.get(key) is None or value > record[key]):
                record[key] = value
            record["metro_area"] = area


@dataclass(frozen=True)
class MsaTable:
    """One MSA table file, its edition year and the table number printed in its title."""

    path: Path
    year: int
    table: int

    @property
    def source(self) -> str:
        return f"FBI CIUS {self.year} Table {self.table} (MSA)"


def _read_csv(path: Path, limit: int | None = None) -> list[list[str]]:
    """Rows of an MSA table; the whole file is checked first (UTF-8, final newline, equal widths),
    so a truncated copy stops the build instead of losing its last metro areas."""
    if limit is not None:  # a peek at the title rows; the full read below checks the whole file
        with source_errors(path), path.open(encoding="utf-8-sig", newline="") as handle:
            return list(itertools.islice(csv.reader(handle), limit))
    text = check_source_csv(path)
    with source_errors(path):
        return list(csv.reader(io.StringIO(text, newline="")))


def _table_number(rows: Sequence[Sequence[str]], where: str) -> int:
    for row in rows[:3]:
        match = re.match(r"^\s*Table\s+(\d+)\s*$", row[0] if row else "")
        if match:
            return int(match[1])
    raise ValueError(f"{where}: no 'Table N' title")


def _title_year(rows: Sequence[Sequence[str]]) -> int | None:
    for row in rows[:5]:
        match = re.search(r"Metropolitan Statistical Area,\s*((?:19|20)\d\d)", " ".join(row))
        if match:
            return int(match[1])
    return None


def area_states(label: str) -> str:
    """Candidate USPS codes of an MSA/M.D. heading, "|"-joined in printed order ("TN|MS|AR"); "" if none."""
    if "Puerto Rico" in label:
        return "PR"
    heading = _AREA.split(_dc(cius.clean_label(label)))[0]
    codes = [c for m in _AREA_STATES.finditer(heading) for c in m["states"].split("-") if c in USPS_CODES]
    return "|".join(dict.fromkeys(codes))


def _dc(label: str) -> str:
    """The District is printed "D.C." ("Washington, D.C.-MD-VA-WV M.S.A."); read it as the code DC."""
    return label.replace("D.C.", "DC")


def _city_state(label: str) -> str:
    """USPS code printed after the city ("Chicago, IL4, 5" -> "IL"), or ""."""
    base, _ = cius.split_marks(_dc(label))
    match = _LABEL_STATE.search(base)
    return match["state"] if match and match["state"] in USPS_CODES else ""


def _name_key(label: str) -> str:
    """Label reduced for looking a city up in the city table: no "City of", footnotes, state or case."""
    base, _ = cius.split_marks(_dc(label))
    base = re.sub(r"^City of\s+", "", base)
    base = _LABEL_STATE.sub("", base)
    return " ".join(base.lower().split())


def _parse_msa_table(table: MsaTable) -> list[dict]:
    with source_errors(table.path):
        return _parse_msa_rows(table)


def _parse_msa_rows(table: MsaTable) -> list[dict]:
    where = f"{table.source} ({table.path.name})"
    rows = _read_csv(table.path)
    header_index = next(
        (i for i, row in enumerate(rows[:10]) if any(c.strip() == "Population" for c in row)), None
    )
    if header_index is None:
        raise ValueError(f"{where}: no header row with 'Population'")
    header = rows[header_index]
    columns = cius.detect_columns(header, table.year)
    cius.require_columns(columns, population=True, where=where)
    first_count = min(columns.values())  # label columns are the ones before the first figure
    end = next(
        (i for i in range(header_index + 1, len(rows)) if re.match(r"^\d{1,2}\s*[A-Za-z]", rows[i][0] or "")),
        len(rows),
    )
    footnotes = cius.read_footnotes(rows, end, where)
    dash_is_zero = any(re.search(r"dash.*zero report", r, re.I) for r in footnotes.remarks)

    records: list[dict] = []
    # Principal cities sit between an MSA heading and its first total row: "City of X" rows, or the names
    # listed under "City of:" (2000-2004), or bare "Texarkana, TX" rows (2005-2006).
    area_label, candidates, in_cities, area_start = "", "", False, 0
    for index in range(header_index + 1, end):
        row = rows[index] + [""] * (len(header) - len(rows[index]))
        labels = [cius.clean_label(c) for c in row[:first_count] if c.strip()]
        label = labels[0] if labels else ""
        figures = {name: row[pos] for name, pos in columns.items()}
        has_figures = any(str(v).strip() for v in figures.values())
        if not label:
            continue
        if _AREA.search(label) and row[0].strip():
            area_label, candidates, in_cities = label, area_states(label), True
            area_start = len(records)
            if not candidates:
                log.warning("%s row %d: no state in MSA heading %r", where, index + 1, label)
            continue
        if _AGGREGATE.match(label):
            in_cities = False
            if _METRO_TOTAL.match(label):  # the area's own total, kept beside its cities for a screen
                _note_metro_total(records[area_start:], figures, area_label, f"{where} row {index + 1}")
            continue
        if _CITY_LIST.match(label) or re.match(r"^\(?Includes\b", label):
            continue
        match = _CITY_OF.match(label)
        if match is None and not (in_cities and has_figures):
            if has_figures:
                log.warning("%s row %d: unrecognised row with figures %r skipped", where, index + 1, label)
            continue
        if not in_cities:
            log.warning("%s row %d: %r after the MSA totals; kept as a city row", where, index + 1, label)
        agency = match["name"] if match else label
        cell_where = f"{where} row {index + 1} ({agency}, {area_label})"
        state = _city_state(agency)
        bare = re.search(r"\s([A-Z]{2})$", cius.split_marks(agency)[0])
        if not state and bare and bare[1] in candidates.split("|"):
            state = bare[1]  # "Warwick RI" (2016) lacks the comma
        if state and candidates and state not in candidates.split("|"):
            log.warning("%s: city state %s not among MSA states %s", cell_where, state, candidates)
        values = {
            name: cius.parse_count(value, dash_is_zero=dash_is_zero, where=cell_where)
            for name, value in figures.items()
        }
        if values.get("rape_legacy") is not None or table.year < cius.REVISED_RAPE_FROM:
            rape, definition = values.get("rape_legacy"), "legacy"
        elif table.year >= cius.REVISED_ONLY_FROM:
            rape, definition = values.get("rape_revised"), "revised"
        else:  # 2013-2016: mixed column, resolved below from the city table
            rape, definition = values.get("rape_mixed"), ""
        records.append(
            {
                "state": state or candidates,
                "agency": agency,
                "year": table.year,
                **{c: values.get(c) for c in cius.COUNT_COLUMNS if c != "rape"},
                "rape": rape,
                "rape_definition": definition,
                "source": table.source,
                "source_kind": SOURCE_KIND,
                "notes": " | ".join(dict.fromkeys(footnotes.notes(cius.split_marks(agency)[1], cell_where))),
            }
        )
    log.info("%s: %d principal-city rows, %d footnotes", where, len(records), len(footnotes.texts))
    return records


def find_msa_tables(sources: Path) -> list[MsaTable]:
    """The MSA00.csv ... MSA19.csv files, with the table number read from each title row."""
    found: list[MsaTable] = []
    for path in sorted((Path(sources) / MSA_DIR).glob("MSA*.csv")):
        match = _MSA_FILE.match(path.name)
        if not match:
            continue
        year = 2000 + int(match["yy"])
        rows = _read_csv(path, limit=6)
        with source_errors(path):
            printed = _title_year(rows)
            if printed is not None and printed != year:
                raise ValueError(f"{path.name}: title says {printed}")
            found.append(MsaTable(path, year, _table_number(rows, path.name)))
    return found


def _resolve_mixed_rape(records: list[dict], sources: Path) -> None:
    """Give each 2013-2016 row the rape definition its agency used, read from the same year's city table.

    The city-table row is found by name within the row's (candidate) states, else by identical population
    (the MSA label can differ: "Las Vegas Metropolitan Police Department" vs "Las Vegas"). Edits in place.
    """
    mixed = [r for r in records if not r["rape_definition"]]
    if not mixed:
        return
    city = parse_city_tables(sources)
    city = city[city["year"].between(cius.REVISED_RAPE_FROM, cius.REVISED_ONLY_FROM - 1)]
    fields = ["year", "state", "agency", "population", "rape", "rape_definition", "source"]
    by_name: dict[tuple[int, str, str], list[dict]] = {}
    by_population: dict[tuple[int, str, int], list[dict]] = {}
    for found in city[fields].to_dict("records"):
        found = {k: (None if pd.isna(v) else v) for k, v in found.items()}
        by_name.setdefault((found["year"], found["state"], _name_key(found["agency"])), []).append(found)
        if found["population"] is not None:
            by_population.setdefault((found["year"], found["state"], found["population"]), []).append(found)

    for row in mixed:
        states = row["state"].split("|")
        matches = [m for s in states for m in by_name.get((row["year"], s, _name_key(row["agency"])), [])]
        if not matches and row["population"] is not None:
            matches = [m for s in states for m in by_population.get((row["year"], s, row["population"]), [])]
        notes = [row["notes"]] if row["notes"] else []
        if len(matches) == 1:
            match = matches[0]
            row["rape_definition"] = match["rape_definition"]
            notes.append(
                f"Rape definition ({match['rape_definition']}) taken from {match['source']}: the MSA "
                "table adds up revised- and legacy-definition rape."
            )
            if (row["population"], row["rape"]) != (match["population"], match["rape"]):
                log.info("%s %s: figures differ from %s", row["source"], row["agency"], match["source"])
                notes.append(
                    f"Figures differ from {match['source']} (population {_fmt(row['population'])} here, "
                    f"{_fmt(match['population'])} there)."
                )
        else:
            row["rape_definition"] = "revised"
            log.warning(
                "%s %s %s: %d matching city-table rows, rape definition unknown; marked revised",
                row["source"], row["state"], row["agency"], len(matches),
            )  # fmt: skip
            notes.append(
                "The MSA table mixes revised- and legacy-definition rape and this agency was not found "
                "once in the city table, so which one it used is unknown; marked revised."
            )
        row["notes"] = " | ".join(notes)


def _fmt(value: int | None) -> str:
    return "not printed" if value is None else f"{value:,}"


@functools.lru_cache(maxsize=4)
def _parse_msa_tables_cached(sources: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables = find_msa_tables(sources)
    if not tables:
        raise FileNotFoundError(f"no MSA tables under {sources / MSA_DIR}")
    records = [record for table in tables for record in _parse_msa_table(table)]
    _resolve_mixed_rape(records, sources)
    metro = pd.DataFrame.from_records(records, columns=list(METRO_COLUMNS))
    metro = metro.dropna(subset=["metro_area"]).drop_duplicates(["source", "state", "agency", "year"])
    for column in ("metro_violent_crime", "metro_murder"):
        metro[column] = metro[column].astype("Int64")
    return cius.finish_frame(records, what="CIUS MSA tables"), metro.reset_index(drop=True)


def parse_msa_metro_totals(sources: Path) -> pd.DataFrame:
    """Each principal-city row's metro-area total (``METRO_COLUMNS``), keyed like its city row."""
    return _parse_msa_tables_cached(Path(sources).resolve())[1].copy()


def parse_msa_tables(sources: Path) -> pd.DataFrame:
    """Principal-city rows of every CIUS MSA table (2000-2019) as one RAW_CITY_COLUMNS frame.

    ``agency`` is the printed label without the leading "City of " ("Chicago, IL4, 5", "Nashville
    Metropolitan", "Memphis, TN4" in 2000); ``state`` is the code printed in the label, else the MSA
    heading's state codes joined by "|" for the matcher to resolve. Unpublished cells stay <NA>. Parsed once
    per process.
    """
    return _parse_msa_tables_cached(Path(sources).resolve())[0].copy()
