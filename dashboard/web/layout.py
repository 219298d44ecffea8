"""The page, built from small named components. Controls are seeded from the query string."""

from __future__ import annotations

from dash import dcc, html

from dashboard.data.dataset import Dataset
from dashboard.data.state import ViewState, cohort_options
from dashboard.figures.common import dataset_label
from dashboard.figures.ranking import FBI_RANKING_CAUTION
from dashboard.web import ids

GRAPH_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def _labelled(label: str, control, control_id: str) -> html.Div:
    extra = " control-slider" if type(control).__name__ in ("Slider", "RangeSlider") else ""
    return html.Div(
        [html.Label(label, htmlFor=control_id, className="control-label"), control],
        className="control" + extra,
    )


def _year_marks(years: list[int]) -> dict[int, str]:
    return {y: str(y) for y in years if y % 10 == 0}


INTRO = (
    "How far above the national average were the cities chosen for the DOJ National Public Safety "
    "Partnership (2017–2024) and the Violence Reduction Network (2014–2016), and since when?"
)


def align_control(state: ViewState) -> html.Div:
    """The trends' x axis (``align=`` in the URL): calendar years, or years since each site joined."""
    return _labelled(
        "Trend years on the x axis",
        dcc.RadioItems(
            id=ids.ALIGN,
            value=state.align,
            className="radio radio-inline",
            inputClassName="radio-input",
            options=[
                {"label": "Calendar years", "value": "calendar"},
                {"label": "Years since joining (0 = announced)", "value": "joined"},
            ],
        ),
        ids.ALIGN,
    )


def city_option_label(row) -> str:
    """ "Memphis, TN ★"; a membership no source confirms is marked (issue 12): "Tucson, AZ ★ (unconfirmed:
    PSP 2022)"."""
    star = " ★" if row.is_program else ""
    return f"{row.label}{star}" + (f" (unconfirmed: {row.unconfirmed})" if row.unconfirmed else "")


def controls(dataset: Dataset, state: ViewState) -> html.Div:
    years = dataset.years
    offences = [{"label": row.label, "value": name} for name, row in dataset.offences.iterrows()]
    city_options = [
        {"label": city_option_label(row), "value": row.geoid, "search": row.label}
        for row in dataset.cities.itertuples()
    ]
    return html.Div(
        className="controls",
        children=[
            _labelled(
                "Cohort",
                dcc.Dropdown(
                    id=ids.COHORT,
                    options=[{"label": v, "value": k} for k, v in cohort_options(dataset).items()],
                    value=state.cohort,
                    clearable=False,
                    searchable=False,
                ),
                ids.COHORT,
            ),
            _labelled(
                "Cities (type to search; ★ program city)",
                dcc.Dropdown(
                    id=ids.CITIES,
                    options=city_options,
                    value=list(state.cities),
                    multi=True,
                    placeholder="Type a city, e.g. Jackson, TN",
                ),
                ids.CITIES,
            ),
            _labelled(
                "Offence",
                dcc.Dropdown(
                    id=ids.OFFENCE, options=offences, value=state.offence, clearable=False, searchable=False
                ),
                ids.OFFENCE,
            ),
            _labelled(
                "Measure",
                dcc.RadioItems(
                    id=ids.MEASURE,
                    value=state.measure,
                    className="radio",
                    inputClassName="radio-input",
                    options=[
                        {"label": "Ratio to national rate", "value": "ratio"},
                        {"label": "Rate per 100,000", "value": "rate"},
                        {"label": "Count", "value": "count"},
                    ],
                ),
                ids.MEASURE,
            ),
            _labelled(
                "Map and ranking year",
                dcc.Slider(
                    id=ids.YEAR,
                    min=min(years),
                    max=max(years),
                    step=1,
                    value=state.year,
                    marks=_year_marks(years),
                    tooltip={"placement": "top", "always_visible": True},  # above: the marks are below
                ),
                ids.YEAR,
            ),
            _labelled(
                "Trend years",
                dcc.RangeSlider(
                    id=ids.YEAR_RANGE,
                    min=min(years),
                    max=max(years),
                    step=1,
                    value=[state.year_from, state.year_to],
                    marks=_year_marks(years),
                    tooltip={"placement": "top", "always_visible": True},  # above: the marks are below
                ),
                ids.YEAR_RANGE,
            ),
            _labelled(
                "Ranking threshold (× national rate)",
                dcc.Slider(
                    id=ids.THRESHOLD,
                    min=1,
                    max=4,
                    step=0.25,
                    value=state.threshold,
                    marks={v: f"{v:g}×" for v in (1, 1.5, 2, 3, 4)},
                    tooltip={"placement": "top", "always_visible": True},  # above: the marks are below
                ),
                ids.THRESHOLD,
            ),
        ],
    )


def notice(state: ViewState) -> html.Div:
    return html.Div(
        [html.P(text) for text in state.notices],
        id=ids.URL_NOTICE,
        role="status",
        className="notice" if state.notices else "notice hidden",
    )


def panel(title: str, *children, panel_id: str | None = None) -> html.Section:
    kwargs = {"id": panel_id} if panel_id else {}
    return html.Section([html.H2(title), *children], className="panel", **kwargs)


