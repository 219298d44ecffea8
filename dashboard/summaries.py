"""Plain-language summaries of each chart: alt text for exports, aria text on the page, embeds."""

from __future__ import annotations

import pandas as pd

from .data import Dataset, city_series, year_snapshot
from .figures.common import MEASURE_LABELS, format_value
from .state import ViewState


def city_sentence(row: pd.Series, offence_label: str) -> str:
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


def years_above_national(rows: pd.DataFrame, year: int) -> int:
    """Consecutive years up to ``year`` with a ratio above 1 (a missing year ends the run)."""
    by_year = dict(zip(rows["year"], rows["ratio"], strict=True))
    count = 0
    while year in by_year and pd.notna(by_year[year]) and by_year[year] > 1:
        count += 1
        year -= 1
    return count


def map_summary(dataset: Dataset, state: ViewState) -> str:
    snapshot = year_snapshot(dataset, state.year, state.offence).dropna(subset=["ratio"])
    label = dataset.offence_label(state.offence)
    if snapshot.empty:
        return f"Map of {label.lower()} in {state.year}: no city has data for that year."
    top = snapshot.sort_values("ratio", ascending=False).iloc[0]
    programs = snapshot[snapshot["is_program"]]
    return (
        f"Map of {label.lower()} in {state.year}, {MEASURE_LABELS[state.measure]}, "
        f"for {len(snapshot)} cities with data. Highest: {top['label']} at "
        f"{float(top['ratio']):.2f} times the national rate. "
        f"{int((programs['ratio'] > 1).sum())} of {len(programs)} program cities with data were above "
        "the national rate."
    )


def trends_summary(dataset: Dataset, state: ViewState) -> str:
    label = dataset.offence_label(state.offence)
    if not state.cities:
        return "No cities selected."
    series = city_series(dataset, list(state.cities), state.offence)
    series = series[series["year"].between(state.year_from, state.year_to)]
    sentences = []
    for geoid in state.cities:
        rows = series[series["geoid"] == geoid].dropna(subset=["rate"])
        if rows.empty:
            sentences.append(
                f"{dataset.label(geoid)}: no {label.lower()} data in {state.year_from}–{state.year_to}"
            )
            continue
        last = rows.iloc[-1]
        run = years_above_national(rows, int(last["year"]))
        tail = f"; above the national rate for {run} years in a row" if run > 1 else ""
        sentences.append(city_sentence(last, label) + tail)
    return (
        f"{label} trends {state.year_from}–{state.year_to} against the national rate. "
        + ". ".join(sentences)
        + "."
    )


def ranking_summary_text(dataset: Dataset, state: ViewState) -> str:
    from .views import ranking_view

    _fig, children = ranking_view(dataset, state.cohort, state.offence, state.year, state.threshold)
    first = children[0] if isinstance(children, list) else children
    return first if isinstance(first, str) else str(first.children)


def chart_summary(dataset: Dataset, state: ViewState, chart: str) -> str:
    """The alt text for one chart (``map``, ``trends`` or ``ranking``) of a view."""
    if chart == "map":
        return map_summary(dataset, state)
    if chart == "trends":
        return trends_summary(dataset, state)
    if chart == "ranking":
        return ranking_summary_text(dataset, state)
    raise ValueError(f"unknown chart {chart!r}")
