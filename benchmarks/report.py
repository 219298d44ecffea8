"""Render a results file as Markdown tables between the marker comments of benchmarks/README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import PROJECT_ROOT, RESULTS_DIR
from benchmarks.goals import _get, evaluate
from benchmarks.scale import interactivity

README = Path(__file__).resolve().parent / "README.md"
START = "<!-- results:start (written by `python -m benchmarks report`; do not edit by hand) -->"
END = "<!-- results:end -->"


def latest_results() -> Path | None:
    """The newest full run (smoke runs only when there is nothing else; partial ``-only-`` runs never)."""
    # Named <UTC time>...json, so the name orders them (file times do not survive a clone); soak.json and
    # partial ``-only-`` runs are not runs of the whole suite.
    files = sorted(RESULTS_DIR.glob("2*.json"))
    files = [f for f in files if "-only-" not in f.name]
    full = [f for f in files if "smoke" not in f.name]
    return (full or files or [None])[-1]


def _n(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _kb(value: Any) -> str:
    return "–" if value is None else f"{value / 1024:,.1f} KB"


def _x(value: Any) -> str:
    return "–" if value is None else f"{value:,.1f}×"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _error(section: dict) -> list[str]:
    return [f"**Failed:** `{section['error']}`", ""] if "error" in section else []


def render(results: dict, source: Path) -> str:
    meta, sections = results.get("meta", {}), results.get("sections", {})
    m = meta.get("machine", {})
    pk = m.get("packages", {})
    try:
        shown = source.resolve().relative_to(PROJECT_ROOT)
    except ValueError:
        shown = source
    smoke = " — **SMOKE RUN: tiny N, numbers are not meaningful**" if meta.get("smoke") else ""
    commit = (m.get("git_commit") or "")[:10] + (" + uncommitted changes" if m.get("git_dirty") else "")
    out = [
        f"Results from `{shown}`{smoke}",
        "",
        f"Run {meta.get('started')} → {meta.get('finished')} on {m.get('cores')} cores "
        f"({m.get('cpu_model')}), {m.get('memory_gib')} GiB, load average at start {m.get('load_average')}; "
        f"Python {m.get('python')}, dash {pk.get('dash')}, plotly {pk.get('plotly')}, "
        f"gunicorn {pk.get('gunicorn')}, flask-compress {pk.get('flask-compress')}, "
        f"kaleido {pk.get('kaleido')}; {m.get('chromium')}; commit `{commit}`.",
        "",
    ]
    out += ["### Goals", ""]
    rows = []
    for g in evaluate(results):
        state = {True: "✅ met", False: "❌ missed", None: "– not measured"}[g.met]
        value = _kb(g.value) if g.unit == "bytes" else f"{_n(g.value, 2)} {g.unit}"
        target = _kb(g.target) if g.unit == "bytes" else f"{_n(g.target, 2)} {g.unit}"
        rows.append([g.section, g.goal, target, value, state, g.margin])
    out += _table(["Section", "Goal", "Target", "Measured", "", "Margin"], rows)
    out += _interaction(sections.get("interaction") or {})
    out += _first_load(sections.get("first_load") or {})
    out += _exports(sections.get("exports") or {})
    out += _every_place(sections.get("every_place") or {})
    out += _scale(sections.get("scale") or {})
    out += _load(sections.get("load") or {})
    out += _startup(sections.get("startup") or {})
    return "\n".join(out).rstrip() + "\n"


def _interaction(s: dict) -> list[str]:
    if not s:
        return []
    out = ["### 1. Interaction latency (`/_dash-update-component`)", "", *_error(s)]
    if "error" in s:
        return out
    out += [f"{s.get('method')}; n = {s.get('n')} per change after {s.get('warmup')} warm-up.", ""]
    floor = (s.get("floor", {}).get("noop", {}).get("callbacks") or [{}])[0]
    rows = []
    for name, row in s.get("comparison", {}).items():
        rows.append(
            [
                name,
                f"{_n(row.get('atlas_p50_ms'))} / {_n(row.get('atlas_p95_ms'))}",
                _kb(row.get("atlas_wire_bytes_p50")),
                f"{_n(row.get('floor_p50_ms'))} / {_n(row.get('floor_p95_ms'))}",
                f"{_n(row.get('naive_p50_ms'))} / {_n(row.get('naive_p95_ms'))}",
                _kb(row.get("naive_wire_bytes_p50")),
                _x(row.get("p95_vs_floor")),
                _x(row.get("speedup_p50_vs_naive")),
                _x(row.get("smaller_vs_naive")),
            ]
        )
    out += _table(
        ["Change", "Atlas map ms p50 / p95", "Atlas map bytes", "Floor ms p50 / p95", "Naive ms p50 / p95",
         "Naive bytes", "p95 vs floor", "Faster than naive", "Smaller than naive"],
        rows,
    )  # fmt: skip
    floor_ms, floor_bytes = floor.get("ms", {}), floor.get("wire_bytes", {}).get("p50")
    out += [
        f"Floor (no-op callback): {_n(floor_ms.get('p50'))} ms p50, {_n(floor_ms.get('p95'))} ms p95, "
        f"{_n(floor_bytes, 0)} bytes.",
        "",
        "Everything a change sends (all callbacks it triggers, including one chained level); the first "
        "pass is the warm-up, in which each view is new to the server's caches:",
        "",
    ]
    rows = []
    for name, sec in s.get("atlas", {}).items():
        slow = max(sec.get("callbacks", []), key=lambda c: c["ms"].get("p50") or 0, default=None)
        first = ((sec.get("first_pass") or {}).get("map") or {}).get("ms", {})
        rows.append(
            [
                name,
                f"{_n(first.get('p50'))} / {_n(first.get('p95'))}" if first else "–",
                _n(sec.get("requests_per_interaction")),
                f"{_n(sec['total_ms'].get('p50'))} / {_n(sec['total_ms'].get('p95'))}",
                _kb(sec["total_wire_bytes"].get("p50")),
                f"`{slow['output'][:48]}` {_n(slow['ms'].get('p50'))} ms" if slow else "–",
                str(sec.get("errors")),
            ]
        )
    out += _table(
        ["Change", "Map ms, first pass p50 / p95", "Requests", "Sum ms p50 / p95", "Sum bytes p50",
         "Slowest callback (p50)", "Errors"],
        rows,
    )  # fmt: skip
    return out


def _first_load(s: dict) -> list[str]:
    if not s:
        return []
    out = ["### 2. First load (headless Chromium)", "", *_error(s)]
    if "error" in s:
        return out
    out += [f"{s.get('method')}; {s.get('repeats')} fresh visits each.", ""]
    rows = []
    for app in ("floor", "atlas", "naive"):
        r = s.get(app)
        if not r:
            continue
        fv, sv = r["first_visit"], r.get("second_visit") or {}
        g = fv["groups"]
        rows.append(
            [
                app,
                f"{_n(r['drawn_ms'].get('p50'), 0)} / {_n(r['drawn_ms'].get('p95'), 0)}",
                _kb(fv["total_bytes"]),
                _kb(g["geometry"]["bytes"]),
                _kb(g["data"]["bytes"]),
                _kb(g["js"]["bytes"]),
                _kb(g["css"]["bytes"] + g["other"]["bytes"]),
                str(fv["requests"]),
                _kb(sv.get("total_bytes")),
                str(sum((sv.get("server_geometry_requests") or {}).values())) if sv else "–",
            ]
        )
    out += _table(
        ["App", "Drawn ms p50 / p95", "Bytes", "Geometry", "Data (JSON)", "JS", "CSS + other", "Requests",
         "2nd visit bytes", "2nd visit geometry transfers"],
        rows,
    )  # fmt: skip
    out += [
        "Drawn = the map's polygons rendered (atlas, naive) or the floor graph's `.main-svg` present.",
        "",
    ]
    return out


def _exports(s: dict) -> list[str]:
    if not s:
        return []
    out = ["### 3. Exports", "", *_error(s)]
    if "error" in s:
        return out
    unc, cac = s.get("uncached", {}), s.get("cached", {})
    first = unc.get("first_after_start", {})
    out += [
        f"Uncached: {unc.get('server')}; first export after start {_n(first.get('s'), 2)} s (launches the "
        f"export browser). Cached: {cac.get('server')}. View `{s.get('view')}`.",
        "",
    ]
    rows = []
    for key, row in unc.get("charts", {}).items():
        hit = cac.get("charts", {}).get(key, {})
        rows.append(
            [
                key,
                _n(row["cold"]["s"], 2),
                _n(row["warm"]["s"].get("p50"), 2),
                _n(row["warm"]["s"].get("p95"), 2),
                _kb(row["warm"]["bytes"]),
                _n(hit.get("first", {}).get("s"), 2) if hit else "–",
                _n(hit.get("repeat", {}).get("s", {}).get("p50"), 3) if hit else "–",
                ", ".join(hit.get("repeat", {}).get("cache", [])) if hit else "–",
            ]
        )
    brief, csv, cbrief = unc.get("briefing", {}), unc.get("csv", {}), cac.get("briefing") or {}
    rows.append(
        ["briefing.pdf", "–", _n(brief.get("s", {}).get("p50"), 2), _n(brief.get("s", {}).get("p95"), 2),
         _kb(brief.get("bytes")), _n(cbrief.get("first", {}).get("s"), 2),
         _n(cbrief.get("repeat", {}).get("s", {}).get("p50"), 3),
         ", ".join(cbrief.get("repeat", {}).get("cache", []))]
    )  # fmt: skip
    rows.append(
        ["data.csv", "–", _n(csv.get("s", {}).get("p50"), 3), _n(csv.get("s", {}).get("p95"), 3),
         _kb(csv.get("bytes")), "–", "–", "–"]
    )  # fmt: skip
    out += _table(
        ["Export", "Cold s", "Warm s p50", "Warm s p95", "Size", "Cached: first s", "Cached: repeat s p50",
         "X-Atlas-Cache"],
        rows,
    )  # fmt: skip
    out += [f"Briefing view: `{brief.get('view')}`.", ""]
    return out


def _scale(s: dict) -> list[str]:
    if not s:
        return []
    out = ["### 4. Scale", "", *_error(s)]
    if "error" in s:
        return out
    out += [f"{s.get('method')}. {s.get('synthetic_note')}.", "", "![Cost vs size](scale.png)", ""]
    rows = []
    for r in s.get("map", []):
        b = r.get("browser") or {}
        rows.append(
            [
                r["name"],
                _n(r["cities"], 0),
                f"{_kb(r['geojson_bytes'])} / {_kb(r['geojson_gzip_bytes'])}",
                f"{_kb(r['patch_bytes'])} / {_kb(r['patch_gzip_bytes'])}",
                _n(r["patch_ms"].get("p50")),
                f"{_n(r['figure_ms'].get('p50'))} ms, {_kb(r['figure_gzip_bytes'])}",
                _n(b.get("draw_ms"), 0) if b else "–",
                _n(b.get("recolour_ms", {}).get("p50"), 0) if b and "error" not in b else b.get("error", "–"),
            ]
        )
    out += _table(
        ["Set", "Cities", "GeoJSON raw / gzip", "Recolour patch raw / gzip", "Patch build ms p50",
         "Initial figure (build, gzip)", "Browser draw ms", "Browser recolour ms p50"],
        rows,
    )  # fmt: skip
    inter = interactivity(s["map"]) if s.get("map") else {}  # recomputed: older files lack new fields

    def at(key: str) -> str:
        value = inter.get(key)
        if value is None:
            return "never (in the sizes measured)"
        return "already at the smallest size" if value == 0 else f"at ≈ {_n(value, 0)} cities"

    largest, first_over = inter.get("largest_interactive"), inter.get("smallest_not_interactive")
    out += [
        f"Where it stops being interactive (p50, {_n(inter.get('threshold_ms'), 0)} ms): server patch build "
        f"reaches 100 ms {at('server_patch_reaches_100ms_at')}; the recolour patch passes 4 KB gzip "
        f"{at('patch_reaches_4kb_at')}; browser recolour reaches 100 ms "
        f"{at('browser_recolour_reaches_100ms_at')} ({inter.get('browser_note')}). Server + browser within "
        f"100 ms: largest size {_n(largest, 0)}, first size over {_n(first_over, 0)}.",
        "",
    ]
    rows = [
        [_n(t["cities"], 0), _n(t["ms"].get("p50")), _n(t["ms"].get("p95")), _kb(t["bytes"]),
         _kb(t["gzip_bytes"])]
        for t in s.get("trends", [])
    ]  # fmt: skip
    out += ["Trends chart by number of selected cities:", ""]
    out += _table(["Cities", "Build + JSON ms p50", "p95", "Figure JSON", "gzip"], rows)
    return out


def _load(s: dict) -> list[str]:
    if not s:
        return []
    out = ["### 5. Load", "", *_error(s)]
    if "error" in s:
        return out
    lat, rss = s.get("latency_ms", {}), s.get("rss_mib", {})
    out += [f"{s.get('method')}.", ""]
    out += _table(
        ["Users", "Duration s", "Requests", "Throughput req/s", "Interactions/s", "p50 ms", "p95 ms",
         "p99 ms", "Errors", "Peak RSS per worker (MiB)", "Master RSS (MiB)"],
        [[str(s.get("users")), f"{_n(s.get('duration_s'), 0)} (+{_n(s.get('drain_s'))} drain)",
          _n(s.get("requests"), 0),
          _n(s.get("throughput_rps")),
          _n(s.get("interactions_per_s")), _n(lat.get("p50")), _n(lat.get("p95")), _n(lat.get("p99")),
          str(s.get("errors")), ", ".join(_n(v) for v in rss.get("peak_per_worker", {}).values()),
          _n(rss.get("master_peak"))]],
    )  # fmt: skip
    rows = [
        [kind, str(k["requests"]), _n(k["ms"].get("p50")), _n(k["ms"].get("p95")), _n(k["ms"].get("p99")),
         _kb(k.get("wire_bytes_p50")), ", ".join(f"{c}: {n}" for c, n in k["status"].items())]
        for kind, k in s.get("by_kind", {}).items()
    ]  # fmt: skip
    out += _table(["Request kind", "Count", "p50 ms", "p95 ms", "p99 ms", "Bytes p50", "Status"], rows)
    if s.get("error_examples"):
        out += ["Errors: " + "; ".join(f"{e} ×{n}" for e, n in s["error_examples"]), ""]
    return out


def _every_place(s: dict) -> list[str]:
    if not s:
        return []
    out = ["### 7. Every place (issue 13): the default view against `minpop=0`", "", *_error(s)]
    if "error" in s:
        return out
    rows = []
    for name, r in (_get(s, "interaction", "changes") or {}).items():
        rows.append(
            [f"{name} change", _kb(r.get("default_map_wire_bytes_p50")),
             _kb(r.get("all_places_map_wire_bytes_p50")),
             _kb(r.get("default_total_wire_bytes_p50")), _kb(r.get("all_places_total_wire_bytes_p50")),
             _x(r.get("default_map_p95_vs_floor")), _x(r.get("all_places_map_p95_vs_floor")),
             _n(r.get("default_total_ms_p95")), _n(r.get("all_places_total_ms_p95"))]
        )  # fmt: skip
    out += _table(
        ["Change", "map KB (default)", "map KB (all)", "all requests KB (default)", "all requests KB (all)",
         "map p95 ÷ floor (default)", "(all)", "all requests p95 ms (default)", "(all)"],
        rows,
    )  # fmt: skip
    first = s.get("first_load") or {}
    rows = [
        [name, _n(_get(r, "drawn_ms", "p50")), _x(r.get("vs_floor")), _kb(r.get("total_bytes")),
         _kb(r.get("geometry_and_data_bytes"))]
        for name, r in first.items()
    ]  # fmt: skip
    out += _table(["First load", "drawn p50 ms", "÷ floor", "all bytes", "geometry + data"], rows)
    export = s.get("export") or {}
    out += [
        f"All-places layer `/data/places/violent_crime.json`: {_kb(_get(s, 'layer', 'wire_bytes'))} on the "
        f"wire ({_get(s, 'layer', 'encoding')}), once per offence. Map PNG warm, uncached (p50): default "
        f"{_n(_get(export, 'default', 's', 'p50'), 2)} s, all places "
        f"{_n(_get(export, 'all_places', 's', 'p50'), 2)} s. "
        f"Pipeline build (every file, all places): {_n(_get(s, 'build', 's'))} s.",
        "",
    ]
    return out


def _startup(s: dict) -> list[str]:
    if not s:
        return []
    out = ["### 6. Start-up (process start → first `/healthz` 200)", "", *_error(s)]
    if "error" in s:
        return out
    rows = [
        [f"{r['app']} ({r['mode']})", _n(r["s"].get("p50"), 2), _n(r["s"].get("min"), 2),
         _n(r["s"].get("max"), 2)]
        for r in s.values()
        if isinstance(r, dict) and "mode" in r
    ]  # fmt: skip
    out += _table(["Server", "p50 s", "min s", "max s"], rows)
    return out


def write_readme(results: dict, source: Path, readme: Path = README) -> None:
    text = readme.read_text() if readme.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{render(results, source)}{END}{tail}")
