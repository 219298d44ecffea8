"""Plain HTTP routes: ``/healthz``, the curated data files under ``/data/`` and the all-places map layer."""

from __future__ import annotations

from pathlib import Path

import flask

from dashboard.data.dataset import DATA_FILES, OPTIONAL_DATA_FILES, Dataset
from dashboard.schema import OFFENCES
from dashboard.views.places_layer import places_layer_json

STATIC_MAX_AGE = 24 * 3600
VERSIONED_MAX_AGE = 365 * 24 * 3600
PUBLIC_DATA_FILES = (
    *DATA_FILES, *OPTIONAL_DATA_FILES,
    "COVERAGE.md", "unmatched_places.csv", "SCREENING.md", "screening.csv", "SOURCES.md", "README.md",
)  # fmt: skip


def _cached(response: flask.Response, dataset: Dataset) -> flask.Response:
    """A data file's caching: a day, or a year and ``immutable`` when the page asked for ?v=<dataset
    version> (that URL's bytes never change)."""
    if flask.request.args.get("v") == dataset.version:
        response.headers["Cache-Control"] = f"public, max-age={VERSIONED_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
    return response


def _register_routes(server: flask.Flask, dataset: Dataset, folder: Path) -> None:
    @server.get("/healthz")
    def healthz():
        return flask.jsonify(
            status="ok",
            data_version=dataset.version,
            cities=len(dataset.cities),
            city_years=len(dataset.crime),
            years=[min(dataset.years), max(dataset.years)],
        )

    @server.get("/data/")
    def data_index():
        items = "".join(
            f'<li><a href="/data/{n}">{n}</a></li>' for n in PUBLIC_DATA_FILES if (folder / n).is_file()
        )
        return (
            f"<!doctype html><title>Data files</title><h1>Data files ({dataset.version})</h1><ul>{items}</ul>"
        )

    @server.get("/data/places/<name>")
    def places_layer(name: str):
        """The all-places map layer of one offence (issue 13): fetched once, kept by the browser."""
        offence = name.removesuffix(".json")
        if not name.endswith(".json") or offence not in OFFENCES or dataset.place_points is None:
            flask.abort(404)
        response = flask.Response(places_layer_json(dataset, offence), mimetype="application/json")
        return _cached(response, dataset)

    @server.get("/data/<name>")
    def data_file(name: str):
        """The curated files, cacheable: geometry is downloaded once per dataset version."""
        if name not in PUBLIC_DATA_FILES or not (folder / name).is_file():
            flask.abort(404)
        mimetype = {".geojson": "application/geo+json", ".csv": "text/csv", ".md": "text/markdown"}[
            Path(name).suffix
        ]
        response = flask.send_file(
            folder / name, mimetype=mimetype, conditional=True, etag=True, max_age=STATIC_MAX_AGE
        )
        return _cached(response, dataset)
