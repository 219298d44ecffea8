"""Headless Debian Chromium through Playwright (never a browser download), as the browser tests use it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The same flags as tests/browser/conftest.py: software WebGL (MapLibre needs it), no network noise.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
VIEWPORT = {"width": 1280, "height": 720}

# Resolves to performance.now() (ms since navigation start) once MapLibre has drawn a city polygon.
MAP_DRAWN_JS = """(sel) => {
    const gd = document.querySelector(sel);
    const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    if (!sub || !sub.map || !sub.map.loaded()) return false;
    const layers = sub.map.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
    return sub.map.queryRenderedFeatures({layers}).length > 0 ? performance.now() : false;
}"""
SVG_DRAWN_JS = """(sel) => document.querySelector(sel) ? performance.now() : false"""


@contextmanager
def chromium() -> Iterator:
    """A Playwright browser on Debian's Chromium; fails with a clear message when it is missing."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


POLL_MS = 16  # one frame at 60 Hz: the resolution of the time measured


def wait_ms(page, js: str, arg: str, timeout_ms: float = 60_000) -> float:
    """Poll ``js`` every 16 ms; the in-page time (ms since navigation) it first held.

    Not ``polling="raf"``: headless Chromium may stop producing animation frames for a page while
    the machine is busy (seen in full test runs: a 180 s timeout on a page drawn in a second).
    """
    handle = page.wait_for_function(js, arg=arg, polling=POLL_MS, timeout=timeout_ms)
    return float(handle.json_value())
