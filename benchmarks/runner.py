"""Run the benchmarks in a fixed order and write one results file."""

from __future__ import annotations

import logging
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import every_place, exports, first_load, interaction, load, scale, startup
from benchmarks.common import RESULTS_DIR, machine_info, write_json
from benchmarks.context import Context
from benchmarks.goals import evaluate

log = logging.getLogger("benchmarks")

# Start-up first (nothing else running), the shared servers next, the load test last on its own.
SECTIONS = ("startup", "interaction", "first_load", "exports", "every_place", "scale", "load")
SCALE_PNG = Path(__file__).resolve().parent / "scale.png"


def default_out(smoke: bool, only: list[str] | None = None) -> Path:
    """``<UTC time>[-only-<sections>][-smoke].json``; the README report skips partial (``-only-``) runs."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    part = f"-only-{'-'.join(only)}" if only else ""
    return RESULTS_DIR / f"{stamp}{part}{'-smoke' if smoke else ''}.json"


def run(smoke: bool, only: list[str] | None, out: Path) -> dict:
    chosen = [s for s in SECTIONS if not only or s in only]
    ctx = Context(smoke=smoke)
    results: dict = {
        "meta": {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "smoke": smoke,
            "sections": chosen,
            "machine": machine_info(),
        },
        "sections": {},
        "timings_s": {},
    }
    # a smoke run must not overwrite the committed plot
    plot_path = out.with_suffix(".scale.png") if smoke else SCALE_PNG
    runners = {
        "startup": startup.run,
        "interaction": interaction.run,
        "first_load": first_load.run,
        "exports": exports.run,
        "every_place": every_place.run,  # issue 13
        "scale": lambda c: scale.run(c, plot_path),
        "load": load.run,
    }
    try:
        for name in chosen:
            if name in ("scale", "load") and not smoke:
                ctx.close()  # nothing else running while these measure
            log.info("benchmark %s (%s)", name, "smoke" if smoke else "full")
            started = time.monotonic()
            try:
                results["sections"][name] = runners[name](ctx)
            except Exception as exc:
                log.exception("benchmark %s failed", name)
                results["sections"][name] = {
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=8),
                }
            results["timings_s"][name] = round(time.monotonic() - started, 1)
            write_json(out, results)  # partial results survive a later failure
    finally:
        ctx.close()
    results["meta"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["goals"] = [g.as_dict() for g in evaluate(results)]
    write_json(out, results)
    return results
