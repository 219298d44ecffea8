"""Exports of a view: its data as CSV, its charts as PNG/SVG/PDF and a multi-page briefing PDF.

Charts are the page's own figures (``views``), rendered server-side by kaleido 1.x in the
system Chromium. One browser is kept warm (:class:`ChartRenderer`) and restarted when it
crashed or a render failed. Nothing is downloaded and no request leaves the machine:

* the browser is the system Chromium (``BROWSER_PATH``, else Debian's binary behind
  ``/usr/bin/chromium``), always passed explicitly, so choreographer never looks for (or
  fetches) its own Chrome;
* kaleido's page loads the plotly.js bundled with plotly.py from a ``file://`` URL and
  MathJax is disabled (``PageGenerator(mathjax=False)``; plotly.io does not forward it);
* map GeoJSON is embedded in the figure (no ``/data/...`` URLs) and the map style is
  ``white-bg`` (no tiles, glyphs or sprites);
* Chromium runs with every host (the proxy's too) resolving to nothing and a dead loopback
  proxy (:data:`OFFLINE_FLAGS`): Chromium's own background calls (update.googleapis.com,
  accounts.google.com, a search-engine preconnect) and any stray URL in a figure fail
  without a packet sent (checked with strace: no TCP socket is ever opened).

WebGL (MapLibre) renders in headless Chromium through SwiftShader
(``--use-gl=angle --use-angle=swiftshader --enable-unsafe-swiftshader``).
"""

from __future__ import annotations

import asyncio
import atexit
import csv
import html
import io
import logging
import os
import re
import shutil
import signal
import struct
import subprocess
import textwrap
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from . import summaries, views
from .config import SOURCE_CITATION
from .data import Dataset, city_series
from .figures.common import MEASURE_LABELS, theme
from .figures.ranking import FBI_RANKING_CAUTION
from .notes import city_notes, general_notes
from .state import ViewState, cohort_members, cohort_options

log = logging.getLogger(__name__)

CHARTS = ("map", "trends", "ranking")
FORMATS = ("png", "svg", "pdf")
CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
WIDTH_RANGE = (600, 3000)  # px: narrower, the axis titles and legends of the page's figures clip
HEIGHT_RANGE = (400, 3000)
DEFAULT_WIDTH = 1200
DEFAULT_HEIGHTS = {"map": 720, "ranking": 560}  # trends: the figure's own height (grows with cities)
PNG_SCALE = 2
MAX_BRIEFING_CITIES = 30
BRIEFING_WIDTH = 1056  # px = 11 in: every briefing page has this width
BRIEFING_CITY_HEIGHT = 816  # px = 8.5 in: a city page is US Letter landscape
RENDER_TIMEOUT = 60.0  # s per figure
START_TIMEOUT = 60.0  # s to start the browser
RENDER_TABS = 2  # a briefing renders two pages at a time

CSV_COLUMNS = (
    "city",
    "geoid",
    "year",
    "offence",
    "count",
    "population",
    "rate_per_100k",
    "national_rate_per_100k",
    "ratio_to_national",
    "rape_definition",
    "source",
    "notes",
)

