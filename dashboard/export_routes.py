"""HTTP routes for exports: ``/export/data.csv``, ``/export/<chart>.<fmt>``, ``/export/briefing.pdf``.

Each takes the page's own query string (``state.parse_query``: invalid values are dropped,
never an error). Bad chart, format or size answer 400/404 with a short plain-text message;
a rendering failure answers 503 and the browser is restarted for the next request.
"""

from __future__ import annotations

import logging
import re

import flask

from . import exports
from .data import Dataset
from .state import ViewState, parse_query

log = logging.getLogger(__name__)

_CHART_FILE = re.compile(r"^(?P<chart>[a-z]+)\.(?P<fmt>[a-z0-9]+)$")


def _plain(message: str, status: int) -> flask.Response:
    return flask.Response(message.rstrip() + "\n", status=status, mimetype="text/plain")


def _view_state(dataset: Dataset) -> ViewState:
    return parse_query(flask.request.query_string.decode("utf-8", "replace"), dataset)


def _size(name: str) -> int | None:
    """``width``/``height`` from the query: None when absent, ValueError when not a whole number."""
    raw = flask.request.args.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 5:
        raise ValueError(exports.size_error(name))
    return int(raw)


def _file_response(body: bytes | str, kind: str, filename: str, *, attachment: bool) -> flask.Response:
    response = flask.Response(body, content_type=exports.CONTENT_TYPES[kind])
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # nothing is cached yet
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register_export_routes(server: flask.Flask, dataset: Dataset) -> None:
    """Add the export routes to the app's Flask server (one warm export browser per process)."""

    @server.get("/export/data.csv")
    def export_data_csv():
        state = _view_state(dataset)
        try:
            text = exports.view_csv(dataset, state)
        except ValueError as exc:
            return _plain(str(exc), 400)
        filename = exports.export_filename(dataset, state, "data", "csv")
        return _file_response(text.encode("utf-8"), "csv", filename, attachment=True)

    @server.get("/export/briefing.pdf")
    def export_briefing():
        state = _view_state(dataset)
        try:
            body = exports.briefing_pdf(dataset, state)
        except ValueError as exc:
            return _plain(str(exc), 400)
        except exports.ExportError as exc:
            log.warning("briefing export failed: %s", exc)
            return _plain("The briefing could not be rendered just now; please try again.", 503)
        except Exception:
            log.exception("briefing export failed")
            return _plain("The briefing export failed (server error).", 500)
        filename = exports.export_filename(dataset, state, "briefing", "pdf")
        return _file_response(body, "pdf", filename, attachment=False)

    @server.get("/export/<name>")
    def export_chart(name: str):
        match = _CHART_FILE.match(name)
        if not match or match["chart"] not in exports.CHARTS:
            return _plain(
                f"No such export. Use /export/<chart>.<format> with chart one of "
                f"{', '.join(exports.CHARTS)} and format one of {', '.join(exports.FORMATS)}, "
                "/export/data.csv or /export/briefing.pdf.",
                404,
            )
        chart, fmt = match["chart"], match["fmt"]
        if fmt not in exports.FORMATS:
            return _plain(f"Format {fmt} is not available: use one of {', '.join(exports.FORMATS)}.", 400)
        state = _view_state(dataset)
        try:
            body = exports.render_chart(dataset, state, chart, fmt, _size("width"), _size("height"))
        except ValueError as exc:
            return _plain(str(exc), 400)
        except exports.ExportError as exc:
            log.warning("%s.%s export failed: %s", chart, fmt, exc)
            return _plain(f"The {chart} could not be rendered just now; please try again.", 503)
        except Exception:
            log.exception("%s.%s export failed", chart, fmt)
            return _plain(f"The {chart} export failed (server error).", 500)
        filename = exports.export_filename(dataset, state, chart, fmt)
        return _file_response(body, fmt, filename, attachment=False)
