"""From control values to figures and page fragments: shared by callbacks and routes.

Each function is pure given the loaded dataset, so the same view can be rendered in the
page, in an export or in a test without a server.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

import pandas as pd
from dash import html

from dashboard.data import Dataset, city_series, year_snapshot
from dashboard.figures import map as map_fig
from dashboard.figures import ranking as ranking_fig
from dashboard.figures import trends as trends_fig
from dashboard.notes import city_notes, general_notes, national_display
from dashboard.state import highlight_cohorts


def data_url(dataset: Dataset, name: str) -> str:
    """A geodata file's URL, versioned so browsers may keep it for a year (``/data/<name>``)."""
    return f"/data/{name}?v={quote(dataset.version)}"


@lru_cache(maxsize=64)
def _snapshot(dataset: Dataset, year: int, offence: str) -> pd.DataFrame:
    return year_snapshot(dataset, year, offence)


@lru_cache(maxsize=16)
def _all_series(dataset: Dataset, offence: str) -> pd.DataFrame:
    return city_series(dataset, None, offence)


def map_figure(
    dataset: Dataset,
    year: int,
    offence: str,
    measure: str,
    selected: list[str],
    *,
    geojson: str | dict | None = None,
    states_geojson: str | dict | None = None,
):
    """The full map; geometry is referenced by its versioned URL unless given (exports embed it)."""
    return map_fig.build_map_figure(
        _snapshot(dataset, year, offence),
        geojson=data_url(dataset, "cities.geojson") if geojson is None else geojson,
        states_geojson=data_url(dataset, "states.geojson") if states_geojson is None else states_geojson,
        measure=measure,
        offence_label=dataset.offence_label(offence),
        year=year,
        version=dataset.version,
        selected=selected,
        scale_values=colour_scale_values(dataset, offence, measure),
    )


def colour_scale_values(dataset: Dataset, offence: str, measure: str) -> pd.Series:
    """Every city-year of the offence: the map's colour scale spans all years, not just one."""
    return _all_series(dataset, offence)[measure]


@lru_cache(maxsize=256)
def map_snapshot(dataset: Dataset, year: int, offence: str, measure: str) -> tuple[dict, str]:
    """What a recolour sends (colours, hover numbers, colour axis) and the title; cached per view.

    Cached because the result depends only on these four values and moving the year slider
    back and forth is the commonest interaction. Callers must not mutate the result.
    """
    label = dataset.offence_label(offence)
    snapshot = _snapshot(dataset, year, offence)
    values = map_fig.map_values(
        snapshot, measure, label, year, colour_scale_values(dataset, offence, measure)
    )
    return values, map_fig.map_title(label, measure, year)


def trends_figure(
    dataset: Dataset, geoids: list[str], offence: str, measure: str, year_from: int, year_to: int
):
    """Small multiples from the cached series; built as plain JSON (see figures/trends.py), so a city
    added or removed costs tens of milliseconds, not seconds."""
    geoids = [g for g in geoids if g in dataset.cities.index]
    series = _all_series(dataset, offence)
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


def ranked_cities(dataset: Dataset, cohort: str, offence: str, year: int, threshold: float) -> pd.DataFrame:
    """The ranking's rows (``ranking.ranking_frame``) for a view: the chart, its summary and its table."""
    return ranking_fig.ranking_frame(
        _all_series(dataset, offence), dataset.cities, year, threshold, highlight_cohorts(dataset, cohort)
    )


def ranking_view(dataset: Dataset, cohort: str, offence: str, year: int, threshold: float):
    label = dataset.offence_label(offence)
    ranked = ranked_cities(dataset, cohort, offence, year, threshold)
    if ranked.empty:
        message = ranking_fig.no_data_message(label, year)
        return trends_fig.empty_figure(message, dataset.version), message
    fig = ranking_fig.build_ranking_figure(
        ranked, year=year, threshold=threshold, offence_label=label, version=dataset.version
    )
    summary = ranking_fig.ranking_summary(ranked, threshold, year, label)
    return fig, [html.P(summary), sustained_table(ranked, threshold, year)]


def sustained_table(ranked: pd.DataFrame, threshold: float, year: int) -> html.Table:
    """Highlighted cities: how far above the national rate, and for how many years in a row."""
    chosen = ranked[ranked["highlight"] != "other"]
    header = html.Tr(
        [
            html.Th("City"),
            html.Th("Cohort"),
            html.Th("Rank"),
            html.Th(f"Ratio in {year}"),
            html.Th(f"Years in a row at or above {threshold:g}× (to {year})"),
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(r.label),
                html.Td(r.highlight),
                html.Td(int(r.rank)),
                html.Td(f"{r.ratio:.2f}×"),
                html.Td(int(r.streak)),
            ]
        )
        for r in chosen.itertuples()
    ]
    return html.Table(
        [html.Thead(header), html.Tbody(rows)],
        className="sustained",
        **{"aria-label": "Sustained: years in a row above the threshold"},
    )


def notes_view(dataset: Dataset, geoids: list[str], offence: str, year_from: int, year_to: int) -> list:
    geoids = [g for g in geoids if g in dataset.cities.index]
    blocks = [
        html.H3("All cities"),
        html.Ul([html.Li(t) for t in general_notes(dataset, offence, year_from, year_to)]),
    ]
    series = _all_series(dataset, offence)  # cached: the notes pick their cities' rows from it
    for notes in city_notes(dataset, geoids, offence, year_from, year_to, series=series):
        blocks.append(
            html.Details(
                [html.Summary(notes.label), html.Ul([html.Li(t) for t in notes.items])],
                open=len(geoids) <= 3,
                className="city-notes",
                **{"data-geoid": notes.geoid},
            )
        )
    return blocks
