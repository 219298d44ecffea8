"""The page, built from small named components. Controls are seeded from the query string."""

from __future__ import annotations

from dash import dcc, html

from dashboard.data.dataset import Dataset
from dashboard.data.state import ViewState, cohort_options
from dashboard.figures.common import dataset_label
from dashboard.figures.ranking import FBI_RANKING_CAUTION
from dashboard.web import ids
from dashboard.web.fragments import outcomes_method
from dashboard.web.panels import GRAPH_CONFIG, chart_block, hero_panel, panel_head
from dashboard.web.widgets import (
    align_control,
    band_control,
    labelled,
    minpop_control,
    places_layer_store,
    small_control,
    trend_options,
)


def _year_marks(years: list[int]) -> dict[int, str]:
    return {y: str(y) for y in years if y % 10 == 0}


INTRO = (
    "How far above the national average were the cities chosen for the DOJ National Public Safety "
    "Partnership (2017–2024) and the Violence Reduction Network (2014–2016), and since when?"
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
            labelled(
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
            labelled(
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
            labelled(
                "Offence",
                dcc.Dropdown(
                    id=ids.OFFENCE, options=offences, value=state.offence, clearable=False, searchable=False
                ),
                ids.OFFENCE,
            ),
            labelled(
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
            minpop_control(dataset, state),
            labelled(
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
            labelled(
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
            labelled(
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


def outcomes_panel(state: ViewState) -> html.Section:
    """Issue 14: the sites against places like them that were not chosen (figure filled by a callback),
    with the same Chart | Table switch as every panel (issue 18)."""
    return html.Section(
        [
            panel_head("What happened after they joined?", "outcomes", "outcomes chart", state),
            html.P(id=ids.OUTCOMES_SUMMARY, className="summary"),
            outcomes_method(),
            *chart_block(
                "outcomes",
                "outcomes chart",
                dcc.Loading(dcc.Graph(id=ids.OUTCOMES, config=GRAPH_CONFIG), type="dot"),
                state,
            ),
        ],
        className="panel",
    )


def page(dataset: Dataset, state: ViewState, map_figure) -> html.Div:
    return html.Div(
        className="page",
        children=[
            dcc.Location(id=ids.URL, refresh=False),
            places_layer_store(dataset),
            html.Header(
                className="header",
                children=[
                    html.Div(
                        [
                            html.H1("Safety Partnership Atlas"),
                            html.P(INTRO, className="intro"),
                        ]
                    ),
                    html.Div(
                        className="header-actions",
                        children=[
                            html.Button(
                                "Controls",
                                id=ids.CONTROLS_TOGGLE,
                                className="button controls-toggle",
                                type="button",
                                **{"aria-expanded": "false", "aria-controls": "controls-drawer"},
                            ),
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
                    html.Aside(
                        [
                            html.Button("Done", className="button drawer-close", type="button"),
                            controls(dataset, state),
                        ],
                        className="sidebar",
                        id="controls-drawer",
                        **{"aria-label": "Controls"},
                    ),
                    html.Main(
                        className="content",
                        children=[
                            hero_panel(state, map_figure),
                            html.Section(
                                [
                                    panel_head(
                                        "Trends against the national rate", "trends", "trends chart", state
                                    ),
                                    html.Div(
                                        [align_control(state), trend_options(dataset, state)],
                                        className="trend-controls",
                                    ),
                                    *chart_block(
                                        "trends",
                                        "trends chart",
                                        dcc.Loading(
                                            dcc.Graph(id=ids.TRENDS, config=GRAPH_CONFIG), type="dot"
                                        ),
                                        state,
                                    ),
                                ],
                                className="panel",
                            ),
                            outcomes_panel(state),
                            html.Section(
                                [
                                    panel_head(
                                        "Selection criterion: who was above the national rate?",
                                        "ranking",
                                        "ranking chart",
                                        state,
                                    ),
                                    html.Div(
                                        [band_control(dataset, state), small_control(state)],
                                        className="ranking-controls",
                                    ),
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
                                                    state,
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
                                ],
                                className="panel",
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
