"""Security: headers on every response, a guard in front of Dash's callback endpoint, plain errors.

:func:`register_security` is called last in ``create_app`` (after every callback exists, so
the CSP hashes of Dash's inline scripts are complete). It adds:

* response headers: a Content-Security-Policy that allows only the app's own origin
  (:data:`DIRECTIVES` says why each source is there), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin`` and the frame policy of ``embed.py`` (only ``/embed/*``
  may be framed). Responses that set their own CSP (embeds, briefing mode) keep it;
* a guard for ``POST /_dash-update-component``: bodies over :data:`MAX_CALLBACK_BODY` get
  413; anything that is not a JSON object for a registered callback whose input and state
  values fit the controls they name (:func:`value_rules`, a table) gets 400 with a short
  plain message, so malformed or hostile payloads never reach the callbacks;
* 404 for path traversal (``..`` segments, NUL, backslashes), for Flask's default
  ``/static/<path>`` (only the files listed in ``standalone.STATIC_FILES`` are served) and
  for paths Dash's catch-all would answer with the dashboard (the app has one page, ``/``);
* error handlers: every HTTP error and every unexpected exception answers a short
  ``text/plain`` message, never a traceback or the request echoed back; exceptions are logged.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import flask
from dash import Dash
from dash.exceptions import DependencyException, InvalidResourceError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from dashboard.data.dataset import Dataset
from dashboard.data.joined import ALIGNS
from dashboard.data.measures import MEASURES
from dashboard.data.places import BANDS, MINPOPS
from dashboard.data.state import MAX_CITIES, SCALES, THRESHOLD_RANGE, cohort_options
from dashboard.publish.embed import frame_headers
from dashboard.schema import OFFENCES
from dashboard.web import ids

log = logging.getLogger(__name__)

EXTENSION_KEY = "atlas_security"
CALLBACK_PATH = "/_dash-update-component"
CATCHALL_ENDPOINT = "/<path:path>"  # Dash's catch-all route (any path answered with the page)
MAX_CALLBACK_BODY = 256 * 1024  # bytes: real callback requests are a few KB
MAX_URL_CHARS = 8 * 1024  # characters of dcc.Location search/href a callback accepts
MAX_CITY_CODE = 16  # characters of one entry of the cities dropdown (GEOIDs have 7)
VIEWS = ("chart", "table")  # a panel's Chart | Table switch (issue 18)
REFERRER_POLICY = "same-origin"  # full URL same-origin only: server.page_query reads the Referer

# The dashboard page's Content-Security-Policy: directive, sources, why they are needed.
# ``{hashes}`` becomes the hashes of Dash's inline scripts (app.csp_hashes()). Each source was
# found necessary in Chromium (tests/browser/test_csp.py: no violation on /, /embed/map and
# /?present=1); none of 'unsafe-eval' or 'wasm-unsafe-eval' is needed by dash-renderer,
# plotly.js or MapLibre.
DIRECTIVES: tuple[tuple[str, str, str], ...] = (
    ("default-src", "'self'", "anything not listed below: the app's own origin only"),
    ("script-src", "'self' {hashes}", "bundles from /_dash-component-suites; Dash's inline renderer start"),
    ("style-src", "'self' 'unsafe-inline'", "plotly.js injects <style>; React sets style attributes"),
    ("img-src", "'self' data: blob:", "a graph's 'Download plot as a PNG' uses data:/blob: images"),
    ("font-src", "'self'", "system fonts only: no font is downloaded"),
    ("connect-src", "'self'", "layout, dependencies, callbacks and the /data/*.geojson MapLibre draws"),
    ("worker-src", "blob:", "MapLibre runs its workers from a blob: URL (the map stays blank without)"),
    ("child-src", "blob:", "the same for browsers without worker-src (Safari before 15.5)"),
    ("object-src", "'none'", "no plugins"),
    ("base-uri", "'self'", "no <base> pointing elsewhere"),
    ("form-action", "'self'", "no form posts to another site"),
)
NO_CSP_TYPES = ("application/pdf",)  # Chromium's PDF viewer is an embedded plugin: no object-src for it


def dashboard_csp(script_hashes: Iterable[str]) -> str:
    """The CSP of the dashboard page (and default of every response without its own)."""
    hashes = " ".join(script_hashes)
    return "; ".join(f"{name} {sources.format(hashes=hashes)}".strip() for name, sources, _ in DIRECTIVES)


# --- Callback payload rules -------------------------------------------------------------------

Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Rule:
    """What a control's value may be: a check and, for the 400 message, what was expected."""

    check: Check
    expected: str


