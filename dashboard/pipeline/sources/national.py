"""The US national series, 1960 onward, one row per (year, rape definition).

Precedence, per year (the first source that has the year wins):

1. **FBI CIUS Table 1, newest edition containing the year** (``Majorfalcon__...``): the 2015
   edition for 1996-2015, the 2014 edition for 1995, the 2013 edition for 1994. The 2015 edition
   is what was published when the Public Safety Partnership was announced (US 2015 violent crime
   rate 372.6), and it prints both rape definitions from 2013.
2. **FBI Crime Data Explorer estimates** (``lucag25__.../estimated_crimes_1979_2019.csv``, national
   rows have a blank state): true counts for 1979-1993 and 2016-2019.
3. **FBI UCR Data Tool** "United States-Total" (``ChrisBeaumont__crime/state_crime.csv``) for
   1960-1978: rates x population, so counts are reconstructions (see :mod:`.ucr_data_tool`).
4. **Later CDE vintages** for 2020 on (2020 derived from the state rows): see :mod:`.cde_national`.

The Marshall Project's "National" rows are only a cross-check (:func:`cross_check_marshall`).

Rape definition:

* ``legacy`` rows for every year through 2016: CIUS Table 1's violent total uses legacy rape
  through 2015; for 2016 the CDE publishes legacy rape, and the legacy violent total is derived
  as revised total - revised rape + legacy rape (said in ``notes``).
* ``revised`` rows for 2013-2019: rape is the revised figure; violent crime is the published
  revised total where the source has one (CDE, from 2016), otherwise derived from the same table
  as legacy total - legacy rape + revised rape (said in ``notes``). No legacy row for 2017-2019:
  the CDE file gives no legacy rape for those years.
* Offences other than rape and violent crime, and population, are identical across the two rows
  of a year, and always come from the same source as the year's counts.

``notes`` records the source's own footnotes (e.g. the 11 September 2001 exclusion) and every
place where a year's source differs from the neighbouring year's, so a chart can footnote it.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlrd

from dashboard.pipeline.io import check_source_csv, read_source_bytes, source_errors
from dashboard.pipeline.sources.marshall import parse_marshall_national
from dashboard.pipeline.sources.ucr_data_tool import parse_ucr_data_tool_national
from dashboard.schema import NATIONAL_COLUMNS, OFFENCES

log = logging.getLogger(__name__)

CIUS_FOLDER = Path("crime") / "Majorfalcon__Foundations-of-Data-Science-Capstone"
# CIUS edition -> its Table 1 file (the edition year is the last year in the table).
CIUS_TABLE_1: dict[int, Path] = {
    2013: CIUS_FOLDER
    / "Table_1_Crime_in_the_United_States_by_Volume_and_Rate_per_100000_Inhabitants_1994-2013.xls",
    2014: CIUS_FOLDER
    / "Table_1_Crime_in_the_United_States_by_Volume_and_Rate_per_100000_Inhabitants_1995-2014.xls",
    2015: CIUS_FOLDER
    / "Table_1_Crime_in_the_United_States_by_Volume_and_Rate_per_100000_Inhabitants_1996-2015.xls",
}
CDE_FILE = (
    Path("crime")
    / "lucag25__Crime-Trends-and-Socioeconomic-Differences-Across-The-U.S."
    / "estimated_crimes_1979_2019.csv"
)
FIRST_YEAR = 1960
FIRST_REVISED_YEAR = 2013
LAST_LEGACY_TABLE_YEAR = 2016  # the FBI's own headline series used legacy rape through 2016

SOURCE_UCRDT = "FBI UCR Data Tool (United States-Total)"
SOURCE_CDE = "FBI Crime Data Explorer, estimated crimes 1979-2019"
UCRDT_NOTE = (
    "counts reconstructed from UCR Data Tool rate x population; rates are printed to 0.1 per 100,000, "
    "so counts are accurate to about +/-{error:,} in this year"
)
DERIVED_REVISED_NOTE = "violent total derived: legacy total − legacy rape + revised rape, {source}"
DERIVED_LEGACY_NOTE = "violent total derived: revised total − revised rape + legacy rape, {source}"

# Table 1 header text (lower case, whitespace collapsed, footnote digits kept) -> our column.
_T1_COLUMNS: tuple[tuple[str, str], ...] = (
    ("population", "population"),
    ("violent crime", "violent_crime"),
    ("murder and nonnegligent manslaughter", "murder"),
    ("rape (revised definition)", "rape_revised"),
    ("rape (legacy definition)", "rape_legacy"),
    ("robbery", "robbery"),
    ("aggravated assault", "aggravated_assault"),
    ("property crime", "property_crime"),
    ("burglary", "burglary"),
    ("larceny-theft", "larceny_theft"),
    ("larceny- theft", "larceny_theft"),
    ("motor vehicle theft", "motor_vehicle_theft"),
)


_CDE_COLUMNS = (
    "population",
    "violent_crime",
    "homicide",
    "rape_legacy",
    "rape_revised",
    "robbery",
    "aggravated_assault",
    "property_crime",
    "burglary",
    "larceny",
    "motor_vehicle_theft",
)


@dataclass(frozen=True)
class YearCounts:
    """One year's counts from one source, before they are split into definition rows."""

    year: int
    source: str
    values: dict[
        str, object
    ]  # population, offences (rape excluded), violent_crime, rape_legacy, rape_revised
    violent_definition: str  # which rape definition the published violent total uses
    notes: tuple[str, ...] = ()