def chart_tools(chart: str, label: str) -> html.Div:
    """Export links, embed code and a data table for one chart; hrefs follow the view (callbacks)."""
    exports = [
        html.A(
            fmt.upper(),
            id=ids.export_link(chart, fmt),
            href=f"/export/{chart}.{fmt}",
            className="tool",
            download="",
            **{"aria-label": f"Download the {label} as {fmt.upper()}"},
        )
        for fmt in ids.EXPORT_FORMATS
    ]
    if chart in ids.CSV_CHARTS:  # the numbers behind this chart (issue 14)
        exports.append(
            html.A(
                "CSV",
                id=ids.export_link(chart, "csv"),
                href=f"/export/{chart}.csv",
                className="tool",
                download="",
                **{"aria-label": f"Download the numbers of the {label} as CSV"},
            )
        )
    return html.Div(
        className="chart-tools",
        children=[
            html.Span("Download:", className="tools-label"),
            *exports,
            html.Button(
                "View as table",
                id=ids.table_toggle(chart),
                n_clicks=0,
                className="tool",
                **{"aria-expanded": "false", "aria-controls": ids.table(chart)},
            ),
            html.Details(
                [
                    html.Summary("Embed", className="tool"),
                    html.P("Copy this code into your page (the frame resizes itself):"),
                    dcc.Textarea(
                        id=ids.embed_code(chart),
                        readOnly=True,
                        className="embed-code",
                        title=f"Embed code for the {label}",
                    ),
                ],
                className="embed",
            ),
        ],
    )


def chart_block(chart: str, label: str, graph) -> list:
    """A chart with its hidden plain-language summary, tools and (on request) its data table."""
    return [
        html.P(id=ids.chart_summary(chart), className="sr-only", **{"aria-live": "polite"}),
        html.Div(graph, role="figure", **{"aria-describedby": ids.chart_summary(chart), "aria-label": label}),
        chart_tools(chart, label),
        html.Div(id=ids.table(chart), className="data-table", hidden=True),
    ]


def outcomes_panel() -> html.Section:
    """Issue 14: the sites against places like them that were not chosen (figure filled by a callback)."""
    return panel(
        "What happened after they joined?",
        html.P(id=ids.OUTCOMES_SUMMARY, className="summary"),
        *chart_block(
            "outcomes",
            "outcomes chart",
            dcc.Loading(dcc.Graph(id=ids.OUTCOMES, config=GRAPH_CONFIG), type="dot"),
        ),
    )


def page(dataset: Dataset, state: ViewState, map_figure) -> html.Div:
    return html.Div(
        className="page",
        children=[
            dcc.Location(id=ids.URL, refresh=False),
            html.Header(
                className="header",
                children=[
                    html.Div(
                        [
                            html.H1("Safety Partnership Atlas"),
                            html.P(INTRO),
                        ]
                    ),
                    html.Div(
                        className="header-actions",
                        children=[
                            html.A(
                                "Download data (CSV)",
                                id=ids.DOWNLOAD_CSV,
                                href="/export/data.csv",
                                className="button",
                                download="",
                            ),
                            html.A(
                                "Present",
                                id=ids.PRESENT_LINK,
                                href="/?present=1",
                                className="button",
                                target="_blank",
                                **{"aria-label": "Open briefing mode in a new tab"},
                            ),
                        ],
                    ),
                ],
            ),
            notice(state),
            html.Div(
                className="layout",
                children=[
                    html.Aside(controls(dataset, state), className="sidebar", **{"aria-label": "Controls"}),
                    html.Main(
                        className="content",
                        children=[
                            panel(
                                "Map",
                                *chart_block(
                                    "map",
                                    "map",
                                    dcc.Graph(
                                        id=ids.MAP,
                                        figure=map_figure,
                                        config={**GRAPH_CONFIG, "scrollZoom": True},
                                        className="graph-map",
                                    ),
                                ),
                            ),
                            panel(
                                "Trends against the national rate",
                                align_control(state),
                                *chart_block(
                                    "trends",
                                    "trends chart",
                                    dcc.Loading(
                                        dcc.Graph(
                                            id=ids.TRENDS,
                                            config=GRAPH_CONFIG,
                                        ),
                                        type="dot",
                                    ),
                                ),
                            ),
                            outcomes_panel(),
                            panel(
                                "Selection criterion: who was above the national rate?",
                                html.Div(id=ids.RANKING_SUMMARY, className="summary"),
                                html.Div(
                                    className="ranking-row",
                                    children=[
                                        html.Div(
                                            chart_block(
                                                "ranking",
                                                "ranking chart",
                                                dcc.Graph(
                                                    id=ids.RANKING,
                                                    config=GRAPH_CONFIG,
                                                    className="graph-ranking",
                                                ),
                                            )
                                        ),
                                        html.Aside(
                                            [
                                                html.H3("FBI caution against ranking"),
                                                html.P(FBI_RANKING_CAUTION),
                                            ],
                                            className="caution",
                                        ),
                                    ],
                                ),
                            ),
                            panel("Data notes", html.Div(id=ids.DATA_NOTES, className="data-notes")),
                        ],
                    ),
                ],
            ),
            html.Footer(
                html.P(
                    [
                        f"{dataset_label(dataset.version)}. ",
                        "Data files and their provenance: ",
                        html.A("geodata/", href="/data/"),
                        ".",
                    ]
                ),
                className="footer",
            ),
        ],
    )
