"""3. Exports over HTTP: cold and warm time per chart x format, the briefing PDF, and the cache.

Uncached (``ATLAS_CACHE=off``, one gunicorn worker so "cold" means one thing): the first export
after start (it launches the export browser), then per chart x format the first request (cold
for that figure) and the p50/p95 of repeated requests (warm). Cached (the default configuration,
two workers): the first request of each export (a miss), then repeats that must answer
``X-Atlas-Cache: hit``. The briefing is the PSP 2017 cohort's (12 cities).
"""

from __future__ import annotations

import logging
from typing import Any

from benchmarks.common import Server, summarize
from benchmarks.context import Context, Deadline
from benchmarks.dash_client import DashClient

log = logging.getLogger("benchmarks")

CHARTS = ("map", "trends", "ranking")
FORMATS = ("png", "svg", "pdf")
VIEW = "?cohort=psp-2017"
BRIEFING_VIEW = "?cohort=psp-2017"
SMOKE_BRIEFING_VIEW = "?cohort=psp-2017&cities=4748000"  # one city: the smoke run only checks it works
CACHE_HEADER = "x-atlas-cache"


def _timed(client: DashClient, path: str) -> dict[str, Any]:
    resp = client.get(path)
    return {
        "status": resp.status,
        "s": round(resp.seconds, 4),
        "bytes": resp.wire_bytes,
        "cache": resp.headers.get(CACHE_HEADER, ""),
        "type": resp.headers.get("content-type", ""),
    }


def _series(client: DashClient, path: str, n: int, budget: float) -> list[dict]:
    out = []
    deadline = Deadline(budget)
    for _ in range(n):
        out.append(_timed(client, path))
        if deadline.passed and len(out) >= 2:
            break
    return out


def _stats(samples: list[dict]) -> dict:
    return {
        "s": summarize(x["s"] for x in samples),
        "bytes": samples[-1]["bytes"] if samples else 0,
        "status": sorted({x["status"] for x in samples}),
        "cache": sorted({x["cache"] or "-" for x in samples}),
    }


def uncached(ctx: Context, combos: list[tuple[str, str]], warm_n: int, briefing: str, repeats: int) -> dict:
    server = Server("atlas", workers=1, env={"ATLAS_CACHE": "off"}).start()
    client = DashClient(server.url, timeout=300)
    try:
        # the smoke run counts the first chart's cold request as the first export after start
        first = None if ctx.smoke else _timed(client, f"/export/{combos[0][0]}.{combos[0][1]}{VIEW}")
        charts: dict[str, dict] = {}
        for chart, fmt in combos:
            cold = _timed(client, f"/export/{chart}.{fmt}{VIEW}")
            first = first or cold
            warm = _series(client, f"/export/{chart}.{fmt}{VIEW}", warm_n, ctx.budget(120.0, 2.0))
            charts[f"{chart}.{fmt}"] = {"cold": cold, "warm": _stats(warm)}
        csv = _series(client, f"/export/data.csv{VIEW}", max(warm_n, 2), ctx.budget(60.0, 1.0))
        brief = _series(client, f"/export/briefing.pdf{briefing}", repeats, ctx.budget(300.0, 1.0))
    finally:
        client.close()
        server.stop()
    return {
        "server": "gunicorn, 1 worker x 4 threads, ATLAS_CACHE=off",
        "first_after_start": first,
        "charts": charts,
        "csv": _stats(csv),
        "briefing": {"view": briefing, **_stats(brief)},
    }


def cached(ctx: Context, combos: list[tuple[str, str]], n: int, briefing: str | None) -> dict:
    server = ctx.server("atlas")  # the production configuration: cache on, 2 workers
    client = DashClient(server.url, timeout=300)
    view = VIEW + "&year=2014"  # a view no other benchmark exported, so the first request is a miss
    try:
        charts = {}
        for chart, fmt in combos:
            miss = _timed(client, f"/export/{chart}.{fmt}{view}")
            hits = _series(client, f"/export/{chart}.{fmt}{view}", n, ctx.budget(60.0, 1.0))
            charts[f"{chart}.{fmt}"] = {"first": miss, "repeat": _stats(hits)}
        briefing_row = None
        if briefing:
            brief_first = _timed(client, f"/export/briefing.pdf{briefing}&year=2014")
            brief = _series(client, f"/export/briefing.pdf{briefing}&year=2014", n, ctx.budget(60.0, 1.0))
            briefing_row = {"first": brief_first, "repeat": _stats(brief)}
    finally:
        client.close()
    return {
        "server": "gunicorn.conf.py defaults (2 workers x 4 threads), cache on",
        "charts": charts,
        "briefing": briefing_row,
    }


def run(ctx: Context) -> dict:
    if ctx.smoke:
        combos = [("ranking", "png"), ("trends", "svg"), ("ranking", "pdf")]  # the map is the slowest
        results = {
            "uncached": uncached(ctx, combos, 1, SMOKE_BRIEFING_VIEW, 1),
            "cached": cached(ctx, combos[:1], 1, None),
        }
    else:
        combos = [(c, f) for c in CHARTS for f in FORMATS]
        results = {
            "uncached": uncached(ctx, combos, 20, BRIEFING_VIEW, 3),
            "cached": cached(ctx, combos, 20, BRIEFING_VIEW),
        }
    unc, cac = results["uncached"], results["cached"]
    statuses = [unc["first_after_start"]["status"]]
    for row in unc["charts"].values():
        statuses += [row["cold"]["status"], *row["warm"]["status"]]
    statuses += unc["csv"]["status"] + unc["briefing"]["status"]
    for row in cac["charts"].values():
        statuses += [row["first"]["status"], *row["repeat"]["status"]]
    if cac["briefing"]:
        statuses += [cac["briefing"]["first"]["status"], *cac["briefing"]["repeat"]["status"]]
    png_warm = [row["warm"]["s"].get("p50") for key, row in unc["charts"].items() if key.endswith(".png")]
    hits = [row["repeat"]["cache"] for row in cac["charts"].values()]
    return {
        "method": "HTTP GET over loopback with DashClient (time = request sent -> body read)",
        "view": VIEW,
        **results,
        "comparison": {
            "warm_png_p50_s_max": max(png_warm) if png_warm else None,
            "briefing_p50_s": unc["briefing"]["s"].get("p50"),
            "briefing_view": unc["briefing"]["view"],
            "first_export_after_start_s": unc["first_after_start"]["s"],
            "cached_repeats_all_hit": all(h == ["hit"] for h in hits),
            "cached_repeat_p50_s_max": max(
                (row["repeat"]["s"].get("p50") or 0) for row in cac["charts"].values()
            ),
        },
        "errors": sum(1 for s in statuses if s != 200),
    }
