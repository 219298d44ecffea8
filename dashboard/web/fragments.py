"""HTML fragments for the page, rendered from view data: tables, the ranking summary, data notes, notices."""

from __future__ import annotations

from dash import html

from dashboard.data.dataset import Dataset
from dashboard.data.notes import city_notes, general_notes
from dashboard.data.queries import all_series
from dashboard.data.state import ViewState
from dashboard.views import ranking as ranking_view
from dashboard.views.tables import TableData


def data_table(table: TableData) -> html.Table:
    """An accessible table: caption, column headers, and each row's first cell as its row header."""
    return html.Table(
        [
            html.Caption(table.caption),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in table.headers])),
            html.Tbody(
                [html.Tr([html.Th(r[0], scope="row"), *[html.Td(c) for c in r[1:]]]) for r in table.rows]
            ),
        ]
    )


def sustained_table(table: TableData) -> html.Table:
    """The ranking's table of highlighted cities (compact, under the chart)."""
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in table.headers])),
            html.Tbody([html.Tr([html.Td(c) for c in row]) for row in table.rows]),
        ],
        className="sustained",
        **{"aria-label": table.label},
    )


def ranking_summary(dataset: Dataset, state: ViewState) -> list | str:
    """The sentence under the ranking and the sustained table of the highlighted cities."""
    sentence = ranking_view.ranking_summary_text(dataset, state)
    table = ranking_view.sustained_table(dataset, state)
    return sentence if table is None else [html.P(sentence), sustained_table(table)]


def notes_view(dataset: Dataset, geoids: list[str], offence: str, year_from: int, year_to: int) -> list:
    """General notes, then one collapsible block per selected city (open when three or fewer)."""
    geoids = [g for g in geoids if g in dataset.cities.index]
    blocks = [
        html.H3("All cities"),
        html.Ul([html.Li(t) for t in general_notes(dataset, offence, year_from, year_to)]),
    ]
    series = all_series(dataset, offence)  # cached: the notes pick their cities' rows from it
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


def notice(notices: tuple[str, ...]) -> tuple[list, str]:
    """The notice box's children and class: hidden when there is nothing to say."""
    return [html.P(text) for text in notices], "notice" if notices else "notice hidden"
