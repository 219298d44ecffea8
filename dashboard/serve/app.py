"""The Dash app factory: one loaded dataset, the page, callbacks and routes."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

import flask
import plotly.io as pio
from dash import Dash
from dash.dash import _default_index

from dashboard.data.dataset import Dataset, load_dataset
from dashboard.data.queries import data_url
from dashboard.data.state import parse_query
from dashboard.publish.embed import register_embed_routes
from dashboard.publish.present import register_present_mode
from dashboard.serve.cache import init_cache
from dashboard.serve.compression import init_compression
from dashboard.serve.export_routes import register_export_routes
from dashboard.serve.routes import _register_routes
from dashboard.serve.security import register_security
from dashboard.settings import PROJECT_ROOT, Settings, load_settings, use_settings
from dashboard.views.map import map_figure
from dashboard.web import layout
from dashboard.web.callbacks import register_callbacks

log = logging.getLogger(__name__)

# Dash serialises callback results with plotly's JSON encoder. Its orjson engine first walks
# every list element in Python (clean_to_json_compatible): 13 ms for a 20 KB map patch against
# 3 ms with the standard-library engine, which is never slower for our figures (see benchmarks/).
pio.json.config.default_engine = "json"


def create_app(
    dataset: Dataset | None = None, data_dir: Path | None = None, settings: Settings | None = None
) -> Dash:
    """Build the app around one loaded dataset (loading it here fails fast on bad data).

    ``settings`` default to the environment's, read now; they become the process's settings.
    """
    settings = settings or load_settings()
    use_settings(settings)
    folder = Path(data_dir) if data_dir else settings.geodata_dir
    dataset = dataset or load_dataset(folder)
    app = Dash(
        __name__,
        title="Safety Partnership Atlas",
        assets_folder=str(PROJECT_ROOT / "assets"),
        serve_locally=True,
        update_title=None,
    )
    init_compression(app.server)  # first after_request hook registered = the last to run
    app.index_string = index_with_preload(data_url(dataset, "cities.geojson"))

    def serve_layout():
        """Called per page load: controls and the first map come from the query string."""
        state = parse_query(page_query(), dataset)
        figure = map_figure(
            dataset,
            state.year,
            state.offence,
            state.measure,
            list(state.cities),
            height=None,
            threshold=state.threshold,
        )
        return layout.page(dataset, state, figure)

    app.layout = serve_layout
    # Callbacks reference components that only exist in the function layout's output.
    app.config.suppress_callback_exceptions = False
    register_callbacks(app, dataset)
    _register_routes(app.server, dataset, folder)
    init_cache(app.server, dataset, settings)
    register_export_routes(app.server, dataset)
    register_embed_routes(app.server, dataset)
    register_present_mode(app.server, dataset)
    register_security(app, dataset)  # last: the CSP hashes need every callback registered
    finish_dash_setup(app)
    return app


def finish_dash_setup(app: Dash) -> None:
    """Run Dash's one-time set-up now, not on the first request.

    Dash 4 marks that set-up done *before* doing it, so on a fresh threaded worker a request that
    arrives while the first one is still setting up is answered 500 ("dash is not a registered
    library"). Doing it here (before gunicorn forks, with --preload) closes the race.
    """
    with app.server.test_request_context("/"):
        app._setup_server()  # private, no public equivalent: see the docstring


def index_with_preload(geometry_url: str) -> str:
    """Dash's page, plus a hint to fetch the city geometry while the scripts still load.

    plotly.js fetches the GeoJSON from the page itself (not from a worker), with the default
    same-origin credentials that ``crossorigin="anonymous"`` matches, so the preloaded copy is
    the one used (the browser test checks it is downloaded once).
    """
    hint = (
        f'<link rel="preload" href="{geometry_url}" as="fetch" '
        'type="application/geo+json" crossorigin="anonymous">'
    )
    return _default_index.replace("{%css%}", "{%css%}\n        " + hint, 1)


def page_query() -> str:
    """The query string of the page whose layout is being built.

    Dash fetches the layout with a separate request (``/_dash-layout``), so the page's own
    query arrives as its same-origin Referer. The sync callback applies the URL again after
    load, so this only spares the first paint a flash of the default view.
    """
    if not flask.has_request_context():
        return ""
    if flask.request.query_string:
        return flask.request.query_string.decode("utf-8", "replace")
    referrer = urlparse(flask.request.referrer or "")
    return referrer.query if referrer.netloc == flask.request.host else ""
