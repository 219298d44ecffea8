"""HTML fragments for the page, rendered from view data: tables, the ranking summary, data notes, notices."""

from __future__ import annotations

from dash import dash_table, html

from dashboard.data.dataset import Dataset
from dashboard.data.notes import city_notes, general_notes
from dashboard.data.queries import all_series
from dashboard.data.state import ViewState
from dashboard.views import ranking as ranking_view
from dashboard.views.outcomes_method import REFERENCES, data_note, method_paragraphs
from dashboard.views.tables import TableData


def data_table(table: TableData, chart: str = "") -> list:
    """A panel's table (issue 18): caption, then a sortable, filterable grid of exactly the chart's numbers
    (numbers sort as numbers; a missing value is blank and its row's Note says why), CSV download."""
    columns, records = table_records(table)
    grid = dash_table.DataTable(
        id=f"{chart}-grid" if chart else "grid",
        columns=columns,
        data=records,
        sort_action="native",
        filter_action="native",
        filter_options={"case": "insensitive", "placeholder_text": "filter…"},
        export_format="csv",
        export_headers="display",
        page_action="none",
        style_table={"maxHeight": "460px", "overflowY": "auto", "overflowX": "auto"},
        style_cell={
            "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
            "fontSize": "15px",
            "padding": "3px 8px",
            "textAlign": "left",
            "whiteSpace": "normal",
            "minWidth": "70px",
        },
        style_cell_conditional=[{"if": {"column_type": "numeric"}, "textAlign": "right"}],
        style_header={"fontWeight": "600", "backgroundColor": "#f3f3f1", "whiteSpace": "normal"},
        style_data_conditional=[
            {"if": {"filter_query": "{Caution} contains 'fewer'"}, "backgroundColor": "#fff8e6"}
        ],
        css=[{"selector": ".export", "rule": "margin: 4px 0; font-family: inherit;"}],
    )
    return [html.P(table.caption, className="table-caption"), grid]


MISSING_WORDS = ("no data", "not reported")
NUMBER_SUFFIXES = (" per 100,000", "× national", "×", " national")


def parse_number(cell: str) -> float | None:
    """1740.2 from "1,740.2 per 100,000", 4.67 from "4.67× national"; None for anything else."""
    text = cell.strip()
    for suffix in NUMBER_SUFFIXES:
        text = text.removesuffix(suffix)
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def table_records(table: TableData) -> tuple[list[dict], list[dict]]:
    """DataTable columns and rows from a :class:`TableData`: a column whose cells are all numbers or
    "no data"/"not reported" is numeric (missing = blank, never 0), and those words go to a Note column."""
    headers = list(table.headers)
    numeric = []
    for i in range(1, len(headers)):
        cells = [row[i] for row in table.rows if i < len(row)]
        parsed = [parse_number(c) for c in cells]
        if any(p is not None for p in parsed) and all(
            p is not None or not c.strip() or c.startswith(MISSING_WORDS)
            for c, p in zip(cells, parsed, strict=True)
        ):
            numeric.append(i)
    records, notes = [], False
    for row in table.rows:
        record: dict = {}
        note = ""
        for i, header in enumerate(headers):
            cell = row[i] if i < len(row) else ""
            if i in numeric:
                record[header] = parse_number(cell)
                if record[header] is None and cell.startswith(MISSING_WORDS) and not note:
                    note = cell
            else:
                record[header] = cell
        if note:
            record["Note"] = note
            notes = True
        records.append(record)
    columns = [
        {"name": h, "id": h, "type": "numeric" if i in numeric else "text"} for i, h in enumerate(headers)
    ]
    if notes:
        columns.append({"name": "Note", "id": "Note", "type": "text"})
    return columns, records


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


def outcomes_method(class_name: str = "method-note") -> html.Details:
    """Issue 14: how the outcomes comparison works, in plain English (closed until asked for)."""
    body: list = []
    for heading, text in method_paragraphs():
        body.append(html.P([html.Strong(f"{heading}. "), text]))
    body.append(html.P(html.Strong("References")))
    body.append(html.Ul([html.Li(r) for r in REFERENCES]))
    return html.Details([html.Summary("How this comparison works"), *body], className=class_name)


def notes_view(dataset: Dataset, geoids: list[str], offence: str, year_from: int, year_to: int) -> list:
    """General notes, then one collapsible block per selected city (open when three or fewer)."""
    geoids = [g for g in geoids if g in dataset.cities.index]
    blocks = [
        html.H3("All cities"),
        html.Ul([html.Li(t) for t in general_notes(dataset, offence, year_from, year_to)]),
    ]
    if dataset.outcomes is not None:
        blocks.append(html.P(data_note(), className="outcomes-note"))
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
