"""Embeds: one chart of a view, alone, for an ``<iframe>`` on another site.

``GET /embed/<chart>?<query>`` (chart: map, trends or ranking; query as on the page, see
``state.py``) draws the same figure as the dashboard, full width, with its source line,
a link back to the full view and its plain-language summary for screen readers. The page
reports its height to the parent (``{type: "atlas:height", height, chart}``) so the
iframe can fit it; :func:`embed_snippet` is the copy-ready code that does that.

Only ``/embed/*`` may be framed: every other response says ``X-Frame-Options: DENY`` and
``frame-ancestors 'none'``. Allowed embedding origins come from ``ATLAS_EMBED_ORIGINS``
(space- or comma-separated, e.g. ``https://news.example https://*.city.gov``; default ``*``).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import flask
import plotly.graph_objects as go

from dashboard.data.dataset import Dataset, load_offences
from dashboard.data.state import ViewState, parse_query
from dashboard.figures import outcomes as outcomes_fig
from dashboard.figures.common import MEASURE_LABELS, is_source_annotation
from dashboard.figures.ranking import FBI_RANKING_CAUTION
from dashboard.figures.trends import grid_shape
from dashboard.publish.standalone import (
    LOWER_48,
    PAGE_CSP,
    SITE_NAME,
    plain_text,
    register_static_routes,
    render_figure_page,
)
from dashboard.settings import get_settings
from dashboard.views.registry import CHARTS, REGISTRY, chart_summary, get_chart

EMBED_PREFIX = "/embed/"
# Extra height of the embed page around the figure (title, padding, link line), for the snippet.
_CHROME = 90
TITLE_SPACE = 48  # px of a figure's top margin its title used (the embed shows it as HTML)
TITLE_LINE = 24  # px per further line of a wrapped title
SOURCE_LINE = 18  # px per line of the 14 px source annotation


def embed_origins() -> str:
    """``frame-ancestors`` sources for embeds: ``ATLAS_EMBED_ORIGINS`` from the settings (default ``*``)."""
    return get_settings().embed_origins


def chart_figure(dataset: Dataset, state: ViewState, chart: str) -> go.Figure:
    """The figure the dashboard shows for ``chart`` in this view."""
    return get_chart(chart).figure(dataset, state)


def embed_spec(fig: go.Figure) -> tuple[dict, str]:
    """The figure as JSON for an embed, and its title.

    The title moves into the page (HTML wraps, a Plotly title is cut at narrow widths),
    and the source line starts at the frame's left edge rather than the plot's, so it
    stays whole down to about 480 px.
    """
    spec = fig.to_plotly_json()
    lay = spec["layout"]
    markup = str((lay.get("title") or {}).get("text") or "")
    title = plain_text(markup)
    lay["title"] = {"text": ""}
    margin = lay.setdefault("margin", {})
    if title and "t" in margin:
        lines = len(re.findall(r"<br\s*/?>", markup)) + 1
        drop = min(TITLE_SPACE + (lines - 1) * TITLE_LINE, max(0, margin["t"] - 12))
        margin["t"] -= drop
        if lay.get("height"):
            lay["height"] -= drop
    for annotation in lay.get("annotations", []):
        if is_source_annotation(annotation):
            text = str(annotation.get("text") or "")
            annotation["xshift"] = -int(margin.get("l", 0)) + 4
            # Room for every line of the source (the page's map keeps only ~1 line of it).
            lines = text.count("<br>") + 1
            need = -int(annotation.get("yshift") or 0) + lines * SOURCE_LINE + 8
            if margin.get("b", 0) < need:
                if lay.get("height"):
                    lay["height"] += need - margin["b"]
                margin["b"] = need
    return spec, title


def embed_page(dataset: Dataset, chart: str, state: ViewState) -> str:
    """The embed document for one chart of a view (cached per view)."""
    return _embed_page(dataset, chart, state, state.notices)  # notices are not part of a state's hash


@lru_cache(maxsize=64)
def _embed_page(dataset: Dataset, chart: str, state: ViewState, _notices: tuple[str, ...]) -> str:
    spec, title = embed_spec(chart_figure(dataset, state, chart))
    summary = chart_summary(dataset, state, chart)
    title = title or f"{REGISTRY[chart].label} of the view"
    before = f'<h1 class="chart-title">{html.escape(title)}</h1>\n'
    if state.notices:
        before = (
            '<p class="notice" role="status">' + " ".join(html.escape(n) for n in state.notices) + "</p>\n"
        ) + before
    after = ""
    if chart == "ranking":
        after += f'<p class="caution">{html.escape(FBI_RANKING_CAUTION)}</p>\n'
    after += (
        f'<p class="backlink"><a href="/{html.escape(state.to_query())}" target="_blank" rel="noopener">'
        f'Open the full view in the {SITE_NAME} <span aria-hidden="true">↗</span>'
        '<span class="sr-only"> (opens in a new tab)</span></a></p>\n'
    )
    config = {"responsive": True, "displaylogo": False, "scrollZoom": False}
    return render_figure_page(
        f"{title} — {SITE_NAME}",
        spec,
        summary=summary,
        config=config,
        before=before,
        after=after,
        scripts=("embed.js",),
        body_attrs={"class": f"embed embed-{chart}", "data-chart": chart},
        wrap_source=True,
        # The page's map is zoomed for its own width; an embed fits the contiguous US to the frame.
        fit_bounds=LOWER_48 if chart == "map" else None,
        fit_reserve=120,
    )


def expected_height(chart: str, state: ViewState) -> int:
    """The embed page's height before it reports its own (the iframe's ``height``)."""
    if chart == "trends":
        rows, _cols = grid_shape(max(1, len(state.cities)))
        figure = 300 if not state.cities else 190 + rows * (240 if rows <= 3 else 200) - TITLE_SPACE
    elif chart == "ranking":
        figure = 520 - TITLE_SPACE + 70  # the FBI caution below the bars
    elif chart == "outcomes":  # figures/outcomes.py: 3 panels a row, 200 px each, 84 between, method note
        rows = -(-max(1, len(state.cities)) // 3)
        first_panel = outcomes_fig.RTM_BLOCK_PX + outcomes_fig.RTM_TOP_MARGIN - outcomes_fig.TOP_MARGIN
        figure = 300 if not state.cities else rows * 200 + (rows - 1) * 84 + 408 + first_panel - TITLE_SPACE
    else:
        figure = 560 - TITLE_SPACE + 26  # the whole source line
    return figure + _CHROME + (40 if state.notices else 0)


def embed_snippet(base_url: str, chart: str, state: ViewState) -> str:
    """Copy-ready HTML: an iframe of ``/embed/<chart>`` for this view and a listener that
    sets the iframe's height from the ``atlas:height`` message it sends.

    ``base_url`` is ``scheme://host[:port]`` of the app (the listener accepts messages from
    that origin only); an empty base gives a relative ``src``.
    """
    if chart not in CHARTS:
        raise ValueError(f"unknown chart {chart!r}")
    base = (base_url or "").rstrip("/")
    src = f"{base}{EMBED_PREFIX}{chart}{state.to_query()}"
    title = f"{_frame_title(chart, state)} ({SITE_NAME})"
    origin_check = f'if (e.origin !== "{base}") return;\n  ' if base else ""
    return (
        f'<iframe src="{html.escape(src)}" title="{html.escape(title)}" width="100%" '
        f'height="{expected_height(chart, state)}" loading="lazy" style="border:0;width:100%" '
        f'data-atlas-chart="{chart}"></iframe>\n'
        "<script>\n"
        'window.addEventListener("message", function (e) {\n'
        f"  {origin_check}"
        'if (!e.data || e.data.type !== "atlas:height" || !(e.data.height > 0)) return;\n'
        '  document.querySelectorAll("iframe[data-atlas-chart]").forEach(function (f) {\n'
        '    if (f.contentWindow === e.source) f.style.height = Math.ceil(e.data.height) + "px";\n'
        "  });\n"
        "});\n"
        "</script>"
    )


@lru_cache(maxsize=1)
def _offence_labels() -> dict[str, str]:
    return load_offences()["label"].to_dict()


def _frame_title(chart: str, state: ViewState) -> str:
    """What the frame shows, for screen readers listing a page's frames."""
    offence = _offence_labels().get(state.offence, state.offence).lower()
    measure = MEASURE_LABELS[state.measure]
    if chart == "map":
        return f"Map of US cities: {offence}, {measure}, {state.year}"
    if chart == "trends":
        n = len(state.cities)
        return f"Trends {state.year_from}–{state.year_to}: {offence}, {measure}, {n} cities against the US"
    if chart == "outcomes":
        return "Violent crime after joining: each PSP site against places like it that were not chosen"
    return f"Cities ranked by {offence} in {state.year}, times the national rate"


