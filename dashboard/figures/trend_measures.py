"""Trend measures people ask for (issue 18): change since a base year (%), a log axis, a 3-year rolling
average, and the small-number mark, as pure functions on series and on the trends figure JSON.

Gaps are never bridged: a rolling average needs all three years, a change needs the base year's value.
The figure functions only restyle what ``figures/trends.py`` drew (titles, axes, hover text, the US
line) and add marker traces, so that module stays the one place panels are laid out.
"""

from __future__ import annotations

import math

import pandas as pd

from dashboard.figures.common import MEASURE_LABELS, title_layout

SMALL_MARK_NAME = "Few offences: value unstable"
SMALL_MARK_COLOUR = "#e08e0b"


def rolling_mean(values: list[float], window: int = 3) -> list[float]:
    """Mean of each value and the ``window - 1`` before it; NaN when any of them is missing (a gap
    breaks the window, it is never bridged)."""
    out = []
    for i in range(len(values)):
        chunk = values[max(0, i - window + 1) : i + 1]
        ok = len(chunk) == window and not any(v is None or math.isnan(v) for v in chunk)
        out.append(round(sum(chunk) / window, 2) if ok else math.nan)
    return out


def change_since(values: list[float], years: list[int], base: int) -> list[float]:
    """Per cent change from the base year's value; all NaN when the base year has no (or a zero) value."""
    start = dict(zip(years, values, strict=True)).get(base)
    if start is None or math.isnan(start) or start == 0:
        return [math.nan] * len(values)
    return [math.nan if math.isnan(v) else round((v / start - 1) * 100, 1) for v in values]


def transform(
    frame: pd.DataFrame, column: str, *, smooth: int, base: int | None, key: str | None
) -> pd.DataFrame:
    """``column`` of a city-year (``key`` = "geoid") or year frame averaged and/or turned into change since
    ``base``, per key over every year of the frame's span (missing years are gaps)."""
    if (smooth == 1 and base is None) or frame.empty:
        return frame
    years = list(range(int(frame["year"].min()), int(frame["year"].max()) + 1))
    parts = []
    for _, part in frame.groupby(key, sort=False) if key else [(None, frame)]:
        part = part.drop_duplicates("year").set_index("year")
        values = part[column].astype("Float64").reindex(years).astype(float).tolist()
        if smooth > 1:
            values = rolling_mean(values, smooth)
        if base is not None:
            values = change_since(values, years, base)
        by_year = dict(zip(years, values, strict=True))
        parts.append(part.assign(**{column: [by_year[int(y)] for y in part.index]}).reset_index())
    return pd.concat(parts, ignore_index=True)


def measure_label(measure: str, *, smooth: int, base: int | None) -> str:
    """ "% change since 2010 in the rate per 100,000 residents (3-year rolling average)"."""
    text = MEASURE_LABELS[measure]
    if base is not None:
        text = (
            f"% change since {base} in the {text}" if measure != "ratio" else f"% change since {base}, {text}"
        )
    return text + (" (3-year rolling average)" if smooth > 1 else "")


def restyle(spec: dict, *, measure: str, smooth: int, base: int | None, scale: str) -> dict:
    """The trends figure relabelled for the chosen measure options; the figure is changed in place."""
    if not spec.get("data"):
        return spec
    layout = spec["layout"]
    label = measure_label(measure, smooth=smooth, base=base)
    if smooth > 1 or base is not None:
        title = layout["title"]["text"].replace("<br>", " ").replace(MEASURE_LABELS[measure], label, 1)
        layout["title"] = title_layout(title)
        layout["yaxis"]["title"] = {
            "text": label[0].upper() + label[1:] if base is None else f"% since {base}"
        }
    keep = []
    for trace in spec["data"]:
        if base is not None and trace.get("legendgroup") == "us" and trace.get("hoverinfo") == "skip":
            continue  # the 1x line means nothing for a change; the 0 % line says "as in the base year"
        if trace.get("legendgroup") == "city" and trace.get("customdata"):
            trace["customdata"] = [
                [row[0], _value_text(y, measure, base)]
                for row, y in zip(trace["customdata"], trace["y"], strict=True)
            ]
            trace["name"] = f"City ({label})"
        if trace.get("legendgroup") == "us" and base is not None:
            trace["hovertemplate"] = f"US, %{{x}}: %{{y:+.1f}}% since {base}<extra></extra>"
        keep.append(trace)
    spec["data"] = keep
    use_log = scale == "log" and base is None
    for key, axis in layout.items():
        if key.startswith("yaxis") and (use_log or base is not None):
            axis.pop("range", None)
            axis["autorange"] = True
            if use_log:
                axis["type"] = "log"
            else:
                axis["zeroline"], axis["zerolinecolor"] = True, "#777777"
    if scale == "log" and base is not None:
        layout["yaxis"]["title"]["text"] += " (log scale does not apply to a change)"
    elif use_log:
        layout["yaxis"]["title"] = {"text": f"{layout['yaxis'].get('title', {}).get('text', label)} (log)"}
    return spec


def _value_text(y: float | None, measure: str, base: int | None) -> str:
    if y is None:
        return "no data"
    if base is not None:
        return f"{y:+.1f}% since {base}"
    if measure == "ratio":
        return f"{y:.2f}× national"
    return f"{y:,.1f} per 100,000" if measure == "rate" else f"{y:,.1f}"


def small_count_marks(spec: dict, geoids: list[str], small: dict[str, set[int]], note: str) -> dict:
    """An open orange ring on each drawn point whose value rests on few offences (one trace per panel, one
    legend entry); ``note`` says the threshold in the hover. Changes the figure in place."""
    cities = [t for t in spec.get("data", []) if t.get("legendgroup") == "city"]
    shown = False
    for geoid, trace in zip(geoids, cities, strict=False):
        years = small.get(geoid, set())
        points = [(x, y) for x, y in zip(trace["x"], trace["y"], strict=True) if y is not None and x in years]
        if not points:
            continue
        spec["data"].append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [p[0] for p in points],
                "y": [p[1] for p in points],
                "xaxis": trace.get("xaxis", "x"),
                "yaxis": trace.get("yaxis", "y"),
                "marker": {
                    "symbol": "circle-open",
                    "size": 12,
                    "line": {"width": 2.2},
                    "color": SMALL_MARK_COLOUR,
                },
                "name": SMALL_MARK_NAME,
                "legendgroup": "small",
                "showlegend": not shown,
                "hovertemplate": f"%{{x}}: {note}<extra></extra>",
            }
        )
        shown = True
    return spec
