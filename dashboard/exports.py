"""Exports of a view: its data as CSV, its charts as PNG/SVG/PDF and a multi-page briefing PDF.

Charts are the page's own figures (``views``), rendered server-side by kaleido 1.x in the
system Chromium; the map is the page's choropleth redrawn as vector shapes on a plotly ``geo``
map (``figures/map_static.py``), since WebGL (MapLibre) in a software renderer took 5-20 s per
image and gave bitmap SVG/PDF. One browser is kept warm (:class:`ChartRenderer`), restarted
when it crashed, and stopped when a render runs past its time limit (:func:`export_timeout`).
Nothing is downloaded and no request leaves the machine:

* the browser is the system Chromium (``BROWSER_PATH``, else Debian's binary behind
  ``/usr/bin/chromium``), always passed explicitly, so choreographer never looks for (or
  fetches) its own Chrome;
* kaleido's page loads the plotly.js bundled with plotly.py from a ``file://`` URL and
  MathJax is disabled (``PageGenerator(mathjax=False)``; plotly.io does not forward it);
* map GeoJSON is embedded in the figure (no ``/data/...`` URLs); the ``geo`` map draws no
  base layer, and the page holds an empty topojson where plotly.js would otherwise fetch its
  USA base map from cdn.plot.ly (:data:`GEO_ASSETS_SCRIPT`);
* Chromium runs with every host (the proxy's too) resolving to nothing and a dead loopback
  proxy (:data:`OFFLINE_FLAGS`): Chromium's own background calls (update.googleapis.com,
  accounts.google.com, a search-engine preconnect) and any stray URL in a figure fail
  without a packet sent (checked with strace: no TCP socket is ever opened).

Speed (issue 5): kaleido reloads a tab after every render before returning; here the reload
happens in the background (:func:`_kaleido_class`), and the browser starts while the first
figure is built (:meth:`ChartRenderer.prestart`).
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
from functools import lru_cache
from pathlib import Path

import pandas as pd

from dashboard import summaries, views
from dashboard.config import SOURCE_CITATION
from dashboard.data import Dataset, city_series, year_snapshot
from dashboard.figures import map_static
from dashboard.figures.common import MEASURE_LABELS, theme
from dashboard.figures.ranking import FBI_RANKING_CAUTION
from dashboard.notes import city_notes, general_notes
from dashboard.state import MAX_CITIES, ViewState, cohort_members, cohort_options

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
MAX_CHART_CITIES = MAX_CITIES  # cities in a trends export (one panel each); the link takes no more
BRIEFING_WIDTH = 1056  # px = 11 in: every briefing page has this width
BRIEFING_CITY_HEIGHT = 816  # px = 8.5 in: a city page is US Letter landscape
DEFAULT_CHART_TIMEOUT = 45.0  # s a chart export may take in the browser (ATLAS_EXPORT_TIMEOUT)
DEFAULT_BRIEFING_TIMEOUT = 180.0  # s for a whole briefing (ATLAS_BRIEFING_TIMEOUT)
START_TIMEOUT = 60.0  # s to start the browser
RENDER_TABS = 1  # a 2nd tab costs ~4 s of CPU at start and did not speed briefings up on 2 cores
RELOAD_EVERY = 50  # renders per tab between page reloads (in the background; memory levels off)

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
    # (also: no preloaded browser UI pages, e.g. the omnibox popup: ~1 s of CPU at every start)
    "--disable-features=MediaRouter,OptimizationHints,Translate,AutofillServerCommunication,"
    "NetworkTimeServiceQuerying,PreconnectToSearch,PreloadTopChromeWebUI,WebUIOmniboxPopup,"
    "WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")


class ExportError(RuntimeError):
    """Rendering failed or is unavailable (no browser, crash, timeout): HTTP 503."""


class ExportTimeout(ExportError):
    """A render ran past its time limit; the browser was killed and restarts on the next export."""


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


GEO_ASSETS_SCRIPT = (
    # plotly.js wants a base-map topojson for any `geo` subplot with a choropleth, even with every
    # base layer hidden, and would fetch it from cdn.plot.ly. The export map draws its own states
    # (figures/map_static.py), so an empty topology stands in for the USA scopes.
    "<script>window.PlotlyGeoAssets = {topojson: {"
    + ", ".join(f'"usa_{r}m": {{"type": "Topology", "objects": {{}}, "arcs": []}}' for r in (110, 50))
    + "}};</script>"
)


def _export_page():
    """kaleido's page: local plotly.js, no MathJax, and the empty topojson in place (no fetch)."""
    import kaleido

    class ExportPage(kaleido.PageGenerator):
        def generate_index(self):
            page = super().generate_index()
            return page.replace("<title>", GEO_ASSETS_SCRIPT + "\n        <title>", 1)

    return ExportPage(plotly=_plotly_js_uri(), mathjax=False)


