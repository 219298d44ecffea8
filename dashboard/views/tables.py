"""Table data for each chart: the numbers behind it, as plain strings with a caption and headers.

Views return a :class:`TableData`; the page renders it as HTML (``web/fragments.py``), so the same
rows can serve a screen reader, a sortable table or a file.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.data.caution import small_count_below
from dashboard.figures.common import format_value

CAUTION_HEADER = "Caution"  # issue 18: a value resting on few offences says so in every table


@dataclass(frozen=True)
class TableData:
    """A table: each row's first cell is its header cell (the city, or city and year)."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    label: str = ""  # accessible name when the caption is not shown


def value_cells(row, with_count: bool = True) -> list[str]:
    """Count, rate, US rate and ratio of one row of ``city_series`` or ``year_snapshot``.

    A part-year count (fewer than 12 months) says so beside the count and has no rate or ratio: the
    chart leaves a gap there, the table gives the partial count with its months.
    """
    cells = [
        format_value(row.rate, "rate"),
        format_value(row.national_rate, "rate"),
        format_value(row.ratio, "ratio"),
    ]
    count = format_value(row.count, "count")
    if bool(getattr(row, "part_year", False)):
        months = f"part year: {int(row.months_reported)} of 12 months"
        count = f"{count} ({months})" if pd.notna(row.count) else months
    return ([count] if with_count else []) + cells


def caution_cell(count) -> str:
    """ "fewer than 10 offences" where a count is under the threshold; empty otherwise (and for gaps)."""
    if count is None or pd.isna(count) or float(count) >= small_count_below():
        return ""
    return f"fewer than {small_count_below()} offences"