def _norm(header: object) -> str:
    return re.sub(r"\s+", " ", str(header)).strip().lower()


@functools.lru_cache(maxsize=8)
def _read_table_1(path: Path) -> tuple[tuple[int, tuple[tuple[str, object], ...], str], ...]:
    """(year, ((column, count), ...), footnote text) per data row of one CIUS Table 1 file."""
    read_source_bytes(path)  # missing or empty file: a plain message, not an xlrd error
    with source_errors(path, "as an Excel .xls workbook"):
        sheet = xlrd.open_workbook(str(path), on_demand=True).sheet_by_index(0)
    with source_errors(path):
        return _table_1_rows(sheet, path)


def _table_1_rows(
    sheet: xlrd.sheet.Sheet, path: Path
) -> tuple[tuple[int, tuple[tuple[str, object], ...], str], ...]:
    header_row = next(r for r in range(min(sheet.nrows, 10)) if _norm(sheet.cell_value(r, 0)) == "year")
    columns: dict[int, str] = {}
    for index, header in enumerate(sheet.row_values(header_row)):
        text = _norm(header)
        if "rate" in text:
            continue
        for prefix, column in _T1_COLUMNS:
            if re.fullmatch(re.escape(prefix) + r"\d*", text):
                columns[index] = column
    missing = {"population", "violent_crime", "murder", "rape_legacy", "robbery", "motor_vehicle_theft"}
    missing -= set(columns.values())
    if missing:
        raise ValueError(f"{path.name}: Table 1 columns not found: {sorted(missing)}")

    footnotes: dict[str, str] = {}
    data: list[tuple[int, dict[str, object], str]] = []
    for r in range(header_row + 1, sheet.nrows):
        first = sheet.cell_value(r, 0)
        text = str(first).strip()
        match = re.fullmatch(r"(\d)\s+(.+)", text)
        if match and not isinstance(first, float):
            footnotes[match.group(1)] = match.group(2).strip()
            continue
        if isinstance(first, float):
            year, marker = int(first), ""
        elif re.fullmatch(r"(19|20)\d{2}\d?", text):
            year, marker = int(text[:4]), text[4:]  # "20013": 2001 with footnote 3
        else:
            if text.lower().startswith("table 1a"):
                break
            continue
        values: dict[str, object] = {}
        for index, column in columns.items():
            cell = sheet.cell_value(r, index)
            values[column] = pd.NA if str(cell).strip() == "" else round(float(cell))
        data.append((year, values, marker))
    rows = []
    for year, values, marker in data:
        note = footnotes.get(marker, "") if marker else ""
        if marker and not note:
            raise ValueError(f"{path.name}: footnote {marker} of {year} has no text")
        rows.append((year, tuple(values.items()), note))
    years = [year for year, _, _ in rows]
    if years != list(range(years[0], years[0] + len(years))):
        raise ValueError(f"{path.name}: years are not consecutive: {years}")
    return tuple(rows)


