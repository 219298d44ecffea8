"""How many of the shown cities have a figure each year, and what the national figure is (issue 12).

From 2021 the FBI took NIBRS data only and many agencies sent none; no city table for 2020 is in the
sources at all. A chart of those years must say plainly how many of its cities it actually shows, and
that the US figure is then an FBI estimate from partial reporting.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.notes import national_display

FIRST_COUNTED_YEAR = 2017  # the PSP years: before them the tables cover nearly every city shown
PARTIAL_MARK = "FBI estimate for the whole country"
YEARS_PER_LINE = 4  # the source line does not wrap: keep it inside a narrow embed


def reporting_by_year(
    series: pd.DataFrame, geoids: list[str], measure: str, years: range, table_years: set[int]
) -> list[tuple[int, int | None]]:
    """(year, cities of ``geoids`` with a value of ``measure``) per year; None where no city table exists."""
    shown = series[series["geoid"].isin(geoids) & series[measure].notna()]
    counts = shown.groupby("year")["geoid"].nunique()
    return [(y, int(counts.get(y, 0)) if y in table_years else None) for y in years]


def reporting_line(dataset: Dataset, series: pd.DataFrame, geoids: list[str], measure: str,
                   year_from: int, year_to: int) -> str:  # fmt: skip
    """ "Cities with a figure: 2019 10 of 10 · 2020 none (no FBI city table) · 2021 6 of 10", from 2017 on."""
    start = max(year_from, FIRST_COUNTED_YEAR)
    if not geoids or start > year_to:
        return ""
    counts = reporting_by_year(series, geoids, measure, range(start, year_to + 1), set(dataset.years))
    if len(geoids) == 1:  # one city: its gaps show which years it lacks; only say where no table exists
        no_table = [str(year) for year, n in counts if n is None]
        return f"No FBI city table for {', '.join(no_table)}" if no_table else ""
    parts = [
        f"{year} none (no FBI city table)" if n is None else f"{year} {n} of {len(geoids)}"
        for year, n in counts
    ]
    lines = [" · ".join(parts[i : i + YEARS_PER_LINE]) for i in range(0, len(parts), YEARS_PER_LINE)]
    return "Cities with a figure: " + "<br>".join(lines)


def national_estimate_line(dataset: Dataset, offence: str, year_from: int, year_to: int) -> str:
    """ "US 2021–2022: FBI estimate from partial reporting; US 2020: derived ...", for the years shown."""
    national = national_display(dataset, offence)
    national = national[national["year"].between(year_from, year_to)]
    partial = national.loc[national["notes"].str.contains(PARTIAL_MARK, regex=False), "year"].tolist()
    derived = national.loc[national["source"].str.contains("derived", regex=False), "year"].tolist()
    pieces = []
    if partial:
        span = str(partial[0]) if len(partial) == 1 else f"{partial[0]}–{partial[-1]}"
        pieces.append(f"US {span}: FBI estimate from partial reporting")
    if derived:
        pieces.append(f"US {', '.join(map(str, derived))}: derived from the states")
    return "; ".join(pieces)
