"""Accessible data tables for each chart ("View as table"): the numbers behind it, for screen readers."""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboard.data import Dataset
from dashboard.figures.common import format_value
from dashboard.state import ViewState


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> html.Table:
    return html.Table(
        [
            html.Caption(caption),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in headers])),
            html.Tbody([html.Tr([html.Th(r[0], scope="row"), *[html.Td(c) for c in r[1:]]]) for r in rows]),
        ]
    )


def _cells(row, with_count: bool = True) -> list[str]:
    cells = [
        format_value(row.rate, "rate"),
        format_value(row.national_rate, "rate"),
        format_value(row.ratio, "ratio"),
    ]
    return ([format_value(row.count, "count")] if with_count else []) + cells


def map_table(dataset: Dataset, state: ViewState) -> html.Table:
    from dashboard.views import _snapshot  # the views' caches: no recomputation per request

    snapshot = _snapshot(dataset, state.year, state.offence).sort_values("label")
    label = dataset.offence_label(state.offence)
    rows = [
        [r.label, *_cells(r), str(r.source).split(" + ")[0] if pd.notna(r.source) else ""]
        for r in snapshot.itertuples()
    ]
    return _table(
        f"{label}, {state.year}: every city on the map",
        ["City", "Offences", "Rate per 100,000", "US rate", "Ratio", "Source"],
        rows,
    )


def trends_table(dataset: Dataset, state: ViewState) -> html.Table:
    from dashboard.views import _all_series

    series = _all_series(dataset, state.offence)
    series = series[
        series["geoid"].isin(state.cities) & series["year"].between(state.year_from, state.year_to)
    ]
    label = dataset.offence_label(state.offence)
    rows = [[f"{r.label} {r.year}", *_cells(r)] for r in series.itertuples()]
    return _table(
        f"{label}, {state.year_from}–{state.year_to}: selected cities (years without data are omitted)",
        ["City and year", "Offences", "Rate per 100,000", "US rate", "Ratio"],
        rows,
    )


def ranking_table(dataset: Dataset, state: ViewState) -> html.Table:
    from dashboard.views import ranked_cities

    ranked = ranked_cities(dataset, state.cohort, state.offence, state.year, state.threshold)
    label = dataset.offence_label(state.offence)
    rows = [
        [
            r.label,
            str(r.rank),
            f"{r.ratio:.2f}×",
            "" if r.highlight == "other" else r.highlight,
            str(r.streak),
        ]
        for r in ranked.itertuples()
    ]
    return _table(
        f"{label}, {state.year}: cities ranked by ratio to the national rate",
        ["City", "Rank", "Ratio", "Highlighted cohort", f"Years in a row ≥ {state.threshold:g}×"],
        rows,
    )


CHART_TABLES = {"map": map_table, "trends": trends_table, "ranking": ranking_table}
