"""Each panel's parts (issue 18): its Chart | Table switch, chart block, tools, and the hero map panel."""

from __future__ import annotations

from dash import dcc, html

from dashboard.data.state import ViewState
from dashboard.web import ids

GRAPH_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def view_switch(chart: str, label: str, state: ViewState) -> html.Div:
    """Chart | Table for one panel (issue 18): the table shows exactly the chart's numbers; ``tables=``
    in the URL keeps the choice."""
    return html.Div(
        dcc.RadioItems(
            id=ids.table_toggle(chart),
            value="table" if chart in state.tables else "chart",
            options=[{"label": "Chart", "value": "chart"}, {"label": "Table", "value": "table"}],
            className="view-switch",
            inputClassName="view-switch-input",
            labelClassName="view-switch-option",
            inline=True,
        ),
        role="group",
        **{"aria-label": f"Show the {label} as a chart or a table"},
    )


def chart_tools(chart: str, label: str) -> html.Div:
    """Export links and embed code for one chart; hrefs follow the view (callbacks)."""
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


def chart_block(chart: str, label: str, graph, state: ViewState) -> list:
    """A chart with its hidden plain-language summary, tools, and its table (one of the two is shown)."""
    as_table = chart in state.tables
    return [
        html.P(id=ids.chart_summary(chart), className="sr-only", **{"aria-live": "polite"}),
        html.Div(
            graph,
            id=ids.chart_view(chart),
            role="figure",
            hidden=as_table,
            **{"aria-describedby": ids.chart_summary(chart), "aria-label": label},
        ),
        html.Div(id=ids.table(chart), className="data-table", hidden=not as_table),
        chart_tools(chart, label),
    ]


def panel_head(title: str, chart: str | None, label: str, state: ViewState) -> html.Div:
    """A panel's title with its Chart | Table switch on the right."""
    children = [html.H2(title)]
    if chart:
        children.append(view_switch(chart, label, state))
    return html.Div(children, className="panel-head")


def map_toolbar(state: ViewState) -> html.Div:
    """Play the years, and where to look: the lower 48, Alaska, Hawaii or Puerto Rico (assets/atlas.js
    moves the map in the browser: no request)."""
    regions = [
        ("lower48", "Lower 48"),
        ("alaska", "Alaska"),
        ("hawaii", "Hawaii"),
        ("puerto-rico", "Puerto Rico"),
    ]
    return html.Div(
        className="map-toolbar",
        children=[
            html.Button(
                "▶ Play years",
                id=ids.PLAY,
                n_clicks=0,
                className="button play",
                **{"aria-pressed": "false", "aria-label": "Play the map year by year"},
            ),
            dcc.Interval(id=ids.PLAY_TIMER, interval=1100, disabled=True, n_intervals=0),
            html.Div(
                [
                    html.Span("View:", className="tools-label"),
                    *[
                        html.Button(text, className="tool region", **{"data-region": key, "type": "button"})
                        for key, text in regions
                    ],
                ],
                id=ids.MAP_REGIONS,
                className="map-regions",
                role="group",
                **{"aria-label": "Move the map to"},
            ),
        ],
    )


def hero_panel(state: ViewState, map_figure) -> html.Section:
    """The map first (issue 18): the headline that answers the atlas's question, then the map."""
    graph = html.Div(
        [
            dcc.Graph(
                id=ids.MAP,
                figure=map_figure,
                config={**GRAPH_CONFIG, "scrollZoom": True},
                className="graph-map",
            ),
            html.Div(id=ids.MAP_LABELS, className="map-labels", **{"aria-hidden": "true"}),
        ],
        className="map-frame",
    )
    return html.Section(
        [
            html.P(id=ids.HEADLINE, className="headline", **{"aria-live": "polite"}),
            html.Div(
                [html.H2("Map"), map_toolbar(state), view_switch("map", "map", state)],
                className="panel-head",
            ),
            *chart_block("map", "map", graph, state),
        ],
        className="panel hero",
        id="map-panel",
    )
