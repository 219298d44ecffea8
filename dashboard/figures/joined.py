"""Trends panels aligned on the year each site joined (``align=joined``, issue 12): a pure spec transform.

The calendar chart (``figures/trends.py``) is drawn first; here each panel's traces, vertical lines and
announcement labels are moved left by that panel's joined year, so x is "years since joining" (0 = the
announcement year, whose dotted line then sits inside year 0). Every panel gets the same relative range,
so cohorts of different years read side by side. A city in no program has no joined year: its panel is
emptied and says so, rather than being drawn on a calendar axis among relative ones.
"""

from __future__ import annotations

import copy

JOINED_AXIS_TITLE = "years since joining (0 = announced)"


def _axis(letter: str, index: int) -> str:
    return letter if index == 1 else f"{letter}{index}"


def align_spec(
    spec: dict, geoids: list[str], joined: dict[str, int | None], year_from: int, year_to: int
) -> dict:
    """``spec`` (a trends figure as plain JSON) with panel ``i`` shifted by ``joined[geoids[i]]`` years."""
    if not geoids or "data" not in spec:
        return spec
    out = copy.deepcopy(spec)
    offsets = {_axis("x", i + 1): joined.get(g) for i, g in enumerate(geoids)}
    known = [o for o in offsets.values() if o is not None]
    for trace in out["data"]:
        offset = offsets.get(trace.get("xaxis", "x"))
        if offset is None:
            trace["x"], trace["y"] = [], []
            continue
        trace["x"] = [x - offset for x in trace["x"]]
        if "hovertemplate" in trace:
            trace["hovertemplate"] = trace["hovertemplate"].replace("%{x}", f"year %{{x}} from {offset}")
    layout = out["layout"]
    for item in [*layout.get("shapes", []), *layout.get("annotations", [])]:
        offset = offsets.get(item.get("xref", ""))
        if offset is None:
            continue
        for key in ("x", "x0", "x1"):
            if key in item:
                item[key] = item[key] - offset
    for index, geoid in enumerate(geoids, start=1):
        if joined.get(geoid) is None:
            layout.setdefault("annotations", []).append(
                {
                    "showarrow": False,
                    "text": "not a program site:<br>no year joined",
                    "x": 0.5,
                    "xref": f"{_axis('x', index)} domain",
                    "y": 0.5,
                    "yref": f"{_axis('y', index)} domain",
                    "font": {"color": "#666666"},
                }
            )
    if known:
        low, high = year_from - max(known), year_to - min(known)
        for key, axis in layout.items():
            if key.startswith("xaxis"):
                axis["range"] = [low - 0.5, high + 0.5]
                axis["zeroline"] = False
    title = layout.get("title", {})
    if isinstance(title, dict) and "text" in title:
        title["text"] = f"{title['text']}, x: {JOINED_AXIS_TITLE}"
    return out