def _text(limit: int) -> Check:
    return lambda v: isinstance(v, str) and len(v) <= limit


def _choice(options: Collection[str]) -> Check:
    allowed = frozenset(options)
    return lambda v: isinstance(v, str) and v in allowed


def _whole(allowed: Collection[int]) -> Check:
    values = frozenset(allowed)
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v in values


def _number(low: float, high: float) -> Check:
    return lambda v: (
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and low <= v <= high
    )


def _count() -> Check:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**53


def _list_of(item: Check, *, most: int, exactly: int | None = None) -> Check:
    def check(v: Any) -> bool:
        if not isinstance(v, list) or len(v) > most or (exactly is not None and len(v) != exactly):
            return False
        return all(item(x) for x in v)

    return check


def _ordered(check: Check) -> Check:
    """A list that passes ``check`` and is sorted (a range slider never sends its ends swapped)."""
    return lambda v: check(v) and all(a <= b for a, b in itertools.pairwise(v))


def _url(limit: int) -> Check:
    """Text a URL parser accepts (``http://[::1`` makes ``urlsplit`` raise)."""

    def check(v: Any) -> bool:
        if not _text(limit)(v):
            return False
        try:
            urlsplit(v)
        except ValueError:
            return False
        return True

    return check


def _mapping() -> Check:
    return lambda v: isinstance(v, dict)


def _or_null(check: Check) -> Check:
    return lambda v: v is None or check(v)


def value_rules(dataset: Dataset) -> dict[tuple[str, str], Rule]:
    """(component id, property) -> the values a callback accepts for it: one row per control.

    A callback input or state missing here is refused (400), so a new control needs a row:
    ``tests/test_fuzz_callbacks.py`` checks every registered callback input has one.
    """
    # every year of the slider: 2020 has no city row but is a year the page may show (issue 12)
    years = list(range(min(dataset.years), max(dataset.years) + 1))
    span = f"{min(years)}–{max(years)}"
    return {
        (ids.URL, "search"): Rule(
            _or_null(_text(MAX_URL_CHARS)), f"text of at most {MAX_URL_CHARS} characters"
        ),
        (ids.URL, "href"): Rule(
            _or_null(_url(MAX_URL_CHARS)), f"a URL of at most {MAX_URL_CHARS} characters"
        ),
        (ids.COHORT, "value"): Rule(_choice(cohort_options(dataset)), "one of the cohort options"),
        (ids.CITIES, "value"): Rule(
            _or_null(_list_of(_text(MAX_CITY_CODE), most=MAX_CITIES)),
            f"a list of at most {MAX_CITIES} city codes",
        ),
        (ids.OFFENCE, "value"): Rule(_choice(OFFENCES), "one of the offences"),
        (ids.MEASURE, "value"): Rule(_choice(MEASURES), "rate, ratio or count"),
        (ids.YEAR, "value"): Rule(_whole(years), f"a year from {span}"),
        (ids.YEAR_RANGE, "value"): Rule(
            _ordered(_list_of(_whole(years), most=2, exactly=2)), f"two years from {span}, in order"
        ),
        (ids.THRESHOLD, "value"): Rule(
            _number(*THRESHOLD_RANGE), f"a number from {THRESHOLD_RANGE[0]:g} to {THRESHOLD_RANGE[1]:g}"
        ),
        (ids.MAP, "clickData"): Rule(_or_null(_mapping()), "click data (an object) or null"),
        (ids.ALIGN, "value"): Rule(_choice(ALIGNS), "calendar or joined"),
        # issue 18
        **{
            (ids.table_toggle(chart), "value"): Rule(_choice(VIEWS), "chart or table") for chart in ids.CHARTS
        },
        (ids.TREND_BASE, "value"): Rule(_or_null(_whole(years)), f"a year from {span} or null"),
        (ids.TREND_SCALE, "value"): Rule(_choice(SCALES), "linear or log"),
        (ids.TREND_SMOOTH, "value"): Rule(_whole((1, 3)), "1 or 3"),
        (ids.SMALL, "value"): Rule(_or_null(_list_of(_choice(("exclude",)), most=1)), '[] or ["exclude"]'),
        (ids.MINPOP, "value"): Rule(_whole(MINPOPS), "0, 10000, 25000, 50000 or 100000"),  # issue 13
        (ids.BAND, "value"): Rule(_choice(BANDS), "all or an FBI population group"),
    }