def _cius_years(sources: Path) -> dict[int, YearCounts]:
    """Each year from the newest CIUS Table 1 edition that contains it."""
    chosen: dict[int, YearCounts] = {}
    for edition in sorted(CIUS_TABLE_1):
        source = f"FBI CIUS {edition} Table 1"
        for year, items, footnote in _read_table_1(Path(sources) / CIUS_TABLE_1[edition]):
            values = dict(items)
            values.setdefault("rape_revised", pd.NA)
            notes = (f"CIUS footnote: {footnote}",) if footnote else ()
            # The violent-crime column of every edition includes legacy rape (its own footnote 2).
            chosen[year] = YearCounts(year, source, values, "legacy", notes)
    return chosen


def _cde_years(sources: Path) -> dict[int, YearCounts]:
    """National rows (blank state) of the CDE estimates; which rape the violent total uses is checked."""
    path = Path(sources) / CDE_FILE
    text = check_source_csv(path)
    with source_errors(path):
        return _cde_national_rows(
            pd.read_csv(io.StringIO(text), dtype={"state_abbr": str, "caveats": str}), path
        )


def _cde_national_rows(raw: pd.DataFrame, path: Path) -> dict[int, YearCounts]:
    national = raw[raw["state_abbr"].fillna("").str.strip() == ""]
    if national["year"].duplicated().any():
        raise ValueError(f"{path.name}: more than one national row for a year")
    rename = {"homicide": "murder", "larceny": "larceny_theft"}
    chosen: dict[int, YearCounts] = {}
    for _, row in national.iterrows():
        values: dict[str, object] = {}
        for column in _CDE_COLUMNS:
            value = row[column]
            values[rename.get(column, column)] = pd.NA if pd.isna(value) else int(value)
        year = int(row["year"])
        # Which rape definition the violent total includes: the one whose sum of parts is nearest
        # (1980-1981 estimates are rounded to tens, so their parts can be off by 10).
        others = values["murder"] + values["robbery"] + values["aggravated_assault"]
        gaps = {d: abs(others + values[f"rape_{d}"] - values["violent_crime"])
                for d in ("revised", "legacy") if pd.notna(values[f"rape_{d}"])}  # fmt: skip
        definition = min(gaps, key=gaps.__getitem__)
        if gaps[definition] > 0.001 * values["violent_crime"]:
            raise ValueError(f"{path.name}: {year} violent total matches neither rape definition")
        if gaps[definition]:
            log.info("CDE %d: violent total differs from its parts by %d", year, gaps[definition])
        caveat = str(row["caveats"]).strip() if pd.notna(row["caveats"]) else ""
        notes = (f"CDE caveat: {caveat}",) if caveat else ()
        chosen[year] = YearCounts(year, SOURCE_CDE, values, definition, notes)
    return chosen


def _ucrdt_years(sources: Path) -> dict[int, YearCounts]:
    table = parse_ucr_data_tool_national(sources)
    chosen: dict[int, YearCounts] = {}
    for _, row in table.iterrows():
        values = {c: row[c] for c in ("population", *OFFENCES) if c != "rape"}
        values["rape_legacy"] = row["rape"]
        values["rape_revised"] = pd.NA
        error = round(0.05 * int(row["population"]) / 100_000)
        note = UCRDT_NOTE.format(error=error)
        chosen[int(row["year"])] = YearCounts(int(row["year"]), SOURCE_UCRDT, values, "legacy", (note,))
    return chosen


def _pick_years(sources: Path) -> dict[int, YearCounts]:
    """Apply the precedence: CIUS (newest edition) > CDE > UCR Data Tool > later CDE vintages (2020 on)."""
    from dashboard.pipeline.sources.cde_national import cde_recent_years  # issue 12 (imports this module)

    picked: dict[int, YearCounts] = {}
    recent = cde_recent_years(sources)
    for candidates in (_cius_years(sources), _cde_years(sources), _ucrdt_years(sources), recent):
        for year, counts in candidates.items():
            if year >= FIRST_YEAR:
                picked.setdefault(year, counts)
    years = sorted(picked)
    if years != list(range(FIRST_YEAR, years[-1] + 1)):
        raise ValueError(
            f"national series has gaps: {sorted(set(range(FIRST_YEAR, years[-1] + 1)) - set(years))}"
        )
    return picked


