"""The ranking of thousands of places (issue 13): one curve of every ratio by rank, the program places on it.

Bars stop being readable, and stop being cheap, past a few hundred places (3,500 bars of under a pixel,
150 KB of hover data per year step). The curve keeps every rank near the top and a thinned sample below
(at most ``MAX_POINTS`` points); the highlighted program places and the selected places are drawn at their
exact rank as markers, so "where does West Memphis stand among places of its size?" reads at a glance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.figures.common import base_layout, figure_from_spec, format_value, theme
from dashboard.figures.ranking import UNLISTED_COHORT_COLOUR, reference_lines

MAX_POINTS = 400  # the curve's points: every rank of the first 200, then an even sample
KEEP_TOP = 200
CURVE_COLOUR = "#9e9e9e"
SELECTED_COLOUR = "#2166ac"  # the map's selection outline
LEGEND_BACKGROUND = "rgba(255,255,255,0.85)"
COHORT_OUTLINE = {"color": "#222222", "width": 1}


def curve_ranks(n: int) -> np.ndarray:
    """Indices (0-based) of the ranks the curve draws: all of the first ``KEEP_TOP``, then evenly spaced
    ones to the last, so the curve's shape survives and its size does not grow with ``n``."""
    head = np.arange(min(n, KEEP_TOP))
    if n <= KEEP_TOP:
        return head
    tail = np.unique(np.linspace(KEEP_TOP, n - 1, MAX_POINTS - KEEP_TOP).round().astype(int))
    return np.concatenate([head, tail])


def _marker_trace(rows: pd.DataFrame, name: str, marker: dict) -> dict:
    customdata = [
        [
            r.label,
            format_value(r.rate, "rate"),
            format_value(r.national_rate, "rate"),
            int(r.streak),
            "no data" if pd.isna(r.ratio_to_peer) else f"{r.ratio_to_peer:.2f}×",
        ]
        for r in rows.itertuples()
    ]
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": rows["rank"].astype(int).tolist(),  # lists: numpy arrays travel as base64 (gzip-proof)
        "y": rows["ratio"].astype(float).round(2).tolist(),
        "marker": marker,
        "customdata": customdata,
        "hovertemplate": (
            "<b>%{customdata[0]}</b> (rank %{x})<br>%{y:.2f}× national<br>Place: %{customdata[1]}<br>"
            "US: %{customdata[2]}<br>Times places of its size: %{customdata[4]}<br>"
            "Years in a row above threshold: %{customdata[3]}<extra></extra>"
        ),
    }


def profile_spec(
    ranked: pd.DataFrame,
    *,
    year: int,
    threshold: float,
    offence_label: str,
    version: str,
    universe: str,
    selected: tuple[str, ...] = (),
    height: int = 520,
) -> dict:
    """Plain figure JSON: the curve of ratio by rank, markers per highlighted cohort and for ``selected``
    (place keys), the threshold and 1× lines. ``universe`` words the places ranked ("places of 10,000 to
    24,999 people")."""
    colours = theme()["cohort_colours"]
    index = curve_ranks(len(ranked))
    ratios = ranked["ratio"].astype(float).to_numpy()
    data: list[dict] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"All {len(ranked):,} {universe}",
            "x": ranked["rank"].to_numpy()[index].tolist(),
            "y": ratios[index].round(2).tolist(),
            "fill": "tozeroy",
            "line": {"color": CURVE_COLOUR, "width": 1.5},
            "fillcolor": "rgba(158,158,158,0.25)",
            "hovertemplate": "rank %{x}: %{y:.2f}× national<extra></extra>",
        }
    ]
    highlight = ranked["highlight"].to_numpy()
    extra = sorted(set(highlight.tolist()) - set(colours) - {"other"})
    for cohort in [c for c in colours if c != "other"] + extra:
        rows = ranked[highlight == cohort]
        if len(rows):
            colour = colours.get(cohort, UNLISTED_COHORT_COLOUR)
            data.append(_marker_trace(rows, cohort, {"color": colour, "size": 11, "line": COHORT_OUTLINE}))
    chosen = ranked[ranked["geoid"].isin(selected)]
    if len(chosen):
        ring = {"symbol": "circle-open", "size": 20, "color": SELECTED_COLOUR, "line": {"width": 2.5}}
        data.append(_marker_trace(chosen, "Selected", ring))
    layout = {
        **reference_lines(threshold, version),
        # inside the plot, top right: the curve is low there (it falls from rank 1 at the left)
        "legend": {"x": 0.99, "xanchor": "right", "y": 0.98, "yanchor": "top", "bgcolor": LEGEND_BACKGROUND},
        "xaxis": {
            "showgrid": False,
            # short: the title and the curve's legend name the places ("... people (1 = highest" was cut)
            "title": {"text": f"Rank of {len(ranked):,} (1 = highest ratio)"},
        },
        "yaxis": {
            "gridcolor": "#eeeeee",
            "rangemode": "tozero",
            "title": {"text": "Times the national rate"},
        },
        **base_layout(f"{offence_label} in {year}: {universe} ranked by ratio to the national rate", height),
    }
    return {"data": data, "layout": layout}


def build_profile_figure(ranked: pd.DataFrame, **kwargs):
    """:func:`profile_spec` as a figure."""
    return figure_from_spec(profile_spec(ranked, **kwargs))