OFFLINE_FLAGS = (
    # MapLibre needs WebGL: software GL (SwiftShader) through ANGLE, no GPU needed.
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    # Nothing may leave the machine: no name resolves, and any URL would go to a dead
    # loopback proxy; plus Chromium's own background traffic switched off.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--disable-background-networking",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-quic",
    "--no-pings",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-component-extensions-with-background-pages",
    "--disable-default-apps",
    "--no-service-autorun",
    "--disable-features=MediaRouter,OptimizationHints,Translate,AutofillServerCommunication,"
    "NetworkTimeServiceQuerying,PreconnectToSearch",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")

_CITY_GEOJSON_REF = "atlas:cities.geojson"  # placeholders replaced by the embedded GeoJSON
_STATE_GEOJSON_REF = "atlas:states.geojson"


class ExportError(RuntimeError):
    """Rendering failed or is unavailable (no browser, crash, timeout): HTTP 503."""


# ---------------------------------------------------------------------------------------------
# CSV


def _cell(value, decimals: int = 0) -> str:
    """A number as the CSV shows it; missing values are empty cells, never 0."""
    if value is None or pd.isna(value):
        return ""
    return str(int(value)) if decimals == 0 else f"{float(value):.{decimals}f}"


def view_description(dataset: Dataset, state: ViewState) -> str:
    """ "Violent crime, 1985–2019: PSP 2017 (12 cities)" — for titles and file metadata."""
    label = dataset.offence_label(state.offence)
    return f"{label}, {state.year_from}–{state.year_to}: {_selection_label(dataset, state)}"


def _selection_label(dataset: Dataset, state: ViewState) -> str:
    n = len(state.cities)
    if n == 0:
        return "no cities selected"
    if n == 1:
        return dataset.label(state.cities[0])
    if _is_cohort_selection(dataset, state):
        return f"{cohort_options(dataset)[state.cohort]} ({n} cities)"
    return f"{n} cities"


def _is_cohort_selection(dataset: Dataset, state: ViewState) -> bool:
    members = cohort_members(dataset, state.cohort)
    return bool(state.cities) and list(state.cities) == members[: len(state.cities)]


def view_csv(dataset: Dataset, state: ViewState) -> str:
    """The numbers of the trends chart for a view: one row per selected city × year × offence.

    Built from ``data.city_series`` (what the chart draws). Years without a figure keep a row
    with empty values, so gaps stay visible; missing values are empty cells, never 0.
    """
    out = io.StringIO()
    out.write(f"# Safety Partnership Atlas: {view_description(dataset, state)}, against the US rate\n")
    out.write(f"# Dataset version: {dataset.version}\n")
    out.write(f"# {SOURCE_CITATION}\n")
    out.write(f"# View: /{state.to_query()}\n")
    out.write(
        "# Empty cell = not available (never zero). Rates per 100,000 residents are computed from "
        "counts and the FBI agency population; ratio_to_national = city rate / US rate (same rape "
        "definition).\n"
    )
    for notice in state.notices:
        out.write(f"# Ignored in the link: {notice}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    if not state.cities:
        return out.getvalue()
    series = city_series(dataset, list(state.cities), state.offence)
    series = series[series["year"].between(state.year_from, state.year_to)]
    by_key = {(r.geoid, int(r.year)): r for r in series.itertuples(index=False)}
    for geoid in state.cities:
        city = dataset.label(geoid)
        for year in range(state.year_from, state.year_to + 1):
            row = by_key.get((geoid, year))
            if row is None:
                writer.writerow([city, geoid, year, state.offence, *[""] * 8])
                continue
            writer.writerow(
                [
                    city,
                    geoid,
                    year,
                    state.offence,
                    _cell(row.count),
                    _cell(row.population),
                    _cell(row.rate, 1),
                    _cell(row.national_rate, 1),
                    _cell(row.ratio, 2),
                    "" if pd.isna(row.rape_definition) else row.rape_definition,
                    "" if pd.isna(row.source) else row.source,
                    "" if pd.isna(row.notes) else row.notes,
                ]
            )
    return out.getvalue()


def export_filename(dataset: Dataset, state: ViewState, kind: str, ext: str) -> str:
    """A descriptive download name: ``atlas-trends-violent-crime-ratio-1985-2019-psp-2017.png``."""
    if len(state.cities) == 1:
        scope = dataset.label(state.cities[0])
    elif _is_cohort_selection(dataset, state):
        scope = state.cohort
    else:
        scope = f"{len(state.cities)}-cities"
    if kind in ("map", "ranking"):
        parts = [kind, state.offence, state.measure if kind == "map" else "ratio", str(state.year)]
        if kind == "ranking":
            parts.append(f"threshold-{state.threshold:g}")
    else:
        parts = [kind, state.offence]
        if kind == "trends":
            parts.append(state.measure)
        parts += [f"{state.year_from}-{state.year_to}", scope]
    slug = re.sub(r"[^a-z0-9.]+", "-", "-".join(["atlas", *parts]).lower()).strip("-")
    return f"{slug}.{ext}"


# ---------------------------------------------------------------------------------------------
# The browser: one warm kaleido/Chromium, restarted after a crash or a failed render


DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"  # the binary behind Debian's /usr/bin/chromium script


def browser_path() -> str:
    """The system Chromium: ``BROWSER_PATH`` if set, else Debian's chromium, else one on PATH.

    Debian's ``/usr/bin/chromium`` is a shell script that adds flags (remote extensions, an
    extensions folder) before exec'ing ``/usr/lib/chromium/chromium``; starting the binary
    directly skips those extras and saves about a second per browser start.
    """
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        found = shutil.which(configured)
        if found:
            return found
        raise ExportError(f"BROWSER_PATH={configured} is not an executable browser.")
    for candidate in (DEBIAN_CHROMIUM, "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    raise ExportError("No Chromium found for exports: install Debian's chromium or set BROWSER_PATH.")


def _plotly_js_uri() -> str:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ExportError(f"plotly.js is missing from plotly.py ({path}); exports need the local copy.")
    return path.as_uri()


def _offline_chromium_class():
    from choreographer.browsers.chromium import Chromium

    class OfflineChromium(Chromium):
        """choreographer's Chromium with the network switched off and software WebGL on."""

        def get_cli(self):
            return [*super().get_cli(), *OFFLINE_FLAGS]

    return OfflineChromium


def _kill_process_group(proc) -> None:
    """End the browser we started: its wrapper runs in a new session, so its group is its pid."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class RenderJob:
    figure: dict
    fmt: str
    width: int
    height: int
    scale: float = 1


class ChartRenderer:
    """A kaleido browser kept warm on its own event-loop thread; thread-safe (one lock).

    ``render`` starts the browser on first use and again after a crash. Any failure tears the
    browser down (so the next call gets a fresh one) and raises :class:`ExportError`.
    """

    def __init__(
        self, *, tabs: int = RENDER_TABS, timeout: float = RENDER_TIMEOUT, record_requests: bool = False
    ):
        self.tabs = tabs
        self.timeout = timeout
        self.record_requests = record_requests
        self.requests: list[str] = []  # URLs the pages asked for (when record_requests)
        self.starts = 0
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None

    # -- lifecycle ------------------------------------------------------------------------------
    def is_alive(self) -> bool:
        k = self._kaleido
        proc = getattr(k, "subprocess", None)
        return bool(
            k is not None
            and self._thread is not None
            and self._thread.is_alive()
            and proc is not None
            and proc.poll() is None
        )

    @property
    def pid(self) -> int | None:
        proc = getattr(self._kaleido, "subprocess", None)
        return proc.pid if proc is not None else None

    def start(self) -> None:
        with self._lock:
            if self.is_alive():
                return
            self._teardown()
            import kaleido

            page = kaleido.PageGenerator(plotly=_plotly_js_uri(), mathjax=False)
            index = page.generate_index()
            if re.search(r"https?://", index):  # never let the page reference a CDN
                raise ExportError("kaleido's page would load a remote script; refusing to start.")
            path = browser_path()
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="kaleido-loop", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread

            async def open_browser():
                k = kaleido.Kaleido(
                    n=self.tabs,
                    timeout=self.timeout,
                    page_generator=page,
                    path=path,
                    browser_cls=_offline_chromium_class(),
                    enable_extensions=False,
                )
                self._kaleido = k
                await k.open()
                if self.record_requests:
                    for tab in list(k.tabs.values()):
                        tab.subscribe("Network.requestWillBeSent", self._on_request)
                        await tab.send_command("Network.enable")
                return k

            try:
                asyncio.run_coroutine_threadsafe(open_browser(), loop).result(START_TIMEOUT)
            except Exception as exc:
                self._teardown()
                raise ExportError(f"Could not start Chromium for exports ({path}): {exc}") from exc
            self.starts += 1
            log.info("export browser started (%s, pid %s)", path, self.pid)

    async def _on_request(self, event: dict) -> None:
        url = str(event.get("params", {}).get("request", {}).get("url", ""))
        self.requests.append(url)

    def stop(self) -> None:
        with self._lock:
            self._teardown()

    def _teardown(self) -> None:
        k, loop, thread = self._kaleido, self._loop, self._thread
        self._kaleido = self._loop = self._thread = None
        if k is not None and loop is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(k.close(), loop).result(15)
            except Exception as exc:
                log.warning("export browser did not close cleanly: %s", exc)
        proc = getattr(k, "subprocess", None)
        if proc is not None and proc.poll() is None:
            _kill_process_group(proc)
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(10)
            if not loop.is_running():
                loop.close()

    # -- rendering ------------------------------------------------------------------------------
    def render(self, job: RenderJob) -> bytes:
        return self.render_many([job])[0]

    def render_many(self, jobs: Iterable[RenderJob]) -> list[bytes]:
        """Render figures in order. ``jobs`` may be a generator: each job is handed to the browser
        as soon as it is built, so Python builds the next figure while Chromium draws."""
        with self._lock:
            self.start()
            k, loop = self._kaleido, self._loop
            assert k is not None and loop is not None
            futures = []
            try:
                for job in jobs:
                    opts = {"format": job.fmt, "width": job.width, "height": job.height, "scale": job.scale}
                    futures.append(asyncio.run_coroutine_threadsafe(k.calc_fig(job.figure, opts=opts), loop))
            except BaseException:
                self._cancel(futures)  # building a figure failed: a caller problem, not the browser's
                raise
            try:
                deadline = time.monotonic() + self.timeout * len(futures) + 10
                return [future.result(max(0.1, deadline - time.monotonic())) for future in futures]
            except Exception as exc:
                self._cancel(futures)
                log.exception("export render failed; the browser is restarted on the next call")
                self._teardown()
                raise ExportError(f"Rendering failed: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _cancel(futures) -> None:
        for future in futures:
            future.cancel()


_renderer: ChartRenderer | None = None
_renderer_lock = threading.Lock()


def get_renderer() -> ChartRenderer:
    """The process-wide renderer (started lazily on the first export)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = ChartRenderer()
        return _renderer


def set_renderer(renderer: ChartRenderer | None) -> ChartRenderer | None:
    """Swap the process-wide renderer (tests); returns the previous one, not stopped."""
    global _renderer
    with _renderer_lock:
        previous, _renderer = _renderer, renderer
        return previous


def shutdown_renderer() -> None:
    """Stop the process-wide browser (also done at interpreter exit)."""
    renderer = _renderer
    if renderer is not None:
        renderer.stop()


atexit.register(shutdown_renderer)


# ---------------------------------------------------------------------------------------------
# Figures for export


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<br\s*/?>", " ", re.sub(r"<(?!br)[^>]+>", "", str(text or "")))).strip()


def _char_width(size: float) -> float:
    """Average advance of DejaVu Sans/system-ui text, generous so that wrapped text never clips."""
    return size * 0.55


def _wrap(text: str, width_px: float, size: float) -> list[str]:
    chars = max(20, int(width_px / _char_width(size)))
    lines: list[str] = []
    for part in re.split(r"<br\s*/?>", text):
        lines += textwrap.wrap(part, chars, break_on_hyphens=False) or [""]
    return lines


def size_error(name: str) -> str:
    low, high = WIDTH_RANGE if name == "width" else HEIGHT_RANGE
    return f"{name} must be a whole number of pixels from {low} to {high}."


def _check_size(name: str, value: int | None) -> None:
    if value is None:
        return
    low, high = WIDTH_RANGE if name == "width" else HEIGHT_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(size_error(name))


def _city_features(dataset: Dataset) -> dict[str, dict]:
    return {str(f["properties"]["geoid"]): f for f in dataset.city_geojson["features"]}


def _embed_geojson(figure: dict, dataset: Dataset) -> dict:
    """Replace the GeoJSON placeholders by the data itself, each trace with only its features.

    A choropleth trace draws only locations with a value, so giving each of the map's four
    layers just those features renders the same picture from a quarter of the geometry
    (plotly.js parses every trace's GeoJSON separately).
    """
    features = _city_features(dataset)
    for trace in figure.get("data", []):
        if trace.get("geojson") != _CITY_GEOJSON_REF:
            continue
        z = trace.get("z")
        keep = (
            [i for i, v in enumerate(z) if v is not None] if z is not None else range(len(trace["locations"]))
        )
        for key in ("locations", "z", "customdata", "text"):
            if trace.get(key) is not None:
                trace[key] = [trace[key][i] for i in keep]
        trace["geojson"] = {
            "type": "FeatureCollection",
            "features": [features[g] for g in trace["locations"] if g in features],
        }
    for layer in figure.get("layout", {}).get("map", {}).get("layers", []):
        if layer.get("source") == _STATE_GEOJSON_REF:
            layer["source"] = dataset.state_geojson
    return figure


def _chart_figure(dataset: Dataset, state: ViewState, chart: str) -> dict:
    if chart == "map":
        fig = views.map_figure(
            dataset,
            state.year,
            state.offence,
            state.measure,
            list(state.cities),
            geojson=_CITY_GEOJSON_REF,
            states_geojson=_STATE_GEOJSON_REF,
        )
        return _embed_geojson(fig.to_dict(), dataset)
    if chart == "trends":
        fig = views.trends_figure(
            dataset, list(state.cities), state.offence, state.measure, state.year_from, state.year_to
        )
        return fig.to_dict()
    if chart == "ranking":
        fig, _children = views.ranking_view(dataset, state.cohort, state.offence, state.year, state.threshold)
        return fig.to_dict()
    raise ValueError(f"Unknown chart {chart!r}: use one of {', '.join(CHARTS)}.")


def _fit_for_export(figure: dict, chart: str, width: int, height: int) -> dict:
    """Fix the size, and keep the title and the source line whole and inside the image."""
    layout = figure.setdefault("layout", {})
    margin = layout.setdefault("margin", {})
    layout.update(width=width, height=height, autosize=False)
    layout.pop("uirevision", None)
    left, right = margin.get("l", 80), margin.get("r", 80)

    title = layout.get("title") or {}
    if title.get("text"):
        # Re-flow the title for the export's width (the page breaks long titles for its own width).
        size = title.get("font", {}).get("size", theme()["title_size"])
        page_lines = len(re.findall(r"<br\s*/?>", title["text"])) + 1
        lines = _wrap(re.sub(r"\s*<br\s*/?>\s*", " ", title["text"]), width - 20 - right, size)
        title["text"] = "<br>".join(lines)
        line = size * 1.3
        if len(lines) > 1:
            # plotly.js centres a multi-line title on its anchor: pad it back down by half.
            pad = title.get("pad", {})
            title["pad"] = {**pad, "t": round(pad.get("t", 0) + (len(lines) - 1) * line / 2)}
        extra = (len(lines) - 1) * line - (page_lines - 1) * line / 2
        margin["t"] = margin.get("t", 100) + max(0, round(extra))

    for annotation in layout.get("annotations", []):
        text = str(annotation.get("text") or "")
        if not text.startswith(SOURCE_CITATION):
            continue
        size = annotation.get("font", {}).get("size", 14)
        text = text.replace(" (hover)", " (see data notes)")
        lines = _wrap(text, width - left - 16, size)
        annotation["text"] = "<br>".join(lines)
        needed = abs(annotation.get("yshift", 0)) + round(len(lines) * size * 1.3) + 14
        margin["b"] = max(margin.get("b", 80), needed)
    for trace in figure.get("data", []):
        if isinstance(trace.get("name"), str):
            trace["name"] = trace["name"].replace(" (hover)", " (see data notes)")

    if chart == "trends" and isinstance(layout.get("legend", {}).get("y"), int | float):
        # The legend sits 38 px above the plot (see figures/trends.py): keep it there, and make
        # room when a narrow export wraps it onto more rows.
        margin["t"] = margin.get("t", 125) + 30 * (_legend_rows(figure, width - left - right) - 1)
        plot_height = max(60, height - margin.get("t", 125) - margin.get("b", 115))
        layout["legend"]["y"] = 1 + 38 / plot_height
    if chart == "map" and "map" in layout:
        # Zoom so the lower 48 fill a larger or smaller frame as they fill the page's map.
        # Reference: the default 1200 x 720 export at the page's zoom; 150 px for the colour bar.
        plot_w = width - left - right - 150
        plot_h = height - margin.get("t", 60) - margin.get("b", 70)
        factor = min(plot_w / 1030, plot_h / 560)
        layout["map"]["zoom"] = round(theme()["map_zoom"] + max(-2.5, min(1.5, _log2(factor))), 2)
    return figure


def _legend_rows(figure: dict, available: float) -> int:
    """Rows a horizontal legend needs (plotly wraps entries that do not fit the width)."""
    size = figure.get("layout", {}).get("legend", {}).get("font", {}).get("size", 14)
    rows, used = 1, 0.0
    for trace in figure.get("data", []):
        if trace.get("showlegend") is False or not trace.get("name"):
            continue
        entry = 50 + len(str(trace["name"])) * _char_width(size)
        if used and used + entry > available:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def _log2(value: float) -> float:
    import math

    return math.log2(value) if value > 0 else 0.0


def chart_figure(
    dataset: Dataset, state: ViewState, chart: str, width: int | None = None, height: int | None = None
) -> tuple[dict, int, int]:
    """The page's figure for ``chart`` as a plain dict, sized and fitted for a static export."""
    if chart not in CHARTS:
        raise ValueError(f"Unknown chart {chart!r}: use one of {', '.join(CHARTS)}.")
    _check_size("width", width)
    _check_size("height", height)
    figure = _chart_figure(dataset, state, chart)
    width = width or DEFAULT_WIDTH
    if height is None:
        natural = DEFAULT_HEIGHTS.get(chart) or int(figure.get("layout", {}).get("height") or 600)
        height = min(HEIGHT_RANGE[1], max(HEIGHT_RANGE[0], natural))
    return _fit_for_export(figure, chart, width, height), width, height


# ---------------------------------------------------------------------------------------------
# File metadata (alt text)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LATIN1_FALLBACKS = str.maketrans({"–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "..."})


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_with_text(png: bytes, items: dict[str, str]) -> bytes:
    """Insert tEXt chunks (Latin-1; e.g. "Description" = alt text) right after IHDR."""
    if not png.startswith(PNG_SIGNATURE):
        raise ExportError("renderer returned something that is not a PNG")
    (ihdr_length,) = struct.unpack(">I", png[8:12])
    end = 8 + 8 + ihdr_length + 4
    chunks = b"".join(
        _png_chunk(
            b"tEXt",
            key.encode("latin-1")[:79]
            + b"\0"
            + value.translate(_LATIN1_FALLBACKS).encode("latin-1", "replace"),
        )
        for key, value in items.items()
    )
    return png[:end] + chunks + png[end:]


def svg_with_text(svg: bytes, title: str, description: str) -> bytes:
    """Give the SVG an accessible name: ``<title>`` and ``<desc>`` first inside the root element."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    end = text.find(">", start)
    if start < 0 or end < 0:
        raise ExportError("renderer returned something that is not an SVG")
    opening = text[start:end]
    if "role=" not in opening:
        opening += ' role="img"'
    inserted = f"<title>{html.escape(title)}</title><desc>{html.escape(description)}</desc>"
    return (text[:start] + opening + ">" + inserted + text[end + 1 :]).encode("utf-8")


def pdf_with_metadata(pdf: bytes, metadata: dict[str, str]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata(metadata)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _document_info(dataset: Dataset, title: str, description: str) -> dict[str, str]:
    return {
        "/Title": title,
        "/Subject": description,
        "/Author": "Safety Partnership Atlas",
        "/Keywords": f"{SOURCE_CITATION}; dataset {dataset.version}",
        "/Creator": "Safety Partnership Atlas (plotly, kaleido, Chromium)",
    }


def render_chart(
    dataset: Dataset,
    state: ViewState,
    chart: str,
    fmt: str,
    width: int | None = None,
    height: int | None = None,
) -> bytes:
    """One chart of a view as PNG (at scale 2), SVG or PDF, with its summary as alt text.

    Raises ValueError for a bad chart, format or size and ExportError when rendering fails.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
    figure, width, height = chart_figure(dataset, state, chart, width, height)
    scale = PNG_SCALE if fmt == "png" else 1
    data = get_renderer().render(RenderJob(figure, fmt, width, height, scale))
    title = (
        _strip_tags(figure.get("layout", {}).get("title", {}).get("text", "")) or "Safety Partnership Atlas"
    )
    description = summaries.chart_summary(dataset, state, chart)
    source = f"{SOURCE_CITATION}. Dataset {dataset.version}."
    if fmt == "png":
        return png_with_text(data, {"Title": title, "Description": description, "Source": source})
    if fmt == "svg":
        return svg_with_text(data, title, f"{description} {source}")
    return pdf_with_metadata(data, _document_info(dataset, title, description))


# ---------------------------------------------------------------------------------------------
# Briefing PDF


@dataclass(frozen=True)
class _Block:
    kind: str  # title | subtitle | heading | text | bullet | small
    text: str


_BLOCK_STYLE = {  # font size, colour, bold, space before (px)
    "title": (26, "#111111", True, 0),
    "subtitle": (16, "#333333", False, 6),
    "heading": (17, "#111111", True, 18),
    "subheading": (14, "#111111", True, 10),
    "text": (13, "#222222", False, 6),
    "bullet": (12, "#222222", False, 3),
    "small": (12, "#555555", False, 6),
}


def _text_page(blocks: Sequence[_Block], width: int, min_height: int, margin: int = 48) -> tuple[dict, int]:
    """A page of wrapped text as a plotly figure (annotations placed in pixels from the top)."""
    annotations, y = [], margin
    family = theme()["font_family"]
    for block in blocks:
        size, colour, bold, before = _BLOCK_STYLE[block.kind]
        y += before
        indent = 18 if block.kind == "bullet" else 0
        lines = _wrap(html.escape(block.text, quote=False), width - 2 * margin - indent, size)
        body = "<br>".join(f"<b>{line}</b>" if bold else line for line in lines)
        common = {
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 1,
            "xanchor": "left",
            "yanchor": "top",
            "align": "left",
            "showarrow": False,
            "yshift": -y,
            "font": {"size": size, "color": colour, "family": family},
        }
        if indent:
            annotations.append({**common, "text": "•", "xshift": margin + 4})
        annotations.append({**common, "text": body, "xshift": margin + indent})
        y += round(len(lines) * size * 1.3)
    height = max(min_height, y + margin)
    figure = {
        "data": [],
        "layout": {
            "width": width,
            "height": height,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "showlegend": False,
            "annotations": annotations,
        },
    }
    return figure, height


def _city_page_figure(dataset: Dataset, state: ViewState, geoid: str) -> dict:
    """One city's trend against the national line, with its key sentence under the title."""
    measure = "rate" if state.measure == "count" else state.measure
    city_state = replace(state, cities=(geoid,), measure=measure)
    figure = views.trends_figure(
        dataset, [geoid], state.offence, measure, state.year_from, state.year_to
    ).to_dict()
    sentence = summaries.trends_summary(dataset, city_state)
    generic = f"{dataset.offence_label(state.offence)} trends {state.year_from}–{state.year_to} against the "
    sentence = re.sub(rf"^{re.escape(generic)}national rate\. ", "", sentence)
    cohorts = [
        f"{row.cohort} (announced {row.announced})"
        for row in dataset.programs[dataset.programs["geoid"] == geoid].itertuples()
    ]
    text = sentence + (f" Program: {'; '.join(cohorts)}." if cohorts else "")
    width, height = BRIEFING_WIDTH, BRIEFING_CITY_HEIGHT
    layout = figure["layout"]
    margin = layout.setdefault("margin", {})
    lines = _wrap(html.escape(text, quote=False), width - margin.get("l", 70) - 40, 15)
    block = round(len(lines) * 15 * 1.3)
    margin["t"] = 70 + block + 38 + 36
    layout.setdefault("annotations", []).append(
        {
            "text": "<br>".join(lines),
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 1,
            "xanchor": "left",
            "yanchor": "bottom",
            "yshift": 38 + 36,
            "align": "left",
            "showarrow": False,
            "font": {"size": 15, "color": "#222222"},
        }
    )
    return _fit_for_export(figure, "trends", width, height)


def _cover_blocks(dataset: Dataset, state: ViewState) -> list[_Block]:
    label = dataset.offence_label(state.offence)
    return [
        _Block("title", "Safety Partnership Atlas — briefing"),
        _Block("subtitle", f"{label} against the US national rate: {_selection_label(dataset, state)}"),
        _Block(
            "small",
            f"Map and ranking for {state.year} ({MEASURE_LABELS[state.measure]}; ranking threshold "
            f"{state.threshold:g}× the national rate); one page per city for {state.year_from}–"
            f"{state.year_to}; sources and caveats on the last page. Dataset {dataset.version}.",
        ),
    ]


def _sources_blocks(dataset: Dataset, state: ViewState) -> list[_Block]:
    blocks = [
        _Block("title", "Sources and caveats"),
        _Block("text", f"{SOURCE_CITATION}. Dataset {dataset.version}."),
        _Block(
            "small",
            "Every number traces to a published FBI or Census file; the file and table for each city-year "
            "are in crime_city_year.csv and geodata/SOURCES.md (also served at /data/).",
        ),
        _Block("small", f"This briefing reproduces the view /{state.to_query()}"),
        _Block("heading", "All cities"),
    ]
    blocks += [
        _Block("bullet", t) for t in general_notes(dataset, state.offence, state.year_from, state.year_to)
    ]
    blocks.append(_Block("bullet", FBI_RANKING_CAUTION))
    notes = city_notes(dataset, list(state.cities), state.offence, state.year_from, state.year_to)
    if notes:
        blocks.append(_Block("heading", "Cities"))
    for city in notes:
        blocks.append(_Block("subheading", city.label))
        blocks += [_Block("bullet", item) for item in city.items] or [_Block("bullet", "No caveats.")]
    return blocks


def _page_as_form(writer, page):
    """A PDF page as a Form XObject of ``writer`` (its content stream is copied, not parsed)."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

    contents = page["/Contents"].get_object()
    parts = contents if isinstance(contents, ArrayObject) else [contents]
    form = DecodedStreamObject()
    form.set_data(b"\n".join(part.get_object().get_data() for part in parts))
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(float(v)) for v in page.mediabox)
    form[NameObject("/Resources")] = page["/Resources"].clone(writer)
    return writer._add_object(form.flate_encode())


def _add_stacked_page(writer, pdfs: Sequence[bytes]) -> None:
    """Add one page holding the first page of each PDF, top to bottom (vector, no rescaling).

    Each part becomes a Form XObject drawn at its place: fast (pypdf's page merging re-parses
    every content stream) and faithful (a pattern such as the colour bar's gradient stays in
    its form's space; merged into the page it would stay put while the content moves).
    """
    from pypdf import PdfReader
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    pages = [PdfReader(io.BytesIO(data)).pages[0] for data in pdfs]
    width = max(float(p.mediabox.width) for p in pages)
    height = sum(float(p.mediabox.height) for p in pages)
    sheet = writer.add_blank_page(width=width, height=height)
    forms, ops, top = DictionaryObject(), [], height
    for index, page in enumerate(pages):
        top -= float(page.mediabox.height)
        name = f"/Part{index}"
        forms[NameObject(name)] = _page_as_form(writer, page)
        dx, dy = -float(page.mediabox.left), top - float(page.mediabox.bottom)
        ops.append(f"q 1 0 0 1 {dx:.4f} {dy:.4f} cm {name} Do Q")
    sheet[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): forms})
    content = DecodedStreamObject()
    content.set_data("\n".join(ops).encode("ascii"))
    sheet[NameObject("/Contents")] = writer._add_object(content)


def briefing_pdf(dataset: Dataset, state: ViewState) -> bytes:
    """Cover (title, map, ranking), one page per selected city, then "Sources and caveats".

    1 + N + 1 pages for N cities (1 ≤ N ≤ 30). Every page is 11 in wide; city pages are US
    Letter landscape, the cover and the last page are as tall as their content.
    """
    from pypdf import PdfReader, PdfWriter

    n = len(state.cities)
    if n == 0:
        raise ValueError("Select at least one city for a briefing (add cities=... or a program cohort).")
    if n > MAX_BRIEFING_CITIES:
        raise ValueError(f"A briefing covers at most {MAX_BRIEFING_CITIES} cities; this view has {n}.")
    width = BRIEFING_WIDTH

    def jobs():  # built one by one, each rendered while the next is built
        header, header_height = _text_page(_cover_blocks(dataset, state), width, 0, margin=36)
        yield RenderJob(header, "pdf", width, header_height)
        for chart, chart_height in (("map", 600), ("ranking", 480)):
            figure, _, chart_height = chart_figure(dataset, state, chart, width, chart_height)
            yield RenderJob(figure, "pdf", width, chart_height)
        for geoid in state.cities:
            yield RenderJob(_city_page_figure(dataset, state, geoid), "pdf", width, BRIEFING_CITY_HEIGHT)
        sources, sources_height = _text_page(_sources_blocks(dataset, state), width, BRIEFING_CITY_HEIGHT)
        yield RenderJob(sources, "pdf", width, sources_height)

    rendered = get_renderer().render_many(jobs())

    writer = PdfWriter()
    _add_stacked_page(writer, rendered[:3])
    for data in rendered[3:]:
        writer.add_page(PdfReader(io.BytesIO(data)).pages[0])
    writer.add_outline_item(title="Cover: map and ranking", page_number=0)
    for index, geoid in enumerate(state.cities, start=1):
        writer.add_outline_item(title=dataset.label(geoid), page_number=index)
    writer.add_outline_item(title="Sources and caveats", page_number=n + 1)
    title = f"Safety Partnership Atlas briefing: {view_description(dataset, state)}"
    subject = " ".join(summaries.chart_summary(dataset, state, chart) for chart in CHARTS)
    writer.add_metadata(_document_info(dataset, title, subject))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