def _switch_notes(picked: dict[int, YearCounts]) -> dict[int, list[str]]:
    """A note on both sides of every change of source (including a CIUS edition change)."""
    notes: dict[int, list[str]] = {year: [] for year in picked}
    for year in picked:
        for neighbour in (year - 1, year + 1):
            if neighbour in picked and picked[neighbour].source != picked[year].source:
                notes[year].append(f"source differs from {neighbour} ({picked[neighbour].source})")
    return notes


def _rows_for_year(counts: YearCounts, extra_notes: list[str]) -> list[dict[str, object]]:
    values = counts.values
    common = {c: values[c] for c in ("population", *OFFENCES) if c not in ("violent_crime", "rape")}
    base_notes = [*counts.notes, *extra_notes]
    rows: list[dict[str, object]] = []
    for definition in ("legacy", "revised"):
        rape = values[f"rape_{definition}"]
        if definition == "legacy" and (pd.isna(rape) or counts.year > LAST_LEGACY_TABLE_YEAR):
            continue
        if definition == "revised" and (pd.isna(rape) or counts.year < FIRST_REVISED_YEAR):
            continue
        notes = list(base_notes)
        violent = values["violent_crime"]
        if counts.violent_definition != definition:
            published = values[f"rape_{counts.violent_definition}"]
            violent = violent - published + rape
            template = DERIVED_REVISED_NOTE if definition == "revised" else DERIVED_LEGACY_NOTE
            notes.insert(0, template.format(source=counts.source))
        rows.append(
            {
                "year": counts.year,
                **common,
                "violent_crime": violent,
                "rape": rape,
                "rape_definition": definition,
                "source": counts.source,
                "notes": " | ".join(notes),
            }
        )
    if not rows:
        raise ValueError(f"{counts.year}: no rape figure under either definition in {counts.source}")
    return rows


def cross_check_marshall(national: pd.DataFrame, sources: Path, tolerance: float = 0.01) -> pd.DataFrame:
    """Compare legacy violent crime and murder with the Marshall Project's "National" rows.

    Returns one row per common year with both values and the relative difference. Small
    differences are expected and only logged at INFO: Marshall's 1975-1982 figures are rounded to
    tens, our 1975-1978 counts are rate x population reconstructions (murder +/-0.5%), and
    Marshall's 2012 is the CIUS 2012 edition's figure, which CIUS 2013 adjusted. A difference
    beyond ``tolerance`` (relative) is logged as a warning.
    """
    legacy = national[national["rape_definition"] == "legacy"].set_index("year")
    marshall = parse_marshall_national(sources).set_index("year")
    common = legacy.index.intersection(marshall.index)
    report = pd.DataFrame(index=common)
    for column in ("violent_crime", "murder"):
        ours = legacy.loc[common, column].astype("Float64")
        theirs = marshall.loc[common, column].astype("Float64")
        report[f"{column}_ours"] = ours
        report[f"{column}_marshall"] = theirs
        report[f"{column}_rel_diff"] = ((ours - theirs) / theirs).round(5)
        differs = report[f"{column}_rel_diff"].abs() > 0
        if differs.any():
            log.info("national %s differs from Marshall in %s", column, list(report.index[differs]))
        off = report[f"{column}_rel_diff"].abs() > tolerance
        if off.any():
            years = list(report.index[off])
            log.warning(
                "national %s differs from Marshall by more than %.1f%% in %s", column, 100 * tolerance, years
            )
    return report.reset_index(names="year")


def build_national_series(sources: Path) -> pd.DataFrame:
    """The national series as ``schema.NATIONAL_COLUMNS``, sorted by year and rape definition."""
    picked = _pick_years(sources)
    switches = _switch_notes(picked)
    records = [row for year in sorted(picked) for row in _rows_for_year(picked[year], switches[year])]
    frame = pd.DataFrame.from_records(records)
    for column in ("population", *OFFENCES):
        frame[column] = frame[column].astype("Int64")
    frame["year"] = frame["year"].astype(int)
    frame = frame[list(NATIONAL_COLUMNS)].sort_values(["year", "rape_definition"]).reset_index(drop=True)

    if frame.duplicated(["year", "rape_definition"]).any():
        raise ValueError("national series: duplicate (year, rape_definition)")
    cross_check_marshall(frame, sources)
    ranges = {
        source: f"{group['year'].min()}-{group['year'].max()}"
        for source, group in frame.groupby("source", sort=False)
    }
    log.info("national series: %d rows; sources %s", len(frame), ranges)
    return frame
