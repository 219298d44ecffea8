"""HTTP routes for exports: ``/export/data.csv``, ``/export/<chart>.<fmt>``, ``/export/briefing.pdf``.

Each takes the page's own query string (``state.parse_query``: invalid values are dropped,
never an error). Bad chart, format or size answer 400/404 with a short plain-text message;
a rendering failure answers 503 and the browser is restarted for the next request.

Successful results are cached (``cache.ResultCache``: per dataset version, code version and
normalised view) and served with ``Cache-Control: public``, an ETag and ``X-Atlas-Cache:
hit|miss``; failures are never cached.
"""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import quote

import flask

from dashboard.data.dataset import Dataset
from dashboard.data.state import ViewState, parse_query
from dashboard.errors import ExportError, ExportTimeout, RequestError
from dashboard.publish.exports import briefing as briefing_export
from dashboard.publish.exports import charts as export_charts
from dashboard.publish.exports import csv as export_csv
from dashboard.publish.exports.ranking_csv import ranking_csv
from dashboard.serve.cache import CACHE_HEADER, WORKER_HEADER, get_cache, worker_id
from dashboard.views.registry import CHARTS

log = logging.getLogger(__name__)

# Charts whose numbers download as /export/<chart>.csv (issue 14); the others' are in /export/data.csv.
CSV_EXPORTS = {
    "trends": export_csv.view_csv,
    "outcomes": export_csv.outcomes_csv,
    "ranking": ranking_csv,  # issue 13: every ranked place, with its peers
}
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
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 5:  # "²".isdigit() is True
        raise RequestError(export_charts.size_error(name))
    return int(raw)


EXPORT_MAX_AGE = 3600  # s: a result is fixed for a dataset and code version; a deploy may change it


NOTICE_HEADER = "X-Atlas-Notice"
# Printable ASCII stays as it is; anything else (quotes, dashes, a user's unicode) is percent-encoded UTF-8.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def notice_header(notices: tuple[str, ...]) -> str:
    """The notices of a view as one header value: UTF-8, percent-encoded (``decodeURIComponent``)."""
    return quote(" ".join(notices), safe=_HEADER_SAFE)[:4000]


def _file_response(
    body: bytes, kind: str, filename: str, *, attachment: bool, hit: bool, notices: tuple[str, ...] = ()
) -> flask.Response:
    """The export with validators: identical bytes for identical views, so clients may keep it; what the
    link asked for that was not used is said in ``X-Atlas-Notice`` (and inside the file)."""
    response = flask.Response(body, content_type=export_charts.CONTENT_TYPES[kind])
    if notices:
        response.headers[NOTICE_HEADER] = notice_header(notices)
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = f"public, max-age={EXPORT_MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers[CACHE_HEADER] = "hit" if hit else "miss"
    response.headers[WORKER_HEADER] = worker_id()
    response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest())
    return response.make_conditional(flask.request)


def _failure(what: str, exc: Exception) -> flask.Response:
    """One mapping of export errors: a refused request 400, too slow 504, rendering trouble 503, else 500.

    Only a :class:`RequestError` is the client's fault; any other exception (a ``ValueError`` from a bug
    included) is a server error whose text is logged, never sent.
    """
    if isinstance(exc, RequestError):
        return _plain(str(exc), 400)
    if isinstance(exc, ExportTimeout):
        log.warning("%s export timed out: %s", what, exc)
        return _plain(
            f"The {what} took too long to render and was stopped; try fewer cities or a smaller size.",
            504,
        )
    if isinstance(exc, ExportError):
        log.warning("%s export failed: %s", what, exc)
        return _plain(f"The {what} could not be rendered just now; please try again.", 503)
    log.error("%s export failed", what, exc_info=exc)
    return _plain(f"The {what} export failed (server error).", 500)


def register_export_routes(server: flask.Flask, dataset: Dataset) -> None:
    """Add the export routes to the app's Flask server (one warm export browser per process)."""
    cache = get_cache(server, dataset)

    def cached_export(
        what: str, kind: str, fmt: str, state: ViewState, build, *key, attachment: bool = False
    ):
        """The export from the cache or built now, as a file response; a failure as one plain message."""
        try:
            body, hit = cache.fetch(cache.key("export", f"{kind}.{fmt}", state, *key), build)
        except Exception as exc:
            return _failure(what, exc)
        filename = export_csv.export_filename(dataset, state, kind, fmt)
        return _file_response(body, fmt, filename, attachment=attachment, hit=hit, notices=state.notices)

    @server.get("/export/data.csv")
    def export_data_csv():
        state = _view_state(dataset)
        build = lambda: export_csv.view_csv(dataset, state).encode("utf-8")  # noqa: E731
        return cached_export("data", "data", "csv", state, build, attachment=True)

    @server.get("/export/briefing.pdf")
    def export_briefing():
        state = _view_state(dataset)
        return cached_export(
            "briefing", "briefing", "pdf", state, lambda: briefing_export.briefing_pdf(dataset, state)
        )

    @server.get("/export/<name>")
    def export_chart(name: str):
        match = _CHART_FILE.match(name)
        if not match or match["chart"] not in CHARTS:
            return _plain(
                f"No such export. Use /export/<chart>.<format> with chart one of "
                f"{', '.join(CHARTS)} and format one of {', '.join(export_charts.FORMATS)}, "
                "/export/data.csv or /export/briefing.pdf.",
                404,
            )
        chart, fmt = match["chart"], match["fmt"]
        if fmt == "csv" and chart in CSV_EXPORTS:  # the chart's numbers (trends: the same as data.csv)
            state = _view_state(dataset)
            build = lambda: CSV_EXPORTS[chart](dataset, state).encode("utf-8")  # noqa: E731
            return cached_export(chart, chart, "csv", state, build, attachment=True)
        if fmt not in export_charts.FORMATS:
            return _plain(
                f"Format {fmt} is not available: use one of {', '.join(export_charts.FORMATS)} "
                f"(csv for {' and '.join(CSV_EXPORTS)}).",
                400,
            )
        state = _view_state(dataset)
        try:
            width, height = _size("width"), _size("height")
        except RequestError as exc:
            return _failure(chart, exc)
        build = lambda: export_charts.render_chart(dataset, state, chart, fmt, width, height)  # noqa: E731
        return cached_export(chart, chart, fmt, state, build, width, height)
