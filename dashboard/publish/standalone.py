"""Small standalone (non-Dash) HTML pages: embeds and briefing mode.

A page here is plain HTML with no inline JavaScript: each figure's JSON sits in a
``<script type="application/json">`` block and is drawn by external scripts served by
the app (``/static/plotly.min.js`` from the plotly package, ``/static/standalone.js``),
so a strict Content-Security-Policy (:data:`PAGE_CSP`) applies to these pages. System
fonts only: nothing is fetched from another origin.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import flask
import plotly
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly
from plotly.offline import get_plotlyjs_version

STATIC_DIR = Path(__file__).resolve().parent / "static"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
LONG_MAX_AGE = 365 * 24 * 3600
# Files of dashboard/static/ served at /static/<name> (an explicit list: nothing else leaks).
STATIC_FILES = {
    "standalone.css": "text/css",
    "standalone.js": "text/javascript",
    "embed.js": "text/javascript",
    "present.js": "text/javascript",
}
# What a standalone page needs (plotly.js injects <style> and inline style attributes;
# MapLibre draws through blob: workers and data:/blob: images).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; child-src blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
SITE_NAME = "Safety Partnership Atlas"
LOWER_48 = (-124.8, 24.4, -66.9, 49.4)  # west, south, east, north: the contiguous US, for fit_bounds
_TAG = re.compile(r"<[^>]+>")


@cache
def _file_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """URL of a served static file with a content version, so it can be cached for a year."""
    if name == "plotly.min.js":
        return f"/static/plotly.min.js?v={get_plotlyjs_version()}"
    if name not in STATIC_FILES:
        raise KeyError(name)
    return f"/static/{name}?v={_file_version(name)}"


def _cached_file(path: Path, mimetype: str) -> flask.Response:
    response = flask.send_file(path, mimetype=mimetype, conditional=True, etag=True, max_age=LONG_MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={LONG_MAX_AGE}, immutable"
    return response


def register_static_routes(server: flask.Flask) -> None:
    """``GET /static/plotly.min.js`` (the plotly package's own bundle) and our page scripts.

    Safe to call more than once (embeds and briefing mode both need it).
    """
    if "atlas_plotly_js" in server.view_functions:
        return

    def plotly_js():
        return _cached_file(PLOTLY_JS, "text/javascript")

    server.add_url_rule("/static/plotly.min.js", "atlas_plotly_js", plotly_js, methods=["GET"])

    for name, mimetype in STATIC_FILES.items():

        def serve(name: str = name, mimetype: str = mimetype):
            return _cached_file(STATIC_DIR / name, mimetype)

        server.add_url_rule(f"/static/{name}", f"atlas_static_{name}", serve, methods=["GET"])


def plain_text(markup: str | None) -> str:
    """Figure text without Plotly's HTML (``<br>``, ``<b>``): for titles and labels."""
    return re.sub(r"\s+", " ", _TAG.sub(" ", markup or "")).strip()


def json_for_script(value) -> str:
    """JSON that cannot end its ``<script>`` element early (``</script>``, ``<!--``)."""
    text = to_json_plotly(value) if not isinstance(value, str) else value
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def figure_block(
    element_id: str,
    fig: go.Figure | Mapping,
    *,
    config: Mapping | None = None,
    label: str = "",
    css_class: str = "chart",
    lazy: bool = False,
    fit_bounds: tuple[float, float, float, float] | None = None,
    fit_reserve: int = 0,
    fit_padding: float = 0.05,
    wrap_source: bool = False,
) -> str:
    """A graph container and the JSON it is drawn from (by ``standalone.js``).

    ``label`` becomes the container's ``aria-label`` (role ``img``: the chart's summary
    stands for the drawing). ``lazy`` figures are drawn by a page script when shown.
    ``fit_bounds`` (west, south, east, north) makes a map figure zoom to show that box at
    the container's real size (``fit_reserve`` px kept free for a colour bar).
    ``wrap_source`` breaks the source annotation in two lines in containers under 560 px.
    """
    spec = fig.to_plotly_json() if isinstance(fig, go.Figure) else dict(fig)
    payload = {"data": spec.get("data", []), "layout": spec.get("layout", {}), "config": dict(config or {})}
    attrs = [
        f'id="{html.escape(element_id)}"',
        f'class="{html.escape(css_class)}"',
        f'data-figure="{html.escape(element_id)}-json"',
    ]
    if label:
        attrs += ['role="img"', f'aria-label="{html.escape(label)}"']
    if lazy:
        attrs.append("data-lazy")
    if fit_bounds:
        box = ",".join(f"{v:.5f}" for v in fit_bounds)
        attrs += [f'data-fit-bounds="[{box}]"', f'data-fit-padding="{fit_padding:g}"']
        if fit_reserve:
            attrs.append(f'data-fit-reserve="{int(fit_reserve)}"')
    if wrap_source:
        attrs.append("data-wrap-source")
    return (
        f"<div {' '.join(attrs)}></div>\n"
        f'<script type="application/json" id="{html.escape(element_id)}-json">'
        f"{json_for_script(payload)}</script>"
    )


def render_page(
    title: str,
    body: str,
    *,
    scripts: Iterable[str] = (),
    body_attrs: Mapping[str, str] | None = None,
    description: str = "",
) -> str:
    """A complete HTML document: our CSS, plotly.js, ``standalone.js``, then ``scripts``.

    ``body`` is trusted HTML (escape any text put into it); ``scripts`` are names from
    :data:`STATIC_FILES`. No inline script or style element is emitted.
    """
    attrs = "".join(f' {html.escape(k)}="{html.escape(v)}"' for k, v in (body_attrs or {}).items())
    tags = [static_url("plotly.min.js"), static_url("standalone.js"), *(static_url(s) for s in scripts)]
    script_tags = "\n".join(f'<script src="{src}"></script>' for src in tags)
    meta = f'<meta name="description" content="{html.escape(description)}">\n' if description else ""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{meta}<title>{html.escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{static_url("standalone.css")}">\n'
        f"</head>\n<body{attrs}>\n{body}\n{script_tags}\n</body>\n</html>\n"
    )


def render_figure_page(
    title: str,
    fig: go.Figure | Mapping,
    *,
    summary: str = "",
    config: Mapping | None = None,
    before: str = "",
    after: str = "",
    scripts: Iterable[str] = (),
    body_attrs: Mapping[str, str] | None = None,
    **block_options,
) -> str:
    """One figure on a page: optional HTML before/after it, its summary visually hidden.

    ``block_options`` go to :func:`figure_block` (``wrap_source``, ``fit_bounds``...).
    """
    hidden = f'<p class="sr-only" id="chart-summary">{html.escape(summary)}</p>\n' if summary else ""
    body = (
        f'<main class="standalone">\n{before}{hidden}'
        f"{figure_block('chart', fig, config=config, label=summary, **block_options)}\n{after}</main>"
    )
    return render_page(title, body, scripts=scripts, body_attrs=body_attrs, description=summary)