def _offline_chromium_class():
    from choreographer.browsers.chromium import Chromium

    class OfflineChromium(Chromium):
        """choreographer's Chromium with the network switched off."""

        def get_cli(self):
            return [*super().get_cli(), *OFFLINE_FLAGS]

    return OfflineChromium


def _kaleido_class():
    import kaleido

    class AtlasKaleido(kaleido.Kaleido):
        """kaleido whose tabs are reloaded off the critical path, and only now and then.

        kaleido reloads a tab (plotly.js and all, ~0.3 s of CPU) after every render, *before*
        the render returns. ``plotly.toImage`` draws into a throw-away element and purges it,
        so a tab can serve many renders: here a tab is reloaded after ``reload_every`` renders
        or when it was abandoned mid-render, and then in the background while the result goes
        back. A reload that fails marks the browser broken (the renderer restarts it).
        """

        def __init__(self, *args, reload_every: int = 1, **kwargs):
            super().__init__(*args, **kwargs)
            self.reload_every = max(1, reload_every)
            self.broken: str | None = None
            self.dirty_tabs: set[str] = set()  # reload before reuse (a render was abandoned)
            self._uses: dict[str, int] = {}
            self._reloads: set[asyncio.Task] = set()

        def mark_all_dirty(self) -> None:
            self.dirty_tabs.update(self.tabs)

        async def _return_kaleido_tab(self, tab) -> None:
            target = tab.tab.target_id
            uses = self._uses.get(target, 0) + 1
            if uses < self.reload_every and target not in self.dirty_tabs:
                self._uses[target] = uses
                await self.tabs_ready.put(tab)
                return
            self._uses[target] = 0
            self.dirty_tabs.discard(target)
            task = asyncio.ensure_future(self._reload_and_return(tab))
            self._reloads.add(task)
            task.add_done_callback(self._reloads.discard)

        async def _reload_and_return(self, tab) -> None:
            try:
                await kaleido.Kaleido._return_kaleido_tab(self, tab)
            except Exception as exc:  # the tab is gone: the renderer restarts the browser
                self.broken = f"tab reload failed: {type(exc).__name__}: {exc}"
                log.warning("export browser: %s", self.broken)

    return AtlasKaleido


def _kill_process_group(proc, *, grace: float = 5.0) -> None:
    """End the browser we started: it runs in a new session, so its group id is its pid.

    SIGTERM first (``grace`` seconds to exit), then SIGKILL; ``grace=0`` kills at once (a
    browser that ran past its time limit is not asked twice).
    """
    signals = ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)) if grace > 0 else ((signal.SIGKILL, 5.0),)
    for sig, wait in signals:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        log.warning("%s=%r is not a number of seconds from 0 to 3600; using %g", name, raw, default)
        return default
    return value


