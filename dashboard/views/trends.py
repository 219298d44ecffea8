"""The trends view: small multiples, summary and table for a view state."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.data.caveats import panel_caveats
from dashboard.data.dataset import Dataset
from dashboard.data.joined import joined_years
from dashboard.data.notes import national_display, review_flags
from dashboard.data.queries import all_series
from dashboard.data.reporting import national_estimate_line, reporting_line
from dashboard.data.state import ViewState
from dashboard.figures import trends as trends_fig
from dashboard.figures.common import figure_from_spec
from dashboard.figures.joined import align_spec
from dashboard.views.tables import TableData, value_cells
from dashboard.views.text import city_sentence, years_above_national

NOTE_LINE_PX = 19  # one line of the 14 px source note


def trends_figure(
    dataset: Dataset,
    geoids: list[str],
    offence: str,
    measure: str,
    year_from: int,
    year_to: int,
    align: str = "calendar",
    cohort: str = "",
) -> go.Figure:
    """Small multiples from the cached series; built as plain JSON (see figures/trends.py), so a city
    added or removed costs tens of milliseconds, not seconds. ``align="joined"`` counts each panel's
    years from the site's announcement (``cohort`` decides for a site in several cohorts)."""
    geoids = [g for g in geoids if g in dataset.cities.index]
    series = all_series(dataset, offence)
    announcements: dict[str, list[tuple[str, str]]] = {}
    for row in dataset.programs.itertuples():
        announcements.setdefault(row.geoid, []).append((row.announced, row.program))
    shown = series[series["geoid"].isin(geoids)]
    notes = (
        reporting_line(dataset, shown, geoids, measure, year_from, year_to),
        national_estimate_line(dataset, offence, year_from, year_to),
    )
    spec = trends_fig.trends_spec(
        shown,
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
        extra_note="<br>".join(n for n in notes if n),
        panel_notes=panel_caveats(dataset, geoids, measure, year_from, year_to),
    )
    extra_lines = sum(n.count("<br>") + 1 for n in notes if n)
    if extra_lines and "margin" in spec["layout"]:  # room under the plot for the added note lines
        spec["layout"]["margin"]["b"] += NOTE_LINE_PX * extra_lines
        spec["layout"]["height"] += NOTE_LINE_PX * extra_lines
    if align == "joined":
        spec = align_spec(spec, geoids, joined_years(dataset, geoids, cohort), year_from, year_to)
    return figure_from_spec(spec)


def trends_view_figure(dataset: Dataset, state: ViewState) -> go.Figure:
    return trends_figure(
        dataset,
        list(state.cities),
        state.offence,
        state.measure,
        state.year_from,
        state.year_to,
        align=state.align,
        cohort=state.cohort,
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
    by_key = {(r.geoid, int(r.year)): r for r in _shown_series(dataset, state).itertuples()}
    table_years = set(dataset.years)
    rows = []
    shown = dict.fromkeys(g for g in state.cities if g in dataset.cities.index)
    for geoid in sorted(shown, key=dataset.label):
        for year in range(state.year_from, state.year_to + 1):
            row = by_key.get((geoid, year))
            if row is not None:
                rows.append((f"{row.label} {year}", *value_cells(row), review_flags(row.notes)))
            else:  # a gap says why, never a blank that reads as zero (issue 12)
                why = "not reported" if year in table_years else "not reported (no FBI city table)"
                rows.append((f"{dataset.label(geoid)} {year}", why, "", "", "", ""))
    return TableData(
        caption=f"{label}, {span}: selected cities (a year without a figure says “not reported”)",
        headers=("City and year", "Offences", "Rate per 100,000", "US rate", "Ratio", "Review flag"),
        rows=tuple(rows),
    )