@dataclass(frozen=True)
class CallbackSpec:
    """What the renderer must send for one registered callback (from ``app.callback_map``)."""

    inputs: tuple[tuple[str, str], ...]
    state: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]


def callback_specs(app: Dash) -> dict[str, CallbackSpec]:
    """Callback key (the request's ``output``) -> its inputs, state and outputs, for the callbacks the
    server runs (a clientside callback runs in the browser: a request for it is refused)."""
    specs = {}
    for key, entry in app.callback_map.items():
        if "callback" not in entry:
            continue
        declared = entry.get("output")
        outputs = declared if isinstance(declared, list | tuple) else [declared] if declared else []
        specs[key] = CallbackSpec(
            inputs=tuple((str(i["id"]), str(i["property"])) for i in entry.get("inputs", [])),
            state=tuple((str(s["id"]), str(s["property"])) for s in entry.get("state", [])),
            outputs=tuple((str(o.component_id), str(o.component_property)) for o in outputs),
        )
    return specs


class PayloadError(ValueError):
    """A callback request that cannot be served: the message is shown to the client."""


def _items(body: Mapping, key: str, declared: tuple[tuple[str, str], ...]) -> list[dict]:
    items = body.get(key, [])
    if not isinstance(items, list) or len(items) != len(declared):
        raise PayloadError(f"The callback request's {key} do not match the callback.")
    for item, (cid, prop) in zip(items, declared, strict=True):
        if not isinstance(item, dict) or item.get("id") != cid or item.get("property") != prop:
            raise PayloadError(f"The callback request's {key} do not match the callback.")
    return items


def check_callback_body(body: Any, specs: Mapping[str, CallbackSpec], rules: Mapping) -> None:
    """Raise :class:`PayloadError` unless ``body`` is a well-formed request for a known callback."""
    if not isinstance(body, dict):
        raise PayloadError("The callback request must be a JSON object.")
    if "output" not in body or "inputs" not in body:
        raise PayloadError("The callback request needs 'output' and 'inputs'.")
    output = body["output"]
    if not isinstance(output, str) or output not in specs:
        raise PayloadError("The callback request names no known callback.")
    spec = specs[output]
    for key, declared in (("inputs", spec.inputs), ("state", spec.state)):
        for item in _items(body, key, declared):
            rule = rules.get((item["id"], item["property"]))
            if rule is None:
                raise PayloadError(f"{item['id']}.{item['property']} is not accepted by this server.")
            if not rule.check(item.get("value")):
                raise PayloadError(f"{item['id']}.{item['property']} must be {rule.expected}.")
    if "outputs" in body:
        outputs = body["outputs"]
        outputs = outputs if isinstance(outputs, list) else [outputs]
        sent = [
            (o.get("id"), o.get("property").split("@")[0])
            if isinstance(o, dict) and isinstance(o.get("property"), str)
            else None
            for o in outputs
        ]
        if sent != list(spec.outputs):
            raise PayloadError("The callback request's outputs do not match the callback.")
    changed = body.get("changedPropIds", [])
    names = {f"{cid}.{prop}" for cid, prop in spec.inputs}
    if not isinstance(changed, list) or not all(isinstance(c, str) and c in names for c in changed):
        raise PayloadError("The callback request's changedPropIds name no input of the callback.")


