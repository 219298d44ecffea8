"""7. Every place (issue 13): the atlas at ~30x the cities, side by side with its default view and the floor.

The default view (the ~320 cities of 100,000+ and the program sites, ``minpop`` at 100k) against the same
server with every place of the FBI city tables (``minpop=0``: ~7,900 dots in 2022, ~8,000 ranked places):

* interaction: year, offence and measure changes replayed by :class:`DashClient` in each state (the dots are
  recoloured in the browser, so they cost no request; what is measured is everything the server sends);
* first load: Playwright until MapLibre has drawn a city polygon, and for all places until the dots are in
  the figure too; the floor page the same way;
* the all-places layer file, on the wire (gzip), fetched once per offence;
* a map PNG of all places rendered warm, uncached (a new width per request defeats the export cache);
* the pipeline build of every file, all places included (full runs only: ~30 s of a quiet core).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.browser import MAP_DRAWN_JS, SVG_DRAWN_JS, chromium
from benchmarks.common import PROJECT_ROOT, Server, ratio, summarize
from benchmarks.context import Context
from benchmarks.dash_client import DashClient
from benchmarks.first_load import measure as measure_load
from benchmarks.interaction import measure_app, measure_floor

log = logging.getLogger("benchmarks")

CHANGES = ("year", "offence", "measure")
ALL_PLACES = {"minpop": 0}
DOTS_DRAWN_JS = (
    "(sel) => { const t = (" + MAP_DRAWN_JS + ")(sel); const gd = document.querySelector(sel);"
    " return t && gd.data[0].lon.length > 1000 ? performance.now() : false; }"
)
EXPORT_VIEW = "?cohort=all-psp&year=2022&minpop=0"
DEFAULT_EXPORT_VIEW = "?cohort=all-psp&year=2022"


def _interaction(ctx: Context) -> dict:
    n, warmup, budget = ctx.n(200, 2), ctx.n(20, 0), ctx.budget(300.0, 1.0)
    url = ctx.server("atlas").url
    floor = measure_floor(ctx.server("floor").url, n, warmup, budget)["noop"]["callbacks"][0]
    states = {
        "default": measure_app(url, CHANGES, n, warmup, budget, cover=True),
        "all_places": measure_app(url, CHANGES, n, warmup, budget, cover=True, setup=ALL_PLACES),
    }
    rows = {}
    for change in CHANGES:
        row: dict[str, Any] = {"floor_p95_ms": floor["ms"].get("p95")}
        for state, results in states.items():
            section = results[change]
            the_map = section["map"] or {}
            row |= {
                f"{state}_map_wire_bytes_p50": (the_map.get("wire_bytes") or {}).get("p50"),
                f"{state}_map_p95_ms": (the_map.get("ms") or {}).get("p95"),
                f"{state}_map_p95_vs_floor": ratio(
                    (the_map.get("ms") or {}).get("p95"), floor["ms"].get("p95")
                ),
                f"{state}_total_wire_bytes_p50": section["total_wire_bytes"].get("p50"),
                f"{state}_total_ms_p95": section["total_ms"].get("p95"),
                f"{state}_requests": section["requests_per_interaction"],
            }
        rows[change] = row
    errors = sum(s["errors"] for results in states.values() for s in results.values())
    return {"changes": rows, "atlas": states, "errors": errors}


def _first_load(ctx: Context) -> dict:
    repeats = ctx.n(10, 1)
    targets = {
        "floor": ("floor", "/", SVG_DRAWN_JS, "#graph .main-svg"),
        "default": ("atlas", "/", MAP_DRAWN_JS, "#map .js-plotly-plot"),
        "all_places": ("atlas", "/?minpop=0", DOTS_DRAWN_JS, "#map .js-plotly-plot"),
    }
    if ctx.smoke:  # the smoke run only keeps the harness from rotting: one load of all places
        targets = {"all_places": targets["all_places"]}
    out: dict = {}
    with chromium() as browser:
        for name, (app, path, js, selector) in targets.items():
            result = measure_load(browser, ctx.server(app), path, js, selector, repeats, second_visit=False)
            first = result["first_visit"]
            out[name] = {
                "drawn_ms": result["drawn_ms"],
                "total_bytes": first["total_bytes"],
                "geometry_and_data_bytes": first["geometry_and_data_bytes"],
                "failed_requests": first["failed_requests"],
            }
    floor_ms = out["floor"]["drawn_ms"].get("p50") if "floor" in out else None
    for name in ("default", "all_places"):
        if name in out:
            out[name]["vs_floor"] = ratio(out[name]["drawn_ms"].get("p50"), floor_ms)
    return out


def _layer(ctx: Context) -> dict:
    client = DashClient(ctx.server("atlas").url)
    try:
        response = client.get("/data/places/violent_crime.json")
        return {
            "status": response.status,
            "wire_bytes": response.wire_bytes,
            "encoding": response.headers.get("content-encoding", "identity"),
        }
    finally:
        client.close()


def _export(ctx: Context) -> dict:
    """Warm, uncached map PNGs (one worker, ATLAS_CACHE=off), all places against the default view."""

    # a new width per request is a cache miss anyway; one worker, so "warm" means one renderer (full runs)
    server = (
        ctx.server("atlas") if ctx.smoke else Server("atlas", workers=1, env={"ATLAS_CACHE": "off"}).start()
    )
    client = DashClient(server.url, timeout=300)
    out: dict = {}
    try:
        client.get(f"/export/map.png{DEFAULT_EXPORT_VIEW}")  # launches the export browser: not measured
        for name, view in (("default", DEFAULT_EXPORT_VIEW), ("all_places", EXPORT_VIEW)):
            samples, statuses = [], set()
            for i in range(ctx.n(10, 1)):
                response = client.get(f"/export/map.png{view}&width={1200 + i}&height=800")
                samples.append(response.seconds)
                statuses.add(response.status)
            out[name] = {"s": summarize(samples), "status": sorted(statuses)}
    finally:
        client.close()
        if not ctx.smoke:
            server.stop()
    return out


def _build(ctx: Context) -> dict | None:
    if ctx.smoke:
        return None
    with tempfile.TemporaryDirectory() as folder:
        for curated in ("programs.csv", "breaks.csv", "screening.csv"):
            (Path(folder) / curated).write_bytes((PROJECT_ROOT / "geodata" / curated).read_bytes())
        started = time.monotonic()
        command = [sys.executable, "-m", "dashboard.pipeline", "build", "--sources", "../shared/sources"]
        done = subprocess.run([*command, "--out", folder], cwd=PROJECT_ROOT, capture_output=True, check=False)
        return {"s": round(time.monotonic() - started, 1), "returncode": done.returncode}


def run(ctx: Context) -> dict:
    interaction = _interaction(ctx)
    first_load = _first_load(ctx)
    export = _export(ctx)
    layer = _layer(ctx)
    build = _build(ctx)
    failed = sum(v["failed_requests"] for v in first_load.values())
    bad_exports = sum(1 for v in export.values() if v["status"] != [200])
    return {
        "method": (
            "the production server (gunicorn, 2 workers x 4 threads); DashClient replays each change in the "
            "default view and after setting minpop=0; Playwright first loads until the map (and the dots) "
            "are drawn; map PNG exports on a one-worker server with ATLAS_CACHE=off, a new width each time"
        ),
        "interaction": interaction,
        "first_load": first_load,
        "layer": layer,
        "export": export,
        "build": build,
        "errors": interaction["errors"] + failed + bad_exports + (layer["status"] != 200),
    }
