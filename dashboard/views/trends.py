"""The trends view: small multiples, summary and table for a view state."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.data.caution import caution_phrase, small_count
from dashboard.data.caveats import panel_caveats
from dashboard.data.dataset import Dataset
from dashboard.data.joined import joined_years
from dashboard.data.notes import national_display, review_flags
from dashboard.data.queries import all_series
from dashboard.data.reporting import national_estimate_line, reporting_line
from dashboard.data.state import ViewState
from dashboard.figures import trend_measures
from dashboard.figures import trends as trends_fig
from dashboard.figures.common import figure_from_spec
from dashboard.figures.joined import align_spec
from dashboard.views.tables import CAUTION_HEADER, TableData, caution_cell, value_cells
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
    base: int | None = None,
    scale: str = "linear",
    smooth: int = 1,
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
    drawn = trend_measures.transform(shown, measure, smooth=smooth, base=base, key="geoid")  # issue 18
    national = trend_measures.transform(
        national_display(dataset, offence), "rate", smooth=smooth, base=base, key=None
    )
    notes = (
        reporting_line(dataset, shown, geoids, measure, year_from, year_to),
        national_estimate_line(dataset, offence, year_from, year_to),
    )
    spec = trends_fig.trends_spec(
        drawn,
        national,
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
    trend_measures.restyle(spec, measure=measure, smooth=smooth, base=base, scale=scale)
    small = shown[small_count(shown["count"]).fillna(False).to_numpy(dtype=bool)]
    marks: dict[str, set[int]] = {}
    for geoid, year in zip(small["geoid"], small["year"], strict=True):
        marks.setdefault(geoid, set()).add(int(year))
    trend_measures.small_count_marks(spec, geoids, marks, caution_phrase(dataset.offence_label(offence)))
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
        base=state.base,
        scale=state.scale,
        smooth=state.smooth,
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
    """Every shown city-year; with a change or an average chosen, a last column gives what the chart
    draws (issue 18), so the table and the chart hold the same points."""
    label = dataset.offence_label(state.offence)
    span = f"{state.year_from}–{state.year_to}"
    shown_series = _shown_series(dataset, state)
    by_key = {(r.geoid, int(r.year)): r for r in shown_series.itertuples()}
    options = state.smooth > 1 or state.base is not None
    drawn: dict[tuple[str, int], float] = {}
    if options:
        frame = trend_measures.transform(
            shown_series, state.measure, smooth=state.smooth, base=state.base, key="geoid"
        )
        drawn = {
            (g, int(y)): v
            for g, y, v in zip(frame["geoid"], frame["year"], frame[state.measure], strict=True)
        }
    table_years = set(dataset.years)
    rows = []
    shown = dict.fromkeys(g for g in state.cities if g in dataset.cities.index)
    for geoid in sorted(shown, key=dataset.label):
        for year in range(state.year_from, state.year_to + 1):
            row = by_key.get((geoid, year))
            extra = []
            if options:
                value = drawn.get((geoid, year))
                extra = ["" if value is None or value != value else f"{value:,.2f}"]
            if row is not None:
                rows.append(
                    (
                        f"{row.label} {year}",
                        *value_cells(row),
                        review_flags(row.notes),
                        caution_cell(row.count),
                        *extra,
                    )
                )
            else:  # a gap says why, never a blank that reads as zero (issue 12)
                why = "not reported" if year in table_years else "not reported (no FBI city table)"
                rows.append((f"{dataset.label(geoid)} {year}", why, "", "", "", "", "", *extra))
    headers = (
        "City and year",
        "Offences",
        "Rate per 100,000",
        "US rate",
        "Ratio",
        "Review flag",
        CAUTION_HEADER,
    )
    if options:
        chart_label = trend_measures.measure_label(state.measure, smooth=state.smooth, base=state.base)
        headers += (chart_label[0].upper() + chart_label[1:],)
    return TableData(
        caption=f"{label}, {span}: selected cities (a year without a figure says “not reported”)",
        headers=headers,
        rows=tuple(rows),
    )
