"""Layers of the outcomes chart that carry its uncertainty and its main caveat (issue 14).

``placebo_band``: around each site's comparison, where 90% of the placebo places' gaps fell (the same
method run on each comparison place as if it had joined): a site line inside the band looks like a place
that did not join. ``regression_panel``: the first panel, the sites against places as violent that were
not chosen, by years since joining (regression to the mean). Pure: frames in, plain figure JSON out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from dashboard.figures.trends import ANNOUNCEMENT_COLOUR, TITLE_FONT

BAND_COLOUR = "rgba(110,110,110,0.2)"
BAND_NAME = "Placebo band: how far 90% of places not chosen strayed"
NOT_CHOSEN_COLOUR = "#7b3294"
THRESHOLD_COLOUR = "#999999"


@dataclass(frozen=True)
class Regression:
    """What the first panel needs: the curve (``data.regression.regression_curve``), the threshold the
    places met, the selection year(s) in words ("2015") and each selection year's lag to joining."""

    curve: pd.DataFrame
    threshold: float
    selection_label: str
    lags: tuple[int, ...]


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def placebo_band(site: pd.DataFrame, axes: dict, show: bool) -> dict | None:
    """One filled trace: comparison + placebo_gap_low … comparison + placebo_gap_high, a closed shape per
    run of years that has both (a year without them breaks the band, it is never bridged)."""
    if "placebo_gap_low" not in site:
        return None
    xs: list[int | None] = []
    ys: list[float | None] = []
    run: list[tuple[int, float, float]] = []
    rows = zip(
        site["years_since_joining"],
        site["comparison_value"],
        site["placebo_gap_low"],
        site["placebo_gap_high"],
        strict=True,
    )
    for x, comparison, low, high in [*rows, (None, None, None, None)]:
        values = [_number(v) for v in (comparison, low, high)]
        if x is not None and None not in values:
            run.append((int(x), values[0] + values[1], values[0] + values[2]))
            continue
        if run:
            xs += [r[0] for r in run] + [r[0] for r in reversed(run)] + [None]
            ys += [round(r[2], 1) for r in run] + [round(r[1], 1) for r in reversed(run)] + [None]
        run = []
    if not xs:
        return None
    return {
        "type": "scatter",
        "mode": "lines",
        "name": BAND_NAME,
        "legendgroup": "band",
        "showlegend": show,
        "x": xs,
        "y": ys,
        "fill": "toself",
        "fillcolor": BAND_COLOUR,
        "line": {"width": 0},
        "hoverinfo": "skip",
        **axes,
    }


def band_top(rows: pd.DataFrame) -> float:
    """The highest point any band reaches (for the shared y range); 0 without a band."""
    if "placebo_gap_high" not in rows:
        return 0.0
    top = (rows["comparison_value"] + rows["placebo_gap_high"]).max(skipna=True)
    return 0.0 if pd.isna(top) else float(top)


def regression_panel(
    regression: Regression, axes: dict, city_colour: str
) -> tuple[list[dict], list[dict], list[dict]]:
    """Traces, shapes and annotations of the regression-to-the-mean panel on ``axes`` ({"xaxis": "x13",
    "yaxis": "y13"}); each selection year is shaded at its lag before the announcement."""
    curve, threshold, lags = regression.curve, regression.threshold, regression.lags
    selection_label = regression.selection_label
    names = {
        "sites": ("Sites shown (median)", city_colour, "solid", 2.8),
        "not chosen": (
            f"Not chosen, as violent in {selection_label} (median)",
            NOT_CHOSEN_COLOUR,
            "dot",
            2.6,
        ),
    }
    data = []
    for group, part in curve.groupby("group", sort=False):
        name, colour, dash, width = names[str(group)]
        selected = int(part["selected"].max())
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "legend": "legend2",
                "x": part["years_since_joining"].astype(int).tolist(),
                "y": [_number(v) for v in part["median_ratio"]],
                "customdata": [f"{int(n)} of {selected}" for n in part["places"]],
                "hovertemplate": "%{x:+d} years: %{y:.2f}× the US rate (median of %{customdata} places "
                f"with a figure)<extra>{name}</extra>",
                "line": {"color": colour, "dash": dash, "width": width},
                "marker": {"size": 5, "color": colour},
                **axes,
            }
        )
    yref, xref = axes["yaxis"], axes["xaxis"]
    shapes = [
        {
            "type": "line",
            "xref": f"{xref} domain",
            "x0": 0,
            "x1": 1,
            "yref": yref,
            "y0": threshold,
            "y1": threshold,
            "line": {"color": THRESHOLD_COLOUR, "dash": "dash", "width": 1.2},
        },
        {
            "type": "line",
            "xref": xref,
            "x0": 0,
            "x1": 0,
            "yref": f"{yref} domain",
            "y0": 0,
            "y1": 1,
            "line": {"color": ANNOUNCEMENT_COLOUR, "dash": "dot", "width": 1.5},
        },
    ]
    annotations = [
        {
            "text": f"selection threshold: {threshold:g}× the US rate",
            "xref": f"{xref} domain",
            "x": 1,
            "xanchor": "right",
            "yref": yref,
            "y": threshold,
            "yanchor": "top",
            "showarrow": False,
            "font": {"size": 13, "color": "#666666"},
        },
        {
            "text": "announced",
            "xref": xref,
            "x": 0,
            "xanchor": "left",
            "xshift": 3,
            "yref": f"{yref} domain",
            "y": 1,
            "yanchor": "top",
            "showarrow": False,
            "font": {"size": 13, "color": ANNOUNCEMENT_COLOUR},
        },
    ]
    for lag in sorted(set(lags)):
        shapes.append(
            {
                "type": "rect",
                "xref": xref,
                "x0": -lag - 0.35,
                "x1": -lag + 0.35,
                "yref": f"{yref} domain",
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(123,50,148,0.08)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    if lags:
        annotations.append(
            {
                "text": f"selected: {selection_label}",
                "xref": xref,
                "x": -max(lags) - 0.4,
                "xanchor": "right",
                "yref": f"{yref} domain",
                "y": 1,
                "yanchor": "top",
                "showarrow": False,
                "font": {"size": 13, "color": NOT_CHOSEN_COLOUR},
            }
        )
    return data, shapes, annotations


def regression_heading(y: float, selection_label: str) -> dict:
    """The first panel's heading, above its legend (paper coordinates)."""
    return {
        "text": "<b>Would they have fallen anyway?</b> Places picked when their violence was high often "
        f"fall back toward the average.<br>The sites against places as violent in {selection_label} that "
        "were never chosen, as a multiple of the US rate",
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "xanchor": "left",
        "y": y,
        "yanchor": "bottom",
        "showarrow": False,
        "font": dict(TITLE_FONT),
        "align": "left",
    }


def y_top(curve: pd.DataFrame, threshold: float) -> float:
    """The first panel's y range top: the highest median or the threshold, with room for labels."""
    top = curve["median_ratio"].max(skipna=True) if len(curve) else math.nan
    return round(max(threshold, 0.0 if pd.isna(top) else float(top)) * 1.18 + 0.1, 2)
