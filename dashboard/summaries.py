"""Plain-language summaries of each chart: alt text for exports, aria text on the page, embeds."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.data import Dataset
from dashboard.figures.common import MEASURE_LABELS, format_value
from dashboard.figures.ranking import no_data_message, ranking_summary
from dashboard.state import ViewState


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


def map_summary(dataset: Dataset, state: ViewState) -> str:
    from dashboard.views import _snapshot  # the map's own cached snapshot (views imports no summaries)

    snapshot = _snapshot(dataset, state.year, state.offence).dropna(subset=["ratio"])
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
    """One sentence per city about its latest year with a rate; one pass over the cached series."""
    from dashboard.views import _all_series

    label = dataset.offence_label(state.offence)
    if not state.cities:
        return "No cities selected."
    series = _all_series(dataset, state.offence)
    series = series[
        series["geoid"].isin(state.cities)
        & series["year"].between(state.year_from, state.year_to)
        & series["rate"].notna()
    ]
    by_city: dict[str, dict[str, list]] = {}
    columns = ("label", "year", "rate", "ratio")
    for geoid, *values in zip(series["geoid"].tolist(), *(series[c].tolist() for c in columns), strict=True):
        rows = by_city.setdefault(geoid, {c: [] for c in columns})
        for column, value in zip(columns, values, strict=True):
            rows[column].append(value)
    sentences = []
    for geoid in state.cities:
        rows = by_city.get(geoid)
        if rows is None:
            sentences.append(
                f"{dataset.label(geoid)}: no {label.lower()} data in {state.year_from}–{state.year_to}"
            )
            continue
        last = {column: values[-1] for column, values in rows.items()}
        run = years_above_national(rows, int(last["year"]))
        tail = f"; above the national rate for {run} years in a row" if run > 1 else ""
        sentences.append(city_sentence(last, label) + tail)
    return (
        f"{label} trends {state.year_from}–{state.year_to} against the national rate. "
        + ". ".join(sentences)
        + "."
    )


def ranking_summary_text(dataset: Dataset, state: ViewState) -> str:
    """The ranking's summary sentence (as ``views.ranking_view`` words it), without drawing the chart."""
    from dashboard.views import ranked_cities

    label = dataset.offence_label(state.offence)
    ranked = ranked_cities(dataset, state.cohort, state.offence, state.year, state.threshold)
    if ranked.empty:
        return no_data_message(label, state.year)
    return ranking_summary(ranked, state.threshold, state.year, label)


def chart_summary(dataset: Dataset, state: ViewState, chart: str) -> str:
    """The alt text for one chart (``map``, ``trends`` or ``ranking``) of a view."""
    if chart == "map":
        return map_summary(dataset, state)
    if chart == "trends":
        return trends_summary(dataset, state)
    if chart == "ranking":
        return ranking_summary_text(dataset, state)
    raise ValueError(f"unknown chart {chart!r}")
