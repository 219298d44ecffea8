"""The selection criterion: every city ranked by its ratio to the national rate.

PSP cities were chosen because their violence was "well above the national average";
this view shows which cities cleared a threshold in a year, which of them were chosen,
and for how many years in a row they had been above it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import base_layout, figure_from_spec, source_annotation, theme

LEGEND_ITEMS_PER_ROW = 3  # at the page's width; a narrower embed wraps more and may still touch the title
LEGEND_ROW_PX = 24
BAR_WIDTH = 0.85  # in ranks: what bargap 0.15 gives a full row of neighbouring bars
UNLISTED_COHORT_COLOUR = "#4a6c8c"  # grey-blue: a cohort with no entry in theme.json cohort_colours
FBI_RANKING_CAUTION = (
    "The FBI cautions against ranking: UCR figures are used to rank cities, but such rankings "
    "ignore the many factors (population density, economic conditions, policing, reporting "
    "practices) that shape crime in a place and lead to simplistic, misleading comparisons."
)


def ranking_spec(
    ranked: pd.DataFrame, *, year: int, threshold: float, offence_label: str, version: str, height: int = 520
) -> dict:
    """:func:`build_ranking_figure` as plain figure JSON (bars as numpy arrays, as plotly stores them)."""
    colours = theme()["cohort_colours"]
    highlight = ranked["highlight"].to_numpy()
    ranks = ranked["rank"].to_numpy()
    ratios = ranked["ratio"].astype(float).to_numpy()
    labels = ranked["label"].tolist()
    streaks = ranked["streak"].tolist()
    # numbers, formatted by the hover template: "1,541.5 per 100,000" as text per bar cost ~1.5 KB gzipped
    rates = [None if pd.isna(v) else round(float(v), 1) for v in ranked["rate"].tolist()]
    national = [None if pd.isna(v) else round(float(v), 1) for v in ranked["national_rate"].tolist()]
    data = []
    # a cohort without a theme colour still gets its bars (programs.csv may gain a cohort before theme.json)
    extra = sorted(set(highlight.tolist()) - set(colours))
    for cohort in ["other"] + [c for c in colours if c != "other"] + extra:
        rows = np.flatnonzero(highlight == cohort)
        if not len(rows):
            continue
        data.append(
            {
                "customdata": [[labels[i], rates[i], national[i], streaks[i]] for i in rows.tolist()],
                "hovertemplate": (
                    "<b>%{customdata[0]}</b> (rank %{x})<br>%{y:.2f}× national<br>"
                    "City: %{customdata[1]:,.1f} per 100,000<br>US: %{customdata[2]:,.1f} per 100,000<br>"
                    "Years in a row above threshold: %{customdata[3]}<extra></extra>"
                ),
                "marker": {"color": colours.get(cohort, UNLISTED_COHORT_COLOUR), "line": {"width": 0}},
                "name": "Other cities" if cohort == "other" else cohort,
                # plain lists: plotly would send numpy arrays as base64 float64, which gzip cannot shrink
                # (ratios are shown to 2 decimals; 300 bars: 7.8 KB -> see benchmarks)
                "x": ranks[rows].tolist(),
                "y": ratios[rows].round(2).tolist(),
                "type": "bar",
                # one rank wide: plotly would size a trace's bars by the gaps between its own ranks, so a
                # cohort of a few cities far apart got bars dozens of ranks wide (issue 12)
                "width": BAR_WIDTH,
            }
        )
    layout = {
        **reference_lines(threshold, version),
        "bargap": 0.15,
        "barmode": "overlay",
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        "xaxis": {
            "showgrid": False,
            "title": {"text": f"Rank among {len(ranked)} cities with data (1 = highest)"},
        },
        "yaxis": {
            "gridcolor": "#eeeeee",
            "rangemode": "tozero",
            "title": {"text": "Times the national rate"},
        },
        **base_layout(f"{offence_label} in {year}: cities ranked by ratio to the national rate", height),
    }
    # the legend sits above the plot: each row of it beyond the first (all-psp highlights 8 cohorts) gets
    # room of its own instead of running into the title (issue 12)
    extra_rows = max(0, math.ceil(len(data) / LEGEND_ITEMS_PER_ROW) - 1)
    layout["margin"]["t"] = 100 + LEGEND_ROW_PX * extra_rows
    layout["height"] = height + LEGEND_ROW_PX * extra_rows
    return {"data": data, "layout": layout}


def reference_lines(threshold: float, version: str) -> dict:
    """The threshold and 1x lines with their labels, and the source line: every ranking chart's frame."""
    return {
        "annotations": [
            _hline_label(threshold, f"threshold {threshold:g}×", "bottom"),
            _hline_label(1, "US average (1×)", "top"),
            source_annotation(version, "<br>The FBI cautions against ranking cities (see note)."),
        ],
        "shapes": [
            _hline(threshold, {"color": "#222222", "dash": "dash", "width": 2}),
            _hline(1, {"color": "#777777", "width": 1}),
        ],
    }


def _hline(y: float, line: dict) -> dict:
    """What ``fig.add_hline(y, line=line)`` adds."""
    return {"line": line, "type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": y, "y1": y, "yref": "y"}


def _hline_label(y: float, text: str, side: str) -> dict:
    """The label ``add_hline(annotation_position=f"{side} right", annotation_font_size=14)`` adds."""
    return {
        "font": {"size": 14},
        "showarrow": False,
        "text": text,
        "x": 1,
        "xanchor": "right",
        "xref": "x domain",
        "y": y,
        "yanchor": side,
        "yref": "y",
    }


def build_ranking_figure(
    ranked: pd.DataFrame, *, year: int, threshold: float, offence_label: str, version: str, height: int = 520
) -> go.Figure:
    """Bars sorted by ratio, one trace per cohort so the legend names the highlight."""
    return figure_from_spec(
        ranking_spec(
            ranked,
            year=year,
            threshold=threshold,
            offence_label=offence_label,
            version=version,
            height=height,
        )
    )
