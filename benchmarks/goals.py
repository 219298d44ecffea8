"""The goals of issue 5, checked against a results file: met or missed, and by how much."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Goal:
    section: str
    goal: str
    target: float
    value: float | None
    unit: str
    kind: str  # "max": value must be <= target; "min": value must be >= target

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value <= self.target if self.kind == "max" else self.value >= self.target

    @property
    def margin(self) -> str:
        v, t = self.value, self.target
        if v is None:
            return "not measured"
        if self.kind == "max":
            if v == 0:
                return "met (0)"
            return f"{t / v:.1f}x headroom" if v <= t else f"missed: {v / t:.2f}x the limit"
        if t == 0:
            return "met"
        return f"{v / t:.1f}x the target" if v >= t else f"missed: {v / t:.0%} of the target"

    def as_dict(self) -> dict:
        return {**asdict(self), "met": self.met, "margin": self.margin}


def _get(data: dict, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def evaluate(results: dict) -> list[Goal]:
    sections = results.get("sections", {})
    goals: list[Goal] = []
    comparison = _get(sections, "interaction", "comparison") or {}
    for name in ("year", "offence", "measure"):
        row = comparison.get(name)
        if not row:
            continue
        label = f"{name} change"
        goals += [
            Goal("interaction", f"map response ({label}) <= 4 KB on the wire (p50)", 4096,
                 row.get("atlas_wire_bytes_p50"), "bytes", "max"),
            Goal("interaction", f"map server p95 ({label}) <= 3x the floor's p95", 3.0,
                 row.get("p95_vs_floor"), "x", "max"),
            Goal("interaction", f">= 20x faster (p50) than the naive baseline ({label})", 20.0,
                 row.get("speedup_p50_vs_naive"), "x", "min"),
            Goal("interaction", f">= 100x smaller than the naive baseline ({label})", 100.0,
                 row.get("smaller_vs_naive"), "x", "min"),
        ]  # fmt: skip
    year = _get(sections, "interaction", "atlas", "year") or {}
    if year:
        goals += [
            Goal("interaction", "requests per year change <= 4 (one view state per interaction)", 4,
                 year.get("requests_per_interaction"), "requests", "max"),
            Goal("interaction", "everything a year change sends <= 12 KB on the wire (p50)", 12 * 1024,
                 _get(year, "total_wire_bytes", "p50"), "bytes", "max"),
        ]  # fmt: skip
    first = _get(sections, "first_load", "comparison") or {}
    if first:
        goals += [
            Goal("first_load", "geometry + data <= 300 KB compressed (first visit)", 300 * 1024,
                 first.get("atlas_geometry_and_data_bytes"), "bytes", "max"),
            Goal("first_load", "second visit transfers the geometry 0 times", 0,
                 first.get("second_visit_geometry_transfers"), "transfers", "max"),
            Goal("first_load", "time to first map <= 1.5x the empty-page floor", 1.5,
                 first.get("map_vs_floor"), "x", "max"),
        ]  # fmt: skip
    exports = _get(sections, "exports", "comparison") or {}
    if exports:
        goals += [
            Goal("exports", "warm PNG p50 <= 0.5 s (slowest chart)", 0.5,
                 exports.get("warm_png_p50_s_max"), "s", "max"),
            Goal("exports", f"briefing PDF ({exports.get('briefing_view')}) <= 15 s (p50)", 15.0,
                 exports.get("briefing_p50_s"), "s", "max"),
        ]  # fmt: skip
    goals += _every_place_goals(sections.get("every_place") or {})
    load = sections.get("load") or {}
    if "requests" in load:
        label = f"0 errors under {load.get('users')} users for {load.get('duration_s', 0):.0f} s"
        goals.append(Goal("load", label, 0, load.get("errors"), "errors", "max"))
    return goals


def _every_place_goals(s: dict) -> list[Goal]:
    """Issue 13: the atlas with every place of the FBI city tables (``minpop=0``) must stay as fast."""
    if not s or "error" in s:
        return []
    goals: list[Goal] = []
    for name, row in (_get(s, "interaction", "changes") or {}).items():
        label = f"all places, {name} change"
        goals += [
            Goal("every_place", f"map response ({label}) <= 4 KB on the wire (p50)", 4096,
                 row.get("all_places_map_wire_bytes_p50"), "bytes", "max"),
            Goal("every_place", f"everything a change sends ({label}) <= 12 KB (p50)", 12 * 1024,
                 row.get("all_places_total_wire_bytes_p50"), "bytes", "max"),
            Goal("every_place", f"map server p95 ({label}) <= 3x the floor's p95", 3.0,
                 row.get("all_places_map_p95_vs_floor"), "x", "max"),
        ]  # fmt: skip
    first = s.get("first_load") or {}
    goals += [
        Goal("every_place", "all-places layer (geometry and values) <= 1.5 MB compressed", 1.5 * 1024 * 1024,
             _get(s, "layer", "wire_bytes"), "bytes", "max"),
        Goal("every_place", "time to first map, default view <= 1.5x the floor", 1.5,
             _get(first, "default", "vs_floor"), "x", "max"),
        Goal("every_place", "time to first map with every place <= 3x the floor", 3.0,
             _get(first, "all_places", "vs_floor"), "x", "max"),
        Goal("every_place", "map PNG of all places, warm and uncached <= 2 s (p50)", 2.0,
             _get(s, "export", "all_places", "s", "p50"), "s", "max"),
        Goal("every_place", "pipeline build, all places included <= 3 min", 180.0,
             _get(s, "build", "s"), "s", "max"),
    ]  # fmt: skip
    return goals
