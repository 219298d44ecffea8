"""The export browser: Debian's Chromium started offline for kaleido, no downloads."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path

from dashboard.errors import ExportError
from dashboard.settings import get_settings

log = logging.getLogger(__name__)
START_TIMEOUT = 60.0  # s to start the browser

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


# ---------------------------------------------------------------------------------------------
# The browser: one warm kaleido/Chromium, restarted after a crash or a failed render


DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"  # the binary behind Debian's /usr/bin/chromium script


def browser_path() -> str:
    """The system Chromium: ``BROWSER_PATH`` if set, else Debian's chromium, else one on PATH.

    Debian's ``/usr/bin/chromium`` is a shell script that adds flags (remote extensions, an
    extensions folder) before exec'ing ``/usr/lib/chromium/chromium``; starting the binary
    directly skips those extras and saves about a second per browser start.
    """
    configured = get_settings().browser_path
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


PAGE_READY_TIMEOUT = 30.0  # s for a tab to show the export page with kaleido's scripts


def kaleido_tab_class():
    """kaleido's tab with its start-up race fixed (uses kaleido's private tab API: kaleido is pinned).

    kaleido 1.5 navigates a tab to its page, calls ``Runtime.enable`` and takes the *first*
    ``executionContextCreated`` event as the page's script context, and the first ``loadEventFired`` as
    the page's load. When the tab is still busy with another document (the browser's own start-up page
    on a busy machine), both belong to that document, and the first export fails with "ReferenceError:
    kaleido_scopes is not defined". Here every context the tab reports is recorded, and the page's is
    the one in which kaleido's scripts are actually defined, checked before the tab is used.
    """
    from kaleido._kaleido_tab._tab import _KaleidoTab, _raise_error

    class AtlasKaleidoTab(_KaleidoTab):
        async def navigate(self, url: str = "") -> None:
            await self._apply_headers()
            created: list[int] = []

            async def record(event: dict) -> None:
                context = event.get("params", {}).get("context", {})
                if context.get("auxData", {}).get("isDefault", True) and context.get("id"):
                    created.append(context["id"])

            self.tab.subscribe("Runtime.executionContextCreated", record)
            try:
                _raise_error(await self.tab.send_command("Page.enable"))
                _raise_error(await self.tab.send_command("Page.navigate", params={"url": url}))
                _raise_error(await self.tab.send_command("Runtime.enable"))
                self._current_js_id = await self._page_context(created)
            finally:
                self.tab.unsubscribe("Runtime.executionContextCreated")
            self.js_logger.reset()

        async def _page_context(self, created: list[int]) -> int:
            """The newest context in which ``kaleido_scopes`` exists (polled: scripts load after commit)."""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + PAGE_READY_TIMEOUT
            while True:
                for context_id in reversed(created):
                    if await self._scripts_in(context_id):
                        return context_id
                if loop.time() > deadline:
                    raise ExportError(f"kaleido's export page did not load within {PAGE_READY_TIMEOUT:g} s")
                await asyncio.sleep(0.05)

        async def _scripts_in(self, context_id: int) -> bool:
            params = {"expression": "typeof kaleido_scopes", "contextId": context_id, "returnByValue": True}
            answer = await self.tab.send_command("Runtime.evaluate", params=params)
            return answer.get("result", {}).get("result", {}).get("value") == "object"

    return AtlasKaleidoTab


def _kaleido_class():
    import kaleido

    atlas_tab_class = kaleido_tab_class()

    class AtlasKaleido(kaleido.Kaleido):
        tab_class = atlas_tab_class  # the tabs it opens (see kaleido_tab_class)

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

        async def _conform_tabs(self, tabs=None) -> None:
            """kaleido's own, with the tab class whose navigation waits for the right context."""
            tabs = list(tabs or self.tabs.values())
            kaleido_tabs = [self.tab_class(tab, headers=self._headers) for tab in tabs]
            await asyncio.gather(*(tab.navigate(self._index) for tab in kaleido_tabs))
            for ktab in kaleido_tabs:
                self._total_tabs += 1
                await self.tabs_ready.put(ktab)

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
