"""The floor: an empty Dash page with one ``dcc.Graph`` and one no-op callback.

Nothing can be faster than this with Dash on this machine: its page load is the cost of the
Dash renderer and plotly.js alone, and its callback round trip is Dash's own overhead.
``gunicorn -c gunicorn.conf.py benchmarks.apps.floor_app:server`` or ``python -m benchmarks.apps.floor_app``.
"""

from __future__ import annotations

import argparse
import logging

import flask
from dash import Dash, Input, Output, dcc, html

from benchmarks.apps import finish_dash_setup

try:  # compressed the same way as the atlas, when the atlas compresses (flask-compress)
    from flask_compress import Compress
except ImportError:  # pragma: no cover - optional
    Compress = None


def create_app() -> Dash:
    app = Dash(__name__, title="Floor", serve_locally=True, update_title=None)
    app.layout = html.Div(
        [
            dcc.Input(id="noop", value="", type="text"),
            html.Div(id="out"),
            dcc.Graph(id="graph", figure={"data": [], "layout": {"title": {"text": "floor"}}}),
        ]
    )

    @app.callback(Output("out", "children"), Input("noop", "value"), prevent_initial_call=True)
    def noop(value: str) -> str:
        """A constant: the response is Dash's minimum (headers plus a few bytes of JSON)."""
        return "ok"

    @app.server.get("/healthz")
    def healthz():
        return flask.jsonify(status="ok")

    if Compress is not None:
        Compress(app.server)
    return app


app = create_app()
finish_dash_setup(app)
server = app.server


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the floor reference app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8051)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app.run(host=args.host, port=args.port, debug=False)


if __name__ == "__main__":
    main()
