"""The naive baseline: the same controls, written the common way.

One callback takes year, offence, measure and cities and returns a freshly built
``px.choropleth_map`` with the full city GeoJSON embedded, on every interaction. The numbers
come from the project's own data API (``load_dataset`` / ``year_snapshot``), so the map shows
the same values as the atlas; only the way it is delivered differs.
``gunicorn -c gunicorn.conf.py benchmarks.apps.naive_app:server`` or ``python -m benchmarks.apps.naive_app``.
"""

from __future__ import annotations

import argparse
import logging

import flask
import plotly.express as px
import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

from benchmarks.apps import finish_dash_setup
from dashboard.data.dataset import load_dataset
from dashboard.data.measures import MEASURES, year_snapshot

try:  # compressed like the atlas, so byte ratios compare gzip with gzip
    from flask_compress import Compress
except ImportError:  # pragma: no cover - optional
    Compress = None

DEFAULT_YEAR = 2015


def create_app() -> Dash:
    dataset = load_dataset()
    years = dataset.years
    program = dataset.cities[dataset.cities["is_program"]]
    app = Dash(__name__, title="Naive baseline", serve_locally=True, update_title=None)
    app.layout = html.Div(
        [
            dcc.Dropdown(
                id="cities",
                options=[{"label": r.label, "value": r.geoid} for r in dataset.cities.itertuples()],
                value=program["geoid"].tolist()[:12],
                multi=True,
            ),
            dcc.Dropdown(
                id="offence",
                options=[{"label": r.label, "value": k} for k, r in dataset.offences.iterrows()],
                value="violent_crime",
                clearable=False,
            ),
            dcc.RadioItems(id="measure", options=list(MEASURES), value="ratio"),
            dcc.Slider(id="year", min=min(years), max=max(years), step=1, value=DEFAULT_YEAR),
            dcc.Graph(id="map"),
        ]
    )

    @app.callback(
        Output("map", "figure"),
        Input("year", "value"),
        Input("offence", "value"),
        Input("measure", "value"),
        Input("cities", "value"),
    )
    def update_map(year: int, offence: str, measure: str, cities: list[str] | None) -> go.Figure:
        """Rebuild everything: data, geometry and styling travel on every change."""
        snapshot = year_snapshot(dataset, int(year), offence)
        fig = px.choropleth_map(
            snapshot,
            geojson=dataset.city_geojson,
            locations="geoid",
            featureidkey="properties.geoid",
            color=measure,
            hover_name="label",
            hover_data=["rate", "count", "ratio", "national_rate"],
            color_continuous_scale="RdBu_r" if measure == "ratio" else "YlOrRd",
            map_style="white-bg",
            center={"lat": 38.5, "lon": -96.5},
            zoom=3,
            opacity=0.8,
            title=f"{dataset.offence_label(offence)}, {measure}, {year}",
        )
        chosen = [g for g in cities or [] if g in dataset.cities.index]
        fig.add_trace(
            go.Choroplethmap(
                geojson=dataset.city_geojson,
                featureidkey="properties.geoid",
                locations=chosen,
                z=[1] * len(chosen),
                showscale=False,
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                marker={"line": {"width": 3, "color": "#2166ac"}},
                hoverinfo="skip",
            )
        )
        fig.update_layout(height=560, margin={"l": 10, "r": 10, "t": 60, "b": 10})
        return fig

    @app.server.get("/healthz")
    def healthz():
        return flask.jsonify(status="ok", data_version=dataset.version)

    if Compress is not None:
        Compress(app.server)
    return app


app = create_app()
finish_dash_setup(app)
server = app.server


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the naive baseline app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8052)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app.run(host=args.host, port=args.port, debug=False)


if __name__ == "__main__":
    main()
