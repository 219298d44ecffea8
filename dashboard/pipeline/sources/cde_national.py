"""The US series after 2019, from the FBI Crime Data Explorer "estimated crimes" files (issue 12).

Two vintages of the same CDE bulk file are in the sources: 1979-2022 (``zola-haile__Crime-Chronicles``)
and 1979-2023 (``suprithakulkarni3113-rgb__...``; numbers from 2022 on carry thousands separators). Both
lack a national row for 2019 and 2020 (states only). Hence:

* 2021-2023: the national row of the **latest** vintage that has the year. Where the two vintages
  disagree (2022: the FBI revised its estimate), the later one is shown and ``notes`` give both.
* 2020: **derived** as the sum of the 50 states and DC of the latest vintage, labelled derived in
  ``source`` and ``notes``. The build checks first that the same sum equals the national row exactly in
  every year that has one from 2021 on, and stops if it does not.

Every year from 2020 is an FBI *estimate* for the whole country: from 2021 (the first year the FBI took
NIBRS data only) many large agencies sent no data, so the estimate rests on partial reporting; ``notes``
say so and the trends chart shows it. Years covered by the older sources (through 2019) are never taken
from here.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import check_source_csv, source_errors
from dashboard.pipeline.sources import national

log = logging.getLogger(__name__)

CRIME = Path("crime")
# vintage (last year in the file) -> file; the later vintage wins where both have a year.
CDE_VINTAGES: dict[int, Path] = {
    2022: CRIME / "zola-haile__Crime-Chronicles" / "estimated_crimes_1979_2022.csv",
    2023: CRIME / "suprithakulkarni3113-rgb__Crime_Dataanalysis_Stats" / "estimated_crimes_1979_2023.csv",
}
# The 1979-2022 copy never had a final newline (its last row is whole: 52 rows for 2022, like 2021).
NO_FINAL_NEWLINE = frozenset({2022})
FIRST_YEAR = 2020  # the older national sources end in 2019
NIBRS_ONLY_FROM = 2021  # the first year the FBI took NIBRS data only
STATE_COUNT = 51  # 50 states and DC
PARTIAL_NOTE = (
    "FBI estimate for the whole country from partial reporting: from 2021, the first year the FBI took "
    "NIBRS data only, many agencies (among them several of the largest) sent no data, and the FBI "
    "estimated their share"
)
DERIVED_NOTE = (
    "derived: the file has no national row for {year}; the figures are the sum of the 50 states and DC "
    "(the same sum equals the national row exactly in {checked})"
)
SOURCE = "FBI Crime Data Explorer, estimated crimes 1979-{vintage}"


def read_vintage(sources: Path, vintage: int) -> pd.DataFrame:
    """One CDE vintage as numbers (thousands separators read), ``state_abbr`` "" on national rows."""
    path = Path(sources) / CDE_VINTAGES[vintage]
    columns = ("year", "state_abbr", *national._CDE_COLUMNS)
    text = check_source_csv(path, columns=columns, final_newline=vintage not in NO_FINAL_NEWLINE)
    with source_errors(path):
        frame = pd.read_csv(io.StringIO(text), thousands=",", dtype={"state_abbr": str, "caveats": str})
        frame["state_abbr"] = frame["state_abbr"].fillna("").str.strip()
        return frame


def state_sums(frame: pd.DataFrame) -> pd.DataFrame:
    """Per year, the sum of the state rows (50 states and DC) of one vintage; incomplete years dropped."""
    states = frame[frame["state_abbr"] != ""]
    counts = states.groupby("year")["state_abbr"].nunique()
    complete = counts[counts == STATE_COUNT].index
    summed = states[states["year"].isin(complete)].groupby("year")[list(national._CDE_COLUMNS)]
    return summed.sum(min_count=1).reset_index()


def check_states_sum(frame: pd.DataFrame, vintage: int, from_year: int = 2021) -> list[int]:
    """The years (from ``from_year``) where the state sum equals the national row exactly; raises on any
    year where it does not, so a derived figure is never built on a sum that fails its own check."""
    sums = state_sums(frame).set_index("year")
    nation = frame[frame["state_abbr"] == ""].set_index("year")
    checked = []
    for year in sorted(y for y in nation.index if y >= from_year and y in sums.index):
        for column in national._CDE_COLUMNS:
            ours, theirs = sums.at[year, column], nation.at[year, column]
            if pd.isna(ours) and pd.isna(theirs):
                continue
            if pd.isna(ours) or pd.isna(theirs) or int(ours) != int(theirs):
                raise ValueError(
                    f"CDE 1979-{vintage}: the states sum to {ours} {column} in {year}, the national row "
                    f"says {theirs}; a national figure cannot be derived from the states"
                )
        checked.append(int(year))
    if not checked:
        raise ValueError(f"CDE 1979-{vintage}: no year to check the state sum against")
    return checked


def _vintage_years(sources: Path, vintage: int) -> dict[int, national.YearCounts]:
    """National YearCounts of one vintage from 2020 on: its national rows, and the derived years."""
    path = Path(sources) / CDE_VINTAGES[vintage]
    frame = read_vintage(sources, vintage)
    source = SOURCE.format(vintage=vintage)
    with source_errors(path):
        published = national._cde_national_rows(frame[frame["year"] >= FIRST_YEAR], path)
        chosen = {y: dataclasses.replace(c, source=source) for y, c in published.items()}
        missing = [y for y in range(FIRST_YEAR, vintage + 1) if y not in chosen]
        if missing:
            checked = check_states_sum(frame, vintage)
            sums = state_sums(frame)
            derived_rows = sums[sums["year"].isin(missing)].assign(state_abbr="", caveats=None)
            derived = national._cde_national_rows(derived_rows, path)
            for year, counts in derived.items():
                note = DERIVED_NOTE.format(year=year, checked=", ".join(map(str, checked)))
                chosen[year] = dataclasses.replace(
                    counts, source=f"{source} (derived from the state rows)", notes=(note, *counts.notes)
                )
    return chosen


def _differences(later: national.YearCounts, earlier: national.YearCounts, vintage: int) -> str:
    """A note naming the values where an earlier vintage printed other figures than the one shown."""
    changed = [
        f"{column.replace('_', ' ')} {earlier.values[column]:,} → {later.values[column]:,}"
        for column in ("violent_crime", "murder", "property_crime", "population")
        if pd.notna(earlier.values[column]) and earlier.values[column] != later.values[column]
    ]
    if not changed:
        return ""
    return f"revised by the FBI: the 1979-{vintage} file printed other figures ({'; '.join(changed)})"


def cde_recent_years(sources: Path) -> dict[int, national.YearCounts]:
    """YearCounts from 2020: the latest vintage per year, with partial-reporting and revision notes."""
    by_vintage = {vintage: _vintage_years(sources, vintage) for vintage in sorted(CDE_VINTAGES)}
    chosen: dict[int, national.YearCounts] = {}
    for vintage in sorted(by_vintage, reverse=True):
        for year, counts in by_vintage[vintage].items():
            if year in chosen:
                note = _differences(chosen[year], counts, vintage)
                if note:
                    chosen[year] = dataclasses.replace(chosen[year], notes=(*chosen[year].notes, note))
                continue
            chosen[year] = counts
    for year, counts in chosen.items():
        if year >= NIBRS_ONLY_FROM:
            chosen[year] = dataclasses.replace(counts, notes=(*counts.notes, PARTIAL_NOTE))
    log.info("CDE national from %d: %s", FIRST_YEAR, {y: c.source for y, c in sorted(chosen.items())})
    return dict(sorted(chosen.items()))
