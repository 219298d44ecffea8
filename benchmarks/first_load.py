"""2. First load: bytes on the wire (compression on) and time to the first drawn map, in headless Chromium.

Bytes come from Playwright's request sizes (encoded body + headers: what went over the wire, 0 for a
response from the HTTP cache), grouped by kind; they include MapLibre's web-worker fetches. Time is the
page's own clock (``performance.now()``, ms since navigation start) when the probe first held, polled
every animation frame: for the atlas and the naive baseline, MapLibre has drawn a city polygon
(``queryRenderedFeatures``, as the browser tests check); for the floor, its one graph's ``.main-svg``
exists. A second visit in the same browser context shows what the HTTP cache saves: geometry requests
are counted in the server's access log (none = served from cache; a 304 revalidation counts as a
transfer and is reported).
"""

from __future__ import annotations

import logging
from collections import defaultdict

from benchmarks.browser import MAP_DRAWN_JS, SVG_DRAWN_JS, VIEWPORT, chromium, wait_ms
from benchmarks.common import Server, ratio, summarize
from benchmarks.context import Context

log = logging.getLogger("benchmarks")

GROUPS = ("geometry", "data", "js", "css", "other")


def classify(url: str, mime: str) -> str:
    path = url.split("?", 1)[0]
    if path.endswith(".geojson") or "geo+json" in mime:
        return "geometry"
    if path.endswith(".js") or "javascript" in mime:
        return "js"
    if path.endswith(".css") or "css" in mime:
        return "css"
    if "/_dash-" in path or "json" in mime or path.endswith(".csv"):
        return "data"
    return "other"


class NetworkLog:
    """Per request: url, status, kind, wire bytes (body as encoded + headers; 0 when cached).

    Playwright's request events include MapLibre's web-worker fetches (the states layer), which a
    page-level DevTools session does not see.
    """

    def __init__(self, page) -> None:
        self.requests: list[dict] = []
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._failed)

    def _finished(self, request) -> None:
        response = request.response()
        sizes = request.sizes()
        wire = max(sizes["responseBodySize"] + sizes["responseHeadersSize"], 0)
        headers = response.headers if response else {}
        self.requests.append(
            {
                "url": request.url,
                "status": response.status if response else None,
                "mime": headers.get("content-type", ""),
                "bytes": wire,
                "body_bytes": max(sizes["responseBodySize"], 0),
                "cache": wire == 0,  # answered by the browser's HTTP cache: nothing on the wire
                "encoding": headers.get("content-encoding", ""),
                "cache_control": headers.get("cache-control", ""),
            }
        )

    def _failed(self, request) -> None:
        self.requests.append(
            {"url": request.url, "status": None, "mime": "", "bytes": 0, "cache": False, "failed": True}
        )

    def summary(self, origin: str) -> dict:
        groups = {g: {"requests": 0, "bytes": 0} for g in GROUPS}
        geometry = []
        foreign = []
        failed = 0
        encodings: dict[str, int] = defaultdict(int)
        for entry in self.requests:
            if not entry["url"].startswith(("http://", "https://")):
                continue
            if not entry["url"].startswith(origin):
                foreign.append(entry["url"])
            kind = classify(entry["url"], entry["mime"])
            groups[kind]["requests"] += 1
            groups[kind]["bytes"] += entry["bytes"]
            if entry["bytes"]:
                encodings[entry.get("encoding") or "identity"] += 1
            failed += 1 if entry.get("failed") or (entry["status"] or 0) >= 400 else 0
            if kind == "geometry":
                geometry.append(
                    {
                        "url": entry["url"].replace(origin, ""),
                        "status": entry["status"],
                        "bytes": entry["bytes"],
                        "from_cache": entry["cache"],
                        "encoding": entry.get("encoding", ""),
                        "cache_control": entry.get("cache_control", ""),
                    }
                )
        transfers = [g for g in geometry if not g["from_cache"]]
        return {
            "total_bytes": sum(g["bytes"] for g in groups.values()),
            "requests": sum(g["requests"] for g in groups.values()),
            "groups": groups,
            "geometry_and_data_bytes": groups["geometry"]["bytes"] + groups["data"]["bytes"],
            "geometry": geometry,
            "geometry_transfers": len(transfers),
            "geometry_304": sum(1 for g in transfers if g["status"] == 304),
            "encodings": dict(encodings),
            "failed_requests": failed,
            "foreign_requests": foreign,
        }


def _geometry_log(server: Server, start: int) -> list[str]:
    """Geometry requests the server saw since line ``start`` of its access log (method + status)."""
    lines = server.log_lines()[start:]
    return [line for line in lines if ".geojson" in line and "GET " in line]