def export_timeout(kind: str = "chart") -> float:
    """Seconds one export may take in the browser: ``ATLAS_EXPORT_TIMEOUT`` for a chart (default
    45), ``ATLAS_BRIEFING_TIMEOUT`` for a whole briefing (default 180). Read on every export."""
    if kind == "briefing":
        return _env_seconds("ATLAS_BRIEFING_TIMEOUT", DEFAULT_BRIEFING_TIMEOUT)
    return _env_seconds("ATLAS_EXPORT_TIMEOUT", DEFAULT_CHART_TIMEOUT)


def _loop_exception(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Errors nobody awaited on the browser's loop: a render abandoned because the browser was
    killed or died ends with a closed channel; that is expected (logged at debug), the rest is not."""
    exc = context.get("exception")
    if exc is not None and type(exc).__name__ in _EXPECTED_AFTER_LOSS:
        log.debug("export browser: %s (%s)", context.get("message"), exc)
        return
    loop.default_exception_handler(context)


_EXPECTED_AFTER_LOSS = {"ChannelClosedError", "BrowserClosedError", "BrowserFailedError", "CancelledError"}


async def _cancel_tasks() -> None:
    """Cancel every other task of the running loop and wait for them to finish."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class _BrowserLost(Exception):
    """The browser or one of its tabs died during a render (internal: retried once)."""


@dataclass(frozen=True)
class RenderJob:
    figure: dict
    fmt: str
    width: int
    height: int
    scale: float = 1


class ChartRenderer:
    """A kaleido browser kept warm on its own event-loop thread; thread-safe (one lock).

    ``render`` starts the browser on first use and again after a crash. Limits:

    * a render (or a whole ``render_many`` batch) that runs past its time limit is abandoned:
      the browser is killed, the caller gets :class:`ExportTimeout` and the next call starts
      a fresh browser; waiting for the lock is bounded by the same limit;
    * a browser or tab that dies during a render is restarted and the render retried once
      (transparently); a second loss raises :class:`ExportError`;
    * any other failure tears the browser down and raises :class:`ExportError`.
    """

    def __init__(
        self,
        *,
        tabs: int = RENDER_TABS,
        timeout: float | None = None,
        record_requests: bool = False,
        reload_every: int = RELOAD_EVERY,
    ):
        self.tabs = tabs
        self.timeout = timeout  # None: export_timeout() on every call (the environment decides)
        self.record_requests = record_requests
        self.reload_every = reload_every
        self.requests: list[str] = []  # URLs the pages asked for (when record_requests)
        self.starts = 0
        self.retries = 0
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None
        self._lost: str | None = None  # set from the loop when a tab crashes
        self._prestart_guard = threading.Lock()
        self._prestarting = False

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
            and not getattr(k, "broken", None)
            and self._lost is None
        )

    @property
    def pid(self) -> int | None:
        proc = getattr(self._kaleido, "subprocess", None)
        return proc.pid if proc is not None else None

    def start(self) -> None:
        with self._lock:
            if self.is_alive():
                return
            self._teardown(kill=self._kaleido is not None)
            page = _export_page()
            index = page.generate_index()
            if re.search(r"https?://", index):  # never let the page reference a CDN
                raise ExportError("kaleido's page would load a remote script; refusing to start.")
            path = browser_path()
            loop = asyncio.new_event_loop()
            loop.set_exception_handler(_loop_exception)
            thread = threading.Thread(target=loop.run_forever, name="kaleido-loop", daemon=True)
            thread.start()
            self._loop, self._thread, self._lost = loop, thread, None

            async def open_browser():
                k = _kaleido_class()(
                    n=self.tabs,
                    timeout=None,  # the renderer keeps the time (render_many)
                    page_generator=page,
                    path=path,
                    browser_cls=_offline_chromium_class(),
                    enable_extensions=False,
                    reload_every=self.reload_every,
                )
                self._kaleido = k
                await k.open()
                for tab in list(k.tabs.values()):
                    tab.subscribe("Inspector.targetCrashed", self._on_crash)
                    await tab.send_command("Inspector.enable")
                    if self.record_requests:
                        tab.subscribe("Network.requestWillBeSent", self._on_request)
                        await tab.send_command("Network.enable")
                return k

            try:
                asyncio.run_coroutine_threadsafe(open_browser(), loop).result(START_TIMEOUT)
            except Exception as exc:
                self._teardown(kill=True)
                raise ExportError(f"Could not start Chromium for exports ({path}): {exc}") from exc
            self.starts += 1
            log.info("export browser started (%s, pid %s)", path, self.pid)

    def prestart(self) -> None:
        """Start the browser in a background thread (no-op when it runs or is starting).

        Called before a figure is built, so that Chromium starts while Python builds it; a
        failure is left for the render to report.
        """
        if self.is_alive():
            return
        with self._prestart_guard:
            if self._prestarting:
                return
            self._prestarting = True

        def run() -> None:
            try:
                self.start()
            except Exception as exc:
                log.warning("export browser did not start in the background: %s", exc)
            finally:
                self._prestarting = False

        threading.Thread(target=run, name="kaleido-prestart", daemon=True).start()

    async def _on_request(self, event: dict) -> None:
        url = str(event.get("params", {}).get("request", {}).get("url", ""))
        self.requests.append(url)

    async def _on_crash(self, event: dict) -> None:
        self._lost = "a browser tab crashed"
        log.warning("export browser: %s", self._lost)

    def stop(self) -> None:
        with self._lock:
            self._teardown()

    def _teardown(self, *, kill: bool = False) -> None:
        """Close the browser (``kill``: SIGKILL its process group first, for a hung or dead one)."""
        k, loop, thread = self._kaleido, self._loop, self._thread
        self._kaleido = self._loop = self._thread = None
        proc = getattr(k, "subprocess", None)
        if kill and proc is not None and proc.poll() is None:
            _kill_process_group(proc, grace=0)
        if k is not None and loop is not None and loop.is_running():
            try:  # also removes kaleido's and Chromium's temporary folders
                asyncio.run_coroutine_threadsafe(k.close(), loop).result(5 if kill else 15)
            except Exception as exc:
                log.warning("export browser did not close cleanly: %s", exc)
        if proc is not None and proc.poll() is None:
            _kill_process_group(proc)
        if loop is not None and loop.is_running():
            try:  # end what is left (choreographer's watchdog, reloads) before the loop stops
                asyncio.run_coroutine_threadsafe(_cancel_tasks(), loop).result(5)
            except Exception as exc:
                log.debug("export browser tasks did not all end: %s", exc)
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(10)
            if not loop.is_running():
                loop.close()

    # -- rendering ------------------------------------------------------------------------------
    def render(self, job: RenderJob, *, timeout: float | None = None) -> bytes:
        """One figure; ``timeout`` seconds at most (default: :func:`export_timeout`)."""
        return self.render_many([job], timeout=timeout)[0]

    def render_many(self, jobs: Iterable[RenderJob], *, timeout: float | None = None) -> list[bytes]:
        """Render figures in order, all within ``timeout`` seconds (default: the renderer's own
        limit, else :func:`export_timeout`). ``jobs`` may be a generator: each job is handed to
        the browser as soon as it is built, so Python builds the next figure while Chromium draws.
        """
        limit = timeout or self.timeout or export_timeout()
        deadline = time.monotonic() + limit
        if not self._lock.acquire(timeout=limit):
            raise ExportTimeout(f"The export renderer stayed busy for {limit:g} s.")
        try:
            built: list[RenderJob] = []
            pending = iter(jobs)
            for attempt in (1, 2):
                try:
                    return self._attempt(built, pending, deadline, limit)
                except _BrowserLost as exc:
                    self._teardown(kill=True)
                    if attempt == 2 or time.monotonic() > deadline - 1:
                        raise ExportError(f"The export browser died twice during a render: {exc}") from exc
                    self.retries += 1
                    log.warning("export browser lost during a render (%s); restarting and retrying once", exc)
            raise AssertionError("unreachable")
        finally:
            self._lock.release()

    def _attempt(self, built: list[RenderJob], pending, deadline: float, limit: float) -> list[bytes]:
        self.start()
        k, loop = self._kaleido, self._loop
        assert k is not None and loop is not None
        futures = []

        def submit(job: RenderJob) -> None:
            opts = {"format": job.fmt, "width": job.width, "height": job.height, "scale": job.scale}
            futures.append(asyncio.run_coroutine_threadsafe(k.calc_fig(job.figure, opts=opts), loop))

        try:
            for job in built:  # a retry: these were built before the browser was lost
                submit(job)
            for job in pending:
                built.append(job)
                submit(job)
                if time.monotonic() > deadline:
                    break
        except BaseException:  # building a figure failed: a caller problem, not the browser's
            loop.call_soon_threadsafe(k.mark_all_dirty)  # first: tabs drawing now get reloaded
            self._cancel(futures)
            raise
        try:
            if time.monotonic() > deadline:
                raise ExportTimeout(f"The export took longer than {limit:g} s and was stopped.")
            return [self._wait(future, deadline, limit) for future in futures]
        except ExportTimeout:
            self._cancel(futures)
            log.warning("export render ran past %g s; the browser is killed and restarted", limit)
            self._teardown(kill=True)
            raise
        except _BrowserLost:
            self._cancel(futures)
            raise
        except Exception as exc:
            self._cancel(futures)
            lost = self._loss()
            if lost is not None:
                raise _BrowserLost(lost) from exc
            log.exception("export render failed; the browser is restarted on the next call")
            self._teardown()
            raise ExportError(f"Rendering failed: {type(exc).__name__}: {exc}") from exc

    def _loss(self) -> str | None:
        """Why the browser cannot go on, if it cannot (process gone, tab crashed, tab lost)."""
        k = self._kaleido
        proc = getattr(k, "subprocess", None)
        if proc is None or proc.poll() is not None:
            return "the browser process exited"
        return self._lost or getattr(k, "broken", None)

    def _wait(self, future, deadline: float, limit: float) -> bytes:
        """The future's result, polling so that a dead browser is noticed within a second."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ExportTimeout(f"The export took longer than {limit:g} s and was stopped.")
            try:
                return future.result(min(remaining, 0.5))
            except TimeoutError:
                if future.done():  # the render itself raised a TimeoutError
                    raise
                lost = self._loss()
                if lost is not None:
                    raise _BrowserLost(lost) from None

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


@lru_cache(maxsize=8)
def _map_features(dataset: Dataset, tolerance: float) -> tuple[dict[str, dict], dict[str, dict]]:
    """Cities and states thinned for the export map (built once per dataset and tolerance)."""
    return (
        map_static.d3_features(dataset.city_geojson, "geoid", tolerance),
        map_static.d3_features(dataset.state_geojson, "name", tolerance),
    )


def _chart_figure(
    dataset: Dataset, state: ViewState, chart: str, width: int, height: int
) -> tuple[dict, str | None]:
    """The chart's figure as a dict, and its summary when building the figure yielded it."""
    if chart == "map":
        # The page's choropleth, drawn as vector shapes (figures/map_static.py): no WebGL.
        cities, states = _map_features(dataset, map_static.tolerance_for(width, height))
        figure = map_static.build_static_map(
            year_snapshot(dataset, state.year, state.offence),
            city_features=cities,
            state_features=states,
            measure=state.measure,
            offence_label=dataset.offence_label(state.offence),
            year=state.year,
            version=dataset.version,
            selected=list(state.cities),
            scale_values=views.colour_scale_values(dataset, state.offence, state.measure),
        )
        return figure, None
    if chart == "trends":
        fig = views.trends_figure(
            dataset, list(state.cities), state.offence, state.measure, state.year_from, state.year_to
        )
        return fig.to_dict(), None
    if chart == "ranking":
        fig, children = views.ranking_view(dataset, state.cohort, state.offence, state.year, state.threshold)
        # The summary is the first block of the view, as summaries.ranking_summary_text reads it:
        # taken here, the ranking is not built a second time (half a second).
        first = children[0] if isinstance(children, list) else children
        summary = first if isinstance(first, str) else str(getattr(first, "children", "") or "")
        return fig.to_dict(), summary or None
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


