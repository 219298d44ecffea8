"""The map's all-places dots (issue 13): one empty trace, filled and recoloured in the browser."""

from __future__ import annotations

import plotly.graph_objects as go

PLACES_HOVER_TEMPLATE = (
    "<b>%{text}</b><br>"
    "Rate per 100,000: %{customdata[0]:,.1f}<br>"
    "Offences: %{customdata[1]:,.0f}<br>"
    "Times the US rate: %{customdata[2]:.2f}<br>"
    "Times places of its size: %{customdata[3]:.2f}<br>"
    "Population: %{customdata[4]:,.0f}<extra>FBI city table</extra>"
)
PLACES_TRACE_NAME = "Other places (dot size: population)"


def places_trace() -> go.Scattermap:
    """The all-places dots (issue 13), drawn first so every city polygon and marker lies on top. Built
    empty: ``assets/places.js`` fills positions, sizes, colours and hover from ``/data/places/<offence>.json``
    when the view's population floor is under 100,000, in the browser (nothing travels per year step)."""
    return go.Scattermap(
        lon=[],
        lat=[],
        mode="markers",
        name=PLACES_TRACE_NAME,
        marker={"size": [], "color": [], "coloraxis": "coloraxis", "opacity": 0.85},
        hovertemplate=PLACES_HOVER_TEMPLATE,
        hovertemplatefallback="no data",
        showlegend=False,
    )
