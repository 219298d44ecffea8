"""1. Interaction latency and payload over HTTP (``/_dash-update-component``).

For the atlas and the naive baseline: year, offence, measure change and city add/remove, each
replayed through :class:`DashClient` (every callback the change triggers, plus one level of
chained callbacks). For the floor: its one no-op callback. All three are served by gunicorn
with the project's config. "Server time" is the loopback round trip measured by the client
(request sent -> whole body read), the same way for all three apps.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from typing import Any

from benchmarks.common import ratio, summarize
from benchmarks.context import Context, Deadline
from benchmarks.dash_client import CallRecord, DashClient

log = logging.getLogger("benchmarks")

INTERACTIONS = ("year", "offence", "measure", "cities")
MAP_OUTPUT = "map.figure"


def _option_values(options: Any) -> list:
    values = []
    for option in options or []:
        values.append(option.get("value") if isinstance(option, dict) else option)
    return values


class Script:
    """The next value of each control, cycling so each step is a real change."""

    def __init__(self, client: DashClient) -> None:
        self.client = client
        low, high = client.value("year", "min"), client.value("year", "max")
        self.years = list(range(int(low), int(high) + 1)) if low is not None else []
        self.offences = _option_values(client.value("offence", "options"))
        self.measures = _option_values(client.value("measure", "options"))
        chosen = set(client.value("cities", "value") or [])
        self.candidates = [c for c in _option_values(client.value("cities", "options")) if c not in chosen]

    def next(self, name: str, step: int) -> Any:
        current = self.client.value(name, "value")
        if name == "cities":
            city = self.candidates[(step // 2) % len(self.candidates)]
            selected = [c for c in current or [] if c != city]
            return [*selected, city] if city not in (current or []) else selected
        pool = {"year": self.years, "offence": self.offences, "measure": self.measures}[name]
        if current not in pool:
            return pool[step % len(pool)]
        # a stride coprime with the pool size visits every value in turn, never the current one
        stride = next(k for k in range(7, 7 + len(pool) + 1) if math.gcd(k, len(pool)) == 1)
        value = pool[(pool.index(current) + stride) % len(pool)]
        return value if value != current else pool[(pool.index(current) + 1) % len(pool)]


def _summarize_calls(iterations: list[list[CallRecord]]) -> dict:
    """Per callback (output id and chain level), and for the whole interaction."""
    by_output: dict[tuple[str, int], list[CallRecord]] = defaultdict(list)
    for records in iterations:
        for rec in records:
            by_output[(rec.output, rec.level)].append(rec)
    callbacks = []
    for (output, level), recs in sorted(by_output.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        callbacks.append(
            {
                "output": output,
                "level": level,
                "ms": summarize((r.seconds for r in recs), 1000),
                "wire_bytes": summarize(r.wire_bytes for r in recs),
                "raw_bytes": summarize(r.raw_bytes for r in recs),
                "status": dict(Counter(str(r.status) for r in recs)),
                "patch": any(r.patch for r in recs),
                "encoding": sorted({r.encoding or "identity" for r in recs}),
            }
        )
    errors = sum(1 for recs in iterations for r in recs if r.status >= 400)
    map_recs = [[r for r in recs if r.level == 0 and MAP_OUTPUT in r.output] for recs in iterations]
    map_recs = [recs for recs in map_recs if recs]
    map_summary = None
    if map_recs:  # several map callbacks of one change run in parallel in the browser: max time, sum bytes
        map_summary = {
            "outputs": sorted({r.output for recs in map_recs for r in recs}),
            "ms": summarize((max(r.seconds for r in recs) for recs in map_recs), 1000),
            "wire_bytes": summarize(sum(r.wire_bytes for r in recs) for recs in map_recs),
            "raw_bytes": summarize(sum(r.raw_bytes for r in recs) for recs in map_recs),
            "patch": any(r.patch for recs in map_recs for r in recs),
        }
    return {
        "map": map_summary,
        "iterations": len(iterations),
        "requests_per_interaction": round(sum(len(r) for r in iterations) / max(len(iterations), 1), 2),
        "total_ms": summarize((sum(r.seconds for r in recs) for recs in iterations), 1000),
        "total_wire_bytes": summarize(sum(r.wire_bytes for r in recs) for recs in iterations),
        "direct_wire_bytes": summarize(
            sum(r.wire_bytes for r in recs if r.level == 0) for recs in iterations
        ),
        "errors": errors,
        "callbacks": callbacks,
    }


def map_call(section: dict) -> dict | None:
    """The map update a change sends (every level-0 callback with the map figure as output)."""
    return section.get("map")


def measure_app(
    url: str,
    names: tuple[str, ...],
    n: int,
    warmup: int,
    budget: float,
    *,
    initial: bool = True,
    pool: bool = False,
    cover: bool = False,
    setup: dict[str, Any] | None = None,
) -> dict:
    """Replay each change ``warmup`` times, then ``n`` times measured (or until ``budget`` s).

    With ``cover`` the warm-up is at least two passes over every value of the control, so the
    measured changes are the steady state (every view cached by both workers); the warm-up itself
    is summarised separately as ``first_pass`` (it holds the first visit to each view). ``setup``
    (control id -> value) is applied first, as a person would (e.g. ``{"minpop": 0}``: every place).
    """
    client = DashClient(url)
    client.load()
    if initial:
        client.initial_callbacks()
    for control, value in (setup or {}).items():
        client.change(control, "value", value)
    script = Script(client)
    results = {}
    pooled: list[list[CallRecord]] = []
    try:
        for name in names:
            values = {"year": script.years, "offence": script.offences, "measure": script.measures}
            rounds = max(warmup, 2 * len(values.get(name, []))) if cover and warmup else warmup
            first_pass = [client.change(name, "value", script.next(name, step)) for step in range(rounds)]
            warmup_summary = _summarize_calls(first_pass) if first_pass else None
            iterations: list[list[CallRecord]] = []
            deadline = Deadline(budget)
            for step in range(rounds, rounds + n):
                iterations.append(client.change(name, "value", script.next(name, step)))
                if deadline.passed and len(iterations) >= 2:
                    break
            results[name] = _summarize_calls(iterations)
            if warmup_summary:
                results[name]["first_pass"] = {
                    "changes": warmup_summary["iterations"],
                    "map": warmup_summary["map"],
                    "total_ms": warmup_summary["total_ms"],
                }
            pooled += iterations
    finally:
        client.close()
    if pool:
        results["all"] = _summarize_calls(pooled)
    return results


def measure_floor(url: str, n: int, warmup: int, budget: float) -> dict:
    client = DashClient(url)
    client.load()
    try:
        for step in range(warmup):
            client.change("noop", "value", f"w{step}")
        iterations = []
        deadline = Deadline(budget)
        for step in range(n):
            iterations.append(client.change("noop", "value", str(step)))
            if deadline.passed and len(iterations) >= 2:
                break
    finally:
        client.close()
    return {"noop": _summarize_calls(iterations)}


def run(ctx: Context) -> dict:
    n, warmup = ctx.n(200, 2), ctx.n(20, 0)
    budget = ctx.budget(600.0, 1.0)
    floor = measure_floor(ctx.server("floor").url, n, warmup, budget)
    atlas = measure_app(ctx.server("atlas").url, INTERACTIONS, n, warmup, budget, cover=True)
    # The naive callback rebuilds a ~1 MB figure (seconds per request): its one callback does the same
    # work whichever input changed, so its >= 200 requests are shared among the four changes and
    # also reported pooled ("all"). The smoke run sends one year change only.
    naive_names = ("year",) if ctx.smoke else INTERACTIONS
    naive_n = 1 if ctx.smoke else max(n // len(INTERACTIONS), 1)
    naive_warmup = 0 if ctx.smoke else 2
    naive = measure_app(
        ctx.server("naive").url,
        naive_names,
        naive_n,
        naive_warmup,
        ctx.budget(1800.0, 1.0),
        initial=False,
        pool=True,
    )
    floor_cb = floor["noop"]["callbacks"][0]
    comparison = {}
    for name in INTERACTIONS:
        ours, theirs = map_call(atlas[name]), map_call(naive.get(name, naive["all"]))
        if ours is None:
            continue  # e.g. the cities change does not send a map recolour
        row: dict[str, Any] = {
            "atlas_map_outputs": ours["outputs"],
            "atlas_map_patch": ours["patch"],
            "atlas_p50_ms": ours["ms"].get("p50"),
            "atlas_p95_ms": ours["ms"].get("p95"),
            "atlas_wire_bytes_p50": ours["wire_bytes"].get("p50"),
            "atlas_wire_bytes_max": ours["wire_bytes"].get("max"),
            "floor_p50_ms": floor_cb["ms"].get("p50"),
            "floor_p95_ms": floor_cb["ms"].get("p95"),
            "p95_vs_floor": ratio(ours["ms"].get("p95"), floor_cb["ms"].get("p95")),
        }
        if theirs is not None:
            row |= {
                "naive_p50_ms": theirs["ms"].get("p50"),
                "naive_p95_ms": theirs["ms"].get("p95"),
                "naive_wire_bytes_p50": theirs["wire_bytes"].get("p50"),
                "speedup_p50_vs_naive": ratio(theirs["ms"].get("p50"), ours["ms"].get("p50")),
                "smaller_vs_naive": ratio(theirs["wire_bytes"].get("p50"), ours["wire_bytes"].get("p50")),
            }
        comparison[name] = row
    errors = sum(s["errors"] for app in (floor, atlas) for s in app.values()) + naive["all"]["errors"]
    return {
        "method": (
            "gunicorn -c gunicorn.conf.py (2 gthread workers x 4 threads) for all three apps; "
            "DashClient posts every callback a change triggers plus one chained level, sequentially, "
            "Accept-Encoding: gzip; ms = loopback round trip"
        ),
        "n": n,
        "warmup": warmup,
        "floor": floor,
        "atlas": atlas,
        "naive": naive,
        "comparison": comparison,
        "errors": errors,
    }