def _cities_were_cut(state: ViewState) -> bool:
    """True when the link named more cities than a view takes (``state.parse_query`` keeps the
    first :data:`state.MAX_CITIES` and says so in a notice)."""
    return any(notice.startswith(f"Only the first {MAX_CITIES} cities") for notice in state.notices)


def check_export_request(state: ViewState, chart: str, width: int | None, height: int | None) -> None:
    """Refuse, before any work, a chart export whose cost the limits do not allow (ValueError).

    Sizes are bounded (:data:`WIDTH_RANGE`, :data:`HEIGHT_RANGE`); the trends chart draws one
    panel per city, so its export takes at most :data:`MAX_CHART_CITIES` cities (a link with
    more is refused rather than silently cut).
    """
    if chart not in CHARTS:
        raise ValueError(f"Unknown chart {chart!r}: use one of {', '.join(CHARTS)}.")
    _check_size("width", width)
    _check_size("height", height)
    if chart == "trends" and (len(state.cities) > MAX_CHART_CITIES or _cities_were_cut(state)):
        raise ValueError(
            f"A trends export shows at most {MAX_CHART_CITIES} cities; choose fewer (cities=...)."
        )


def chart_figure(
    dataset: Dataset, state: ViewState, chart: str, width: int | None = None, height: int | None = None
) -> tuple[dict, int, int]:
    """The page's figure for ``chart`` as a plain dict, sized and fitted for a static export."""
    figure, width, height, _summary = _sized_chart(dataset, state, chart, width, height)
    return figure, width, height