def frame_headers(response: flask.Response, path: str) -> flask.Response:
    """Embeds may be framed by the allowed origins; nothing else may be framed at all.

    With the default (any origin), embeds send no ``frame-ancestors`` at all: ``frame-ancestors *``
    matches only http(s) origins, so it refused hosts with an opaque origin (about:blank, ``data:``, a
    sandboxed CMS preview) and the chart showed Chromium's error page instead.
    """
    if path.startswith(EMBED_PREFIX):
        response.headers.pop("X-Frame-Options", None)
        origins = embed_origins()
        ancestors = None if origins == "*" else f"frame-ancestors {origins}"
    else:
        response.headers["X-Frame-Options"] = "DENY"
        ancestors = "frame-ancestors 'none'"
    csp = response.headers.get("Content-Security-Policy", "")
    parts = [p.strip() for p in csp.split(";") if p.strip() and not p.strip().startswith("frame-ancestors")]
    policy = "; ".join([*parts, *([ancestors] if ancestors else [])])
    if policy:
        response.headers["Content-Security-Policy"] = policy
    else:
        response.headers.pop("Content-Security-Policy", None)
    return response


def register_embed_routes(server: flask.Flask, dataset: Dataset) -> None:
    register_static_routes(server)

    @server.get("/embed/<chart>")
    def embed(chart: str):
        if chart not in CHARTS:
            return flask.Response(
                f"No such chart. Embeds exist for: {', '.join(CHARTS)}.\n",
                status=404,
                mimetype="text/plain",
            )
        state = parse_query(flask.request.query_string.decode("utf-8", "replace"), dataset)
        response = flask.Response(embed_page(dataset, chart, state), mimetype="text/html")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        return response

    @server.after_request
    def _frame_policy(response: flask.Response) -> flask.Response:
        return frame_headers(response, flask.request.path)
