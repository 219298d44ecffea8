"""4. Scale: how the map's cost grows with the number of cities, and the trends chart's with the selection.

Map sizes: the program cities (28), every city of 100,000+ in the dataset (~320), and SYNTHETIC sets of
1,000, 3,000 and 10,000 real Census places (the largest by land area in the CB 2015 1:500k place files
under ``../shared/sources``, simplified with the pipeline's own function) carrying seeded random values.
The synthetic values are not data: they are labelled synthetic in every output and never written into
geodata/. The geometry is cached in the system temp dir between runs.

Per size, with the project's pure functions (``figures.map.map_values``, ``callbacks.recolour_patch``,
``figures.map.build_map_figure``) serialised as Dash serialises a response: GeoJSON bytes raw/gzip, the
recolour patch bytes raw/gzip and the server time to build and serialise it (uncached: the first visit to
a view), the initial figure's build time and bytes, and in headless Chromium on a minimal page (plotly.js
only) the time to draw the map and to recolour it (``Plotly.react`` with new colours, as dcc.Graph applies
a patch, until MapLibre is idle). Trends: ``views.trends_figure`` for 1, 12 (PSP 2017) and 28 (all
program) cities.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import itertools
import json
import logging
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.browser import VIEWPORT, chromium
from benchmarks.common import PROJECT_ROOT, SOURCES_DIR, summarize
from benchmarks.context import Context

log = logging.getLogger("benchmarks")

PLACES_DIR = SOURCES_DIR / "boundaries" / "NYPL-Simplified__geojson-places-us"
SYNTHETIC_SIZES = (1_000, 3_000, 10_000)
SMOKE_SYNTHETIC_SIZES = (300,)
SMOKE_PLACE_FILES = 2
SYNTHETIC_SOURCE = "SYNTHETIC seeded random values (not data)"
SEED = 20170620  # the PSP announcement date
YEAR, OFFENCE, MEASURE = 2015, "violent_crime", "ratio"
INTERACTIVE_MS = 100.0  # a recolour within 100 ms feels instantaneous (Nielsen's response-time limit)


# -- synthetic geometry ---------------------------------------------------------------------------
def _place_files(limit: int | None) -> list[Path]:
    files = sorted(PLACES_DIR.glob("cb_2015_*_place_500k.zip"))
    if not files:
        raise FileNotFoundError(f"no cb_2015_*_place_500k.zip under {PLACES_DIR}")
    return files[:limit] if limit else files


def _simplifier():
    """The pipeline's own city simplification (its API: ``simplify_city``, or the older
    ``simplify_for_display`` with a fixed tolerance) and a key that changes whenever the pipeline does."""
    from dashboard.pipeline.boundaries import simplify as boundaries

    key = hashlib.sha256(Path(boundaries.__file__).read_bytes()).hexdigest()[:12]
    if hasattr(boundaries, "simplify_city"):
        return (lambda geom: boundaries.simplify_city(geom).geometry), key
    tolerance, decimals = boundaries.CITY_SIMPLIFY_TOLERANCE_DEG, boundaries.CITY_COORD_DECIMALS
    return (lambda geom: boundaries.simplify_for_display(geom, tolerance, decimals)), key


def synthetic_places(count: int, file_limit: int | None = None) -> dict:
    """The ``count`` largest places by land area as a simplified FeatureCollection (cached)."""
    files = _place_files(file_limit)
    simplify, pipeline_key = _simplifier()
    key = hashlib.sha256(
        json.dumps([count, pipeline_key, [(f.name, f.stat().st_size) for f in files]]).encode()
    ).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"atlas-bench-synthetic-{count}-{key}.geojson"
    if cache.exists():
        return json.loads(cache.read_text())
    import pyogrio
    import shapely

    frames = []
    for path in files:
        frame = pyogrio.read_dataframe(f"zip://{path}", columns=["GEOID", "NAME", "STATEFP", "ALAND"])
        frames.append(frame)
    places = pd.concat(frames, ignore_index=True).to_crs(4326)
    places = places.sort_values(["ALAND", "GEOID"], ascending=[False, True]).head(count)
    features = []
    for row in places.itertuples():
        geom = simplify(row.geometry)
        point = geom.representative_point()
        features.append(
            {
                "type": "Feature",
                "id": row.GEOID,
                "properties": {
                    "geoid": row.GEOID,
                    "label": f"{row.NAME} [synthetic]",
                    "lon": round(point.x, 5),
                    "lat": round(point.y, 5),
                },
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    collection = {"type": "FeatureCollection", "name": "SYNTHETIC benchmark places", "features": features}
    cache.write_text(json.dumps(collection, separators=(",", ":")))
    return collection


def synthetic_snapshot(collection: dict, seed: int = SEED) -> pd.DataFrame:
    """A map snapshot (the columns of ``data.year_snapshot``) with seeded random, clearly fake values."""
    rng = np.random.default_rng(seed)
    props = pd.DataFrame([f["properties"] for f in collection["features"]])
    n = len(props)
    population = rng.integers(20_000, 2_000_000, n)
    national = 383.0
    rate = np.round(rng.lognormal(np.log(national), 0.6, n), 1)
    missing = rng.random(n) < 0.05
    frame = pd.DataFrame(
        {
            "geoid": props["geoid"],
            "label": props["label"],
            "name": props["label"],
            "state": "XX",
            "cohort": "",
            "is_program": rng.random(n) < 0.01,
            "lon": props["lon"],
            "lat": props["lat"],
            "year": YEAR,
            "count": pd.array(np.round(rate * population / 100_000), dtype="Int64"),
            "population": pd.array(population, dtype="Int64"),
            "rate": pd.array(rate, dtype="Float64"),
            "national_rate": pd.array(np.full(n, national), dtype="Float64"),
            "ratio": pd.array(np.round(rate / national, 2), dtype="Float64"),
            "source": SYNTHETIC_SOURCE,
            "notes": SYNTHETIC_SOURCE,
        }
    )
    for column in ("count", "rate", "ratio"):
        frame.loc[missing, column] = pd.NA
    return frame.sort_values(["is_program", "label"], kind="stable").reset_index(drop=True)


# -- server-side costs ----------------------------------------------------------------------------
def _json(value) -> bytes:
    from plotly.io.json import to_json_plotly  # what Dash uses for callback responses

    return to_json_plotly(value).encode()


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _timed(fn, reps: int, warmup: int = 1) -> tuple[dict, object]:
    """p50 etc. of ``reps`` calls after ``warmup`` unmeasured calls (imports, per-offence caches)."""
    times, result = [], None
    for _ in range(warmup):
        result = fn()
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return summarize(times, 1000), result


def server_costs(snapshot: pd.DataFrame, collection: dict, version: str, reps: int, warmup: int) -> dict:
    import dashboard.serve.app  # noqa: F401  (applies the app's plotly JSON engine setting)
    from dashboard.figures import map as map_fig
    from dashboard.web.callbacks import recolour_patch

    label = "Violent crime"
    scale_values = snapshot[MEASURE]

    def patch_body() -> bytes:
        values = map_fig.map_values(snapshot, MEASURE, label, YEAR, scale_values)
        patch = recolour_patch(values, map_fig.map_title(label, MEASURE, YEAR))
        return _json({"multi": True, "response": {"map": {"figure": patch}}})

    def figure_body() -> bytes:
        fig = map_fig.build_map_figure(
            snapshot,
            geojson="cities.geojson",
            states_geojson="states.geojson",
            measure=MEASURE,
            offence_label=label,
            year=YEAR,
            version=version,
            scale_values=scale_values,
        )
        return _json(fig)

    geo = json.dumps(collection, separators=(",", ":")).encode()
    patch_ms, patch = _timed(patch_body, reps, warmup)
    figure_ms, figure = _timed(figure_body, max(reps // 4, 1), warmup)
    return {
        "cities": len(snapshot),
        "geojson_bytes": len(geo),
        "geojson_gzip_bytes": _gz(geo),
        "patch_ms": patch_ms,
        "patch_bytes": len(patch),
        "patch_gzip_bytes": _gz(patch),
        "figure_ms": figure_ms,
        "figure_bytes": len(figure),
        "figure_gzip_bytes": _gz(figure),
        "_figure": figure,
        "_geo": geo,
    }


# -- browser-side costs ---------------------------------------------------------------------------
PAGE = """<!doctype html><html><head><meta charset="utf-8"><script src="plotly.min.js"></script></head>
<body style="margin:0"><div id="map" style="width:1200px;height:560px"></div></body></html>"""

DRAW_AND_RECOLOUR_JS = """async (reps) => {
    const fig = await (await fetch('figure.json')).json();
    const gd = document.getElementById('map');
    const sub = () => gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    const drawn = () => {
        const s = sub();
        if (!s || !s.map || !s.map.loaded()) return false;
        const layers = s.map.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
        return s.map.queryRenderedFeatures({layers}).length > 0;
    };
    const frame = () => new Promise(r => requestAnimationFrame(r));
    const t0 = performance.now();
    await Plotly.newPlot(gd, fig.data, fig.layout, {responsive: false});
    while (!drawn()) { await frame(); if (performance.now() - t0 > 120000) throw new Error('no draw'); }
    const draw = performance.now() - t0;
    const idle = () => new Promise(r => sub().map.once('idle', r));
    const recolours = [];
    for (let i = 0; i < reps; i++) {
        // as dcc.Graph applies a colour patch: new z / marker colours, then Plotly.react
        const data = gd.data.map(t => {
            const copy = Object.assign({}, t);
            if (Array.isArray(t.z) && t.coloraxis) {
                copy.z = t.z.map(v => v === null ? null : -v + (i % 2) * 0.1);
            }
            return copy;
        });
        const wait = idle();
        const t1 = performance.now();
        await Plotly.react(gd, data, gd.layout);
        await Promise.race([wait, new Promise((_, no) => setTimeout(() => no(new Error('no idle')), 60000))]);
        recolours.push(performance.now() - t1);
    }
    return {draw, recolours};
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def static_site(files: dict[str, bytes | Path]):
    """Serve a few files from a temp dir on a free loopback port (plotly.js, figure, geometry)."""
    folder = Path(tempfile.mkdtemp(prefix="atlas-bench-scale-"))
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, folder / name)
        else:
            (folder / name).write_bytes(content)
    handler = partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        shutil.rmtree(folder, ignore_errors=True)