def _sized_chart(
    dataset: Dataset, state: ViewState, chart: str, width: int | None, height: int | None
) -> tuple[dict, int, int, str | None]:
    if chart not in CHARTS:
        raise ValueError(f"Unknown chart {chart!r}: use one of {', '.join(CHARTS)}.")
    _check_size("width", width)
    _check_size("height", height)
    width = width or DEFAULT_WIDTH
    figure, summary = _chart_figure(dataset, state, chart, width, height or DEFAULT_HEIGHTS.get(chart, 600))
    if height is None:
        natural = DEFAULT_HEIGHTS.get(chart) or int(figure.get("layout", {}).get("height") or 600)
        height = min(HEIGHT_RANGE[1], max(HEIGHT_RANGE[0], natural))
    return _fit_for_export(figure, chart, width, height), width, height, summary


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
    check_export_request(state, chart, width, height)
    renderer = get_renderer()
    renderer.prestart()  # Chromium starts while Python builds the figure
    figure, width, height, description = _sized_chart(dataset, state, chart, width, height)
    scale = PNG_SCALE if fmt == "png" else 1
    data = renderer.render(RenderJob(figure, fmt, width, height, scale))
    title = (
        _strip_tags(figure.get("layout", {}).get("title", {}).get("text", "")) or "Safety Partnership Atlas"
    )
    description = description or summaries.chart_summary(dataset, state, chart)
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
    if n > MAX_BRIEFING_CITIES or _cities_were_cut(state):
        shown = f"{n}+" if _cities_were_cut(state) else str(n)
        raise ValueError(f"A briefing covers at most {MAX_BRIEFING_CITIES} cities; this view has {shown}.")
    renderer = get_renderer()
    renderer.prestart()
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

    rendered = renderer.render_many(jobs(), timeout=export_timeout("briefing"))

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