def visit(context, server: Server, path: str, js: str, selector: str) -> dict:
    page = context.new_page()
    network = NetworkLog(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)[:200]))
    log_start = len(server.log_lines())
    try:
        page.goto(server.url + path, wait_until="commit", timeout=60_000)
        drawn_ms = wait_ms(page, js, selector, timeout_ms=90_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
    finally:
        page.close()
    seen = _geometry_log(server, log_start)
    summary = network.summary(server.url)
    summary["server_geometry_requests"] = {
        "200": sum(1 for line in seen if '" 200 ' in line),
        "304": sum(1 for line in seen if '" 304 ' in line),
        "other": sum(1 for line in seen if '" 200 ' not in line and '" 304 ' not in line),
    }
    return {"drawn_ms": round(drawn_ms, 1), **summary, "page_errors": errors}


def measure(
    browser, server: Server, path: str, js: str, selector: str, repeats: int, second_visit: bool = True
) -> dict:
    """First visit (fresh context) ``repeats`` times; a second visit in the last context."""
    firsts = []
    second = None
    for i in range(repeats):
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        try:
            firsts.append(visit(context, server, path, js, selector))
            if second_visit and i == repeats - 1:
                second = visit(context, server, path, js, selector)
        finally:
            context.close()
    first = firsts[0]
    return {
        "path": path,
        "drawn_ms": summarize(f["drawn_ms"] for f in firsts),
        "first_visit": first,
        "second_visit": second,
    }


def run(ctx: Context) -> dict:
    repeats = ctx.n(15, 1)
    targets = {
        "floor": ("/", SVG_DRAWN_JS, "#graph .main-svg"),
        "atlas": ("/", MAP_DRAWN_JS, "#map .js-plotly-plot"),
        "naive": ("/", MAP_DRAWN_JS, "#map .js-plotly-plot"),
    }
    if ctx.smoke:
        targets.pop("naive")  # seconds per load; the smoke run only keeps the harness from rotting
    results: dict = {}
    with chromium() as browser:
        for name, (path, js, selector) in targets.items():
            server = ctx.server(name)
            warm_failed = None
            if not ctx.smoke:  # server-side warm-up (layout, caches), not measured
                warm = browser.new_context(viewport=VIEWPORT)
                try:
                    warm_failed = visit(warm, server, path, js, selector)["failed_requests"]
                finally:
                    warm.close()
            second = not (ctx.smoke and name == "floor")  # the cache check is the atlas's
            results[name] = measure(browser, server, path, js, selector, repeats, second)
            results[name]["warmup_failed_requests"] = warm_failed
    floor_ms = results["floor"]["drawn_ms"].get("p50")
    atlas = results["atlas"]
    comparison: dict = defaultdict(dict)
    comparison["atlas_map_ms_p50"] = atlas["drawn_ms"].get("p50")
    comparison["floor_svg_ms_p50"] = floor_ms
    comparison["map_vs_floor"] = ratio(atlas["drawn_ms"].get("p50"), floor_ms)
    comparison["atlas_geometry_and_data_bytes"] = atlas["first_visit"]["geometry_and_data_bytes"]
    comparison["atlas_total_bytes"] = atlas["first_visit"]["total_bytes"]
    second = atlas["second_visit"] or {}
    # The server's access log is the authority: a request it never saw was answered by the cache.
    seen = second.get("server_geometry_requests") or {}
    comparison["second_visit_geometry_transfers"] = sum(seen.values()) if second else None
    comparison["second_visit_geometry_304"] = seen.get("304")
    comparison["second_visit_browser_geometry_transfers"] = second.get("geometry_transfers")
    comparison["atlas_encodings"] = atlas["first_visit"].get("encodings")
    if "naive" in results:
        naive = results["naive"]
        comparison["naive_map_ms_p50"] = naive["drawn_ms"].get("p50")
        comparison["naive_total_bytes"] = naive["first_visit"]["total_bytes"]
        comparison["naive_geometry_and_data_bytes"] = naive["first_visit"]["geometry_and_data_bytes"]
    failed = sum(
        r[v]["failed_requests"] + len(r[v]["foreign_requests"]) + len(r[v]["page_errors"])
        for r in results.values()
        for v in ("first_visit", "second_visit")
        if r.get(v)
    )
    return {
        "method": (
            "Playwright + Debian Chromium (headless, swiftshader WebGL), 1280x720; bytes = Playwright "
            "request sizes (encoded body + headers, 0 when cached); time = performance.now() when the probe "
            "first held (rAF polling); 2nd-visit geometry transfers from the server's access log"
        ),
        "repeats": repeats,
        **results,
        "comparison": dict(comparison),
        "errors": failed,
    }
