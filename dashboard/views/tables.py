"""Table data for each chart: the numbers behind it, as plain strings with a caption and headers.

Views return a :class:`TableData`; the page renders it as HTML (``web/fragments.py``), so the same
rows can serve a screen reader, a sortable table or a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.figures.common import format_value


@dataclass(frozen=True)
class TableData:
    """A table: each row's first cell is its header cell (the city, or city and year)."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    label: str = ""  # accessible name when the caption is not shown


def value_cells(row, with_count: bool = True) -> list[str]:
    """Count, rate, US rate and ratio of one row of ``city_series`` or ``year_snapshot``."""
    cells = [
        format_value(row.rate, "rate"),
        format_value(row.national_rate, "rate"),
        format_value(row.ratio, "ratio"),
    ]
    return ([format_value(row.count, "count")] if with_count else []) + cells
