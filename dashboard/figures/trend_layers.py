"""Layers drawn inside one trends panel beside the city's line: caveat notes and the peer line (issue 13).

Kept apart from ``figures/trends.py`` (the grid and the city and US lines), each a small pure function.
"""

from __future__ import annotations

import math

import pandas as pd

PEER_COLOUR = "#5b8a3c"  # muted green: a comparison, not the city
PEER_NAME = "Places of its size (FBI population group)"


EMPTY_PANEL_NOTE = "No figure for these years"
PANEL_NOTE_COLOUR = "#7a4b00"  # dark amber: a caveat, not data


def panel_note(text: str, axes: dict, centred: bool) -> dict:
    """A caveat written inside one panel: top left over the line, or centred in a panel with no line."""
    return {
        "align": "center" if centred else "left",
        "bgcolor": "rgba(255,255,255,0.85)",
        "font": {"color": PANEL_NOTE_COLOUR, "size": 13 if centred else 11},
        "showarrow": False,
        "text": text,
        "x": 0.5 if centred else 0.01,
        "xanchor": "center" if centred else "left",
        "xref": f"{axes['xaxis']} domain",
        "y": 0.5 if centred else 0.99,
        "yanchor": "middle" if centred else "top",
        "yref": f"{axes['yaxis']} domain",
    }



def peer_trace(
    series: pd.DataFrame, geoid: str, years: range, *, show_legend: bool, axes: dict
) -> dict | None:
    """The rate of all places in the city's FBI population group, for the years the city has one (only
    years with an FBI city table); None where there is none. Gaps stay gaps: the group a city is in can
    change from year to year with its population."""
    rows = series[(series["geoid"] == geoid) & series["year"].between(years.start, years.stop - 1)]
    by_year = {int(y): r for y, r in zip(rows["year"], rows["peer_rate"], strict=True) if pd.notna(r)}
    if not by_year:
        return None
    groups = dict(zip(rows["year"].astype(int), rows["peer_group"], strict=True))
    y = [None if (v := by_year.get(year)) is None or math.isnan(v) else round(float(v), 1) for year in years]
    return {
        "connectgaps": False,
        "customdata": [groups.get(year, "") for year in years],
        "hovertemplate": "Places of %{customdata} people, %{x}: %{y:,.1f} per 100,000<extra></extra>",
        "legendgroup": "peer",
        "line": {"color": PEER_COLOUR, "dash": "dot", "width": 1.6},
        "marker": {"size": 4},
        "mode": "lines+markers",
        "name": PEER_NAME,
        "showlegend": show_legend,
        "x": list(years),
        "y": y,
        "type": "scatter",
        **axes,
    }