# --- Hooks ------------------------------------------------------------------------------------


def plain(message: str, status: int) -> flask.Response:
    """A short plain-text answer (no HTML, nothing of the request echoed)."""
    return flask.Response(message.rstrip() + "\n", status=status, mimetype="text/plain")


NOT_FOUND = "Not found. The dashboard is at /, the data files at /data/."
_SEPARATORS = re.compile(r"[/\\]")


def is_traversal(path: str) -> bool:
    """A path with ``..`` segments, backslashes or NUL: no route needs one, so it is refused."""
    return "\x00" in path or "\\" in path or ".." in _SEPARATORS.split(path)


def _too_large() -> flask.Response:
    return plain(f"The callback request is too large (limit {MAX_CALLBACK_BODY // 1024} KB).", 413)


def _guard_callback(specs: Mapping[str, CallbackSpec], rules: Mapping) -> flask.Response | None:
    request = flask.request
    if (request.content_length or 0) > MAX_CALLBACK_BODY:
        return _too_large()
    if not request.is_json:
        return plain("The callback request must be JSON (Content-Type: application/json).", 415)
    # A chunked body (no Content-Length) is read up to one byte over the limit, no further.
    request.max_content_length = MAX_CALLBACK_BODY + 1
    try:
        if len(request.get_data(cache=True)) > MAX_CALLBACK_BODY:
            return _too_large()
    except RequestEntityTooLarge:
        return _too_large()
    try:
        body = request.get_json()  # parsed from the cached bytes; Dash reads the same object
    except (HTTPException, RecursionError, ValueError):
        return plain("The callback request is not valid JSON.", 400)
    try:
        check_callback_body(body, specs, rules)
    except PayloadError as exc:
        return plain(str(exc), 400)
    return None


def register_security(app: Dash, dataset: Dataset) -> None:
    """Add headers, the callback guard and plain error pages to ``app`` (a second call does nothing)."""
    server = app.server
    if server.extensions.get(EXTENSION_KEY):
        return
    specs = callback_specs(app)
    rules = value_rules(dataset)
    unlisted = sorted(
        {f"{c}.{p}" for s in specs.values() for c, p in (*s.inputs, *s.state)}
        - {f"{c}.{p}" for c, p in rules}
    )
    if unlisted:
        log.warning("callback inputs without a value rule (their requests are refused): %s", unlisted)
    csp = dashboard_csp(app.csp_hashes())
    server.extensions[EXTENSION_KEY] = {"csp": csp, "rules": rules, "specs": specs}

    @server.before_request
    def _guard() -> flask.Response | None:
        request = flask.request
        if is_traversal(request.path) or request.endpoint in ("static", CATCHALL_ENDPOINT):
            return plain(NOT_FOUND, 404)
        if request.path == CALLBACK_PATH and request.method == "POST":
            return _guard_callback(specs, rules)
        return None

    @server.after_request
    def _headers(response: flask.Response) -> flask.Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        if "Content-Security-Policy" not in headers and response.mimetype not in NO_CSP_TYPES:
            headers["Content-Security-Policy"] = csp
        return frame_headers(response, flask.request.path)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code is None:  # not an error (routing redirects are handled before this)
            return exc
        if exc.code == 404:
            return plain(NOT_FOUND, 404)
        return plain(f"{exc.code} {exc.name}.", exc.code)

    @server.errorhandler(InvalidResourceError)
    @server.errorhandler(DependencyException)
    def _no_resource(_exc: Exception):
        # Dash answers these with the requested package and path in an HTML 404, or a 500.
        return plain(NOT_FOUND, 404)

    @server.errorhandler(Exception)
    def _server_error(exc: Exception):
        log.error("unhandled error on %s %s", flask.request.method, flask.request.path, exc_info=exc)
        return plain("Something went wrong on the server; it has been logged. Please try again.", 500)
