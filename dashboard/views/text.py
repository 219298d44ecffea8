"""Plain-language sentences about one city's figures, shared by summaries and present mode."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.figures.common import format_value


def city_sentence(row: pd.Series | Mapping, offence_label: str) -> str:
    """ "In 2015 Memphis's violent crime rate was 1,740.2 per 100,000, 4.67 times the national rate"."""
    if pd.isna(row["rate"]):
        return f"{row['label']} has no {offence_label.lower()} figure for {int(row['year'])}"
    text = (
        f"In {int(row['year'])} the {offence_label.lower()} rate in {row['label']} was "
        f"{format_value(row['rate'], 'rate')}"
    )
    if pd.notna(row["ratio"]):
        text += f", {float(row['ratio']):.2f} times the national rate"
    return text


def years_above_national(rows: pd.DataFrame | Mapping[str, list], year: int) -> int:
    """Consecutive years up to ``year`` with a ratio above 1 (a missing year ends the run)."""
    by_year = dict(zip(rows["year"], rows["ratio"], strict=True))
    count = 0
    while year in by_year and pd.notna(by_year[year]) and by_year[year] > 1:
        count += 1
        year -= 1
    return count
