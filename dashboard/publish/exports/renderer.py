"""One warm chart renderer per process: jobs, timeouts, crash recovery."""

from __future__ import annotations

import asyncio
import atexit
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.errors import ExportError, ExportTimeout
from dashboard.publish.exports.browser import (
    START_TIMEOUT,
    _export_page,
    _kaleido_class,
    _kill_process_group,
    _offline_chromium_class,
    browser_path,
)
from dashboard.settings import get_settings

log = logging.getLogger(__name__)
RENDER_TABS = 1  # a 2nd tab costs ~4 s of CPU at start and did not speed briefings up on 2 cores
RELOAD_EVERY = 50  # renders per tab between page reloads (in the background; memory levels off)


def export_timeout(kind: str = "chart") -> float:
    """Seconds one export may take in the browser: ``ATLAS_EXPORT_TIMEOUT`` for a chart (default
    45), ``ATLAS_BRIEFING_TIMEOUT`` for a whole briefing (default 180), from the settings."""
    settings = get_settings()
    return settings.briefing_timeout if kind == "briefing" else settings.export_timeout


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
