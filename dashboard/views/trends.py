"""The trends view: small multiples, summary and table for a view state."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.data.dataset import Dataset
from dashboard.data.notes import national_display
from dashboard.data.queries import all_series
from dashboard.data.state import ViewState
from dashboard.figures import trends as trends_fig
from dashboard.views.tables import TableData, value_cells
from dashboard.views.text import city_sentence, years_above_national


def trends_figure(
    dataset: Dataset, geoids: list[str], offence: str, measure: str, year_from: int, year_to: int
) -> go.Figure:
    """Small multiples from the cached series; built as plain JSON (see figures/trends.py), so a city
    added or removed costs tens of milliseconds, not seconds."""
    geoids = [g for g in geoids if g in dataset.cities.index]
    series = all_series(dataset, offence)
    announcements: dict[str, list[tuple[str, str]]] = {}
    for row in dataset.programs.itertuples():
        announcements.setdefault(row.geoid, []).append((row.announced, row.program))
    return trends_fig.build_trends_figure(
        series[series["geoid"].isin(geoids)],
        national_display(dataset, offence),
        geoids=geoids,
        labels={g: dataset.label(g) for g in geoids},
        measure=measure,
        offence_label=dataset.offence_label(offence),
        rape_linked=bool(dataset.offences.at[offence, "rape_linked"]),
        year_from=year_from,
        year_to=year_to,
        announcements=announcements,
        breaks=dataset.breaks,
        version=dataset.version,
    )


def trends_view_figure(dataset: Dataset, state: ViewState) -> go.Figure:
    return trends_figure(
        dataset, list(state.cities), state.offence, state.measure, state.year_from, state.year_to
    )


def break_notes(dataset: Dataset, state: ViewState) -> list[str]:
    """The notes behind the trends chart's diamonds (documented breaks and caveats in the shown years),
    in panel order: "Indianapolis, IN, 1995: Indianapolis reported fewer than 12 months in 1995."
    The page shows them on hover; an image has to print them."""
    geoids = [g for g in state.cities if g in dataset.cities.index]
    breaks = dataset.breaks[
        dataset.breaks["geoid"].isin(geoids)
        & (dataset.breaks["year_to"] >= state.year_from)
        & (dataset.breaks["year_from"] <= state.year_to)
    ]
    order = {g: i for i, g in enumerate(geoids)}
    rows = sorted(breaks.itertuples(), key=lambda b: (order[b.geoid], int(b.year_from)))
    return [f"{dataset.label(b.geoid)}, {max(int(b.year_from), state.year_from)}: {b.note}" for b in rows]


def _shown_series(dataset: Dataset, state: ViewState):
    series = all_series(dataset, state.offence)
    return series[series["geoid"].isin(state.cities) & series["year"].between(state.year_from, state.year_to)]


def trends_summary(dataset: Dataset, state: ViewState) -> str:
    """One sentence per city about its latest year with a rate; one pass over the cached series."""
    label = dataset.offence_label(state.offence)
    if not state.cities:
        return "No cities selected."
    series = _shown_series(dataset, state)
    series = series[series["rate"].notna()]
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


def trends_table(dataset: Dataset, state: ViewState) -> TableData:
    label = dataset.offence_label(state.offence)
    span = f"{state.year_from}–{state.year_to}"
    return TableData(
        caption=f"{label}, {span}: selected cities (years without data are omitted)",
        headers=("City and year", "Offences", "Rate per 100,000", "US rate", "Ratio"),
        rows=tuple(
            (f"{r.label} {r.year}", *value_cells(r)) for r in _shown_series(dataset, state).itertuples()
        ),
    )