def browser_costs(browser, figure: bytes, geo: bytes, reps: int) -> dict:
    import plotly

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    files = {
        "index.html": PAGE.encode(),
        "plotly.min.js": plotly_js,
        "figure.json": figure,
        "cities.geojson": geo,
        "states.geojson": PROJECT_ROOT / "geodata" / "states.geojson",
    }
    with static_site(files) as url:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(f"{url}/index.html")
            result = page.evaluate(DRAW_AND_RECOLOUR_JS, reps)
        finally:
            context.close()
    return {"draw_ms": round(result["draw"], 1), "recolour_ms": summarize(result["recolours"])}


# -- trends ---------------------------------------------------------------------------------------
def trends_costs(dataset, reps: int, warmup: int) -> list[dict]:
    import dashboard.serve.app  # noqa: F401
    from dashboard.data.state import ALL_PROGRAMS, cohort_members
    from dashboard.views.trends import trends_figure

    psp = cohort_members(dataset, "psp-2017")
    selections = {1: psp[:1], 12: psp, 28: cohort_members(dataset, ALL_PROGRAMS)}
    rows = []
    for size, geoids in selections.items():
        ms, body = _timed(
            lambda g=geoids: _json(trends_figure(dataset, g, OFFENCE, MEASURE, 1985, 2019)), reps
        )
        rows.append(
            {"cities": len(geoids), "nominal": size, "ms": ms, "bytes": len(body), "gzip_bytes": _gz(body)}
        )
    return rows


# -- plot -----------------------------------------------------------------------------------------
def plot(rows: list[dict], trends: list[dict], path: Path, smoke: bool) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (pip install -e '.[bench]'): plot skipped"
    rows = sorted(rows, key=lambda r: r["cities"])
    real = [r for r in rows if not r["synthetic"]]
    fake = [r for r in rows if r["synthetic"]]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    ax = axes[0]
    for key, label, colour in (
        ("geojson_gzip_bytes", "GeoJSON (gzip)", "tab:blue"),
        ("figure_gzip_bytes", "initial figure (gzip)", "tab:green"),
        ("patch_gzip_bytes", "recolour patch (gzip)", "tab:red"),
    ):
        ax.plot([r["cities"] for r in rows], [r[key] / 1024 for r in rows], "-", color=colour, label=label)
        ax.plot([r["cities"] for r in real], [r[key] / 1024 for r in real], "o", color=colour)
        ax.plot([r["cities"] for r in fake], [r[key] / 1024 for r in fake], "x", color=colour, ms=9)
    ax.axhline(4, color="grey", ls=":", lw=1)
    ax.text(30, 4.3, "4 KB recolour goal", color="grey", fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel="cities drawn", ylabel="KB", title="Map payload")
    ax.legend(fontsize=8)
    ax = axes[1]
    browser = [r.get("browser") or {} for r in rows]
    series = [
        ("patch build (server)", [r["patch_ms"].get("p50") for r in rows], "tab:red"),
        ("recolour (browser)", [b.get("recolour_ms", {}).get("p50") for b in browser], "tab:purple"),
        ("first draw (browser)", [b.get("draw_ms") for b in browser], "tab:orange"),
        ("initial figure build (server)", [r["figure_ms"].get("p50") for r in rows], "tab:green"),
    ]
    for label, values, colour in series:
        pts = [(r["cities"], v, r["synthetic"]) for r, v in zip(rows, values, strict=True) if v is not None]
        if not pts:
            continue
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", color=colour, label=label)
        ax.plot([p[0] for p in pts if not p[2]], [p[1] for p in pts if not p[2]], "o", color=colour)
        ax.plot([p[0] for p in pts if p[2]], [p[1] for p in pts if p[2]], "x", color=colour, ms=9)
    ax.axhline(INTERACTIVE_MS, color="grey", ls=":", lw=1)
    ax.text(30, INTERACTIVE_MS * 1.08, "100 ms: instantaneous", color="grey", fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel="cities drawn", ylabel="ms (p50)", title="Map time")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(
        [t["cities"] for t in trends], [t["ms"].get("p50") for t in trends], "o-", label="build + JSON ms"
    )
    ax2 = ax.twinx()
    ax2.plot([t["cities"] for t in trends], [t["gzip_bytes"] / 1024 for t in trends], "s--", color="tab:red")
    ax.set(xlabel="selected cities", ylabel="ms (p50)", title="Trends chart")
    ax2.set_ylabel("KB gzip", color="tab:red")
    note = "o = real data (28 program, all 100k+ cities); x = SYNTHETIC places with random values"
    fig.suptitle(("SMOKE RUN (tiny sizes) - " if smoke else "") + "Cost vs size. " + note, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def crossing(sizes: list[float], values: list[float], limit: float) -> float | None:
    """Where a cost first reaches ``limit``, interpolated on log-log axes (None if it never does;
    0 if it already does at the smallest size)."""
    pts = sorted((x, y) for x, y in zip(sizes, values, strict=True) if x > 0 and y is not None and y > 0)
    if not pts or all(y < limit for _, y in pts):
        return None
    if pts[0][1] >= limit:
        return 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if y0 < limit <= y1:
            t = (np.log(limit) - np.log(y0)) / (np.log(y1) - np.log(y0))
            return float(f"{np.exp(np.log(x0) + t * (np.log(x1) - np.log(x0))):.2g}")  # 2 significant digits
    return None


def interactivity(rows: list[dict]) -> dict:
    """Where the map stops being interactive (a recolour within 100 ms, p50).

    Three views, because headless Chromium draws with software WebGL (SwiftShader, no GPU): its
    redraw times are an upper bound for a person's browser, while the server's share is real.
    """
    verdicts = []
    for r in rows:
        browser = (r.get("browser") or {}).get("recolour_ms", {}).get("p50")
        total = (r["patch_ms"].get("p50") or 0) + (browser or 0)
        verdicts.append(
            {
                "cities": r["cities"],
                "synthetic": r["synthetic"],
                "patch_ms": r["patch_ms"].get("p50"),
                "patch_gzip_bytes": r["patch_gzip_bytes"],
                "recolour_total_ms": round(total, 1),
                "browser_measured": browser is not None,
                "interactive": (total <= INTERACTIVE_MS) if browser is not None else None,
            }
        )
    ok = [v["cities"] for v in verdicts if v["interactive"]]
    not_ok = [v["cities"] for v in verdicts if v["interactive"] is False]
    sizes = [r["cities"] for r in rows]
    browser_ms = [(r.get("browser") or {}).get("recolour_ms", {}).get("p50") for r in rows]
    return {
        "threshold_ms": INTERACTIVE_MS,
        "sizes": verdicts,
        "largest_interactive": max(ok) if ok else None,
        "smallest_not_interactive": min(not_ok) if not_ok else None,
        "server_patch_reaches_100ms_at": crossing(sizes, [r["patch_ms"].get("p50") for r in rows], 100.0),
        "patch_reaches_4kb_at": crossing(sizes, [r["patch_gzip_bytes"] for r in rows], 4096.0),
        "browser_recolour_reaches_100ms_at": crossing(sizes, browser_ms, 100.0),
        "browser_note": "headless Chromium with software WebGL (SwiftShader): an upper bound for a GPU",
    }


def run(ctx: Context, plot_path: Path | None = None) -> dict:
    from dashboard.data.dataset import load_dataset
    from dashboard.data.measures import year_snapshot

    dataset = load_dataset()
    reps, browser_reps, warmup = ctx.n(40, 1), ctx.n(10, 1), ctx.n(1, 0)
    snapshot = year_snapshot(dataset, YEAR, OFFENCE)
    features = {f["properties"]["geoid"]: f for f in dataset.city_geojson["features"]}
    sets: list[tuple[str, pd.DataFrame, dict, bool]] = []
    program = snapshot[snapshot["is_program"]].reset_index(drop=True)
    for name, frame in (("program cities", program), ("all 100k+ cities", snapshot)):
        collection = {"type": "FeatureCollection", "features": [features[g] for g in frame["geoid"]]}
        sets.append((name, frame, collection, False))
    sizes = SMOKE_SYNTHETIC_SIZES if ctx.smoke else SYNTHETIC_SIZES
    started = time.perf_counter()
    biggest = synthetic_places(max(sizes), SMOKE_PLACE_FILES if ctx.smoke else None)
    geometry_s = time.perf_counter() - started
    for size in sizes:
        collection = {**biggest, "features": biggest["features"][:size]}
        sets.append((f"SYNTHETIC {size:,} places", synthetic_snapshot(collection), collection, True))
    rows = []
    browser_sizes = {len(s[1]) for s in sets} if not ctx.smoke else {len(sets[0][1])}
    with chromium() as browser:
        for name, frame, collection, synthetic in sets:
            log.info("scale: %s (%d cities)", name, len(frame))
            row = server_costs(frame, collection, dataset.version, reps, warmup)
            row |= {"name": name, "synthetic": synthetic}
            if len(frame) in browser_sizes:
                try:
                    row["browser"] = browser_costs(browser, row["_figure"], row["_geo"], browser_reps)
                except Exception as exc:  # a size the browser cannot draw in time is a finding, not a crash
                    row["browser"] = {"error": str(exc)[:300]}
            del row["_figure"], row["_geo"]
            rows.append(row)
    trends = trends_costs(dataset, ctx.n(10, 1), warmup)
    note = None
    if plot_path is not None:
        note = plot(rows, trends, plot_path, ctx.smoke)
    browser_errors = [r["name"] for r in rows if "error" in (r.get("browser") or {})]
    return {
        "method": (
            "pure functions in-process (time = build + serialise as Dash does, p50 of reps, uncached); "
            "browser = Debian Chromium, minimal page with plotly.js, Plotly.newPlot / Plotly.react"
        ),
        "synthetic_note": (
            f"SYNTHETIC sizes use real Census place shapes with {SYNTHETIC_SOURCE}, seed {SEED}; "
            "never written to geodata/"
        ),
        "synthetic_geometry_s": round(geometry_s, 2),
        "reps": reps,
        "map": rows,
        "trends": trends,
        "interactivity": interactivity(rows),
        "plot": str(plot_path) if plot_path and note is None else note,
        "errors": len(browser_errors),
        "browser_errors": browser_errors,
    }
