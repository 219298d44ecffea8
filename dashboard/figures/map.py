"""The choropleth map: city boundaries coloured by the chosen measure for one year.

Geometry is referenced (a URL to the static GeoJSON, or a dict for exports), never
rebuilt per interaction: callbacks patch only the colour values (see :func:`map_arrays`).
Offline by construction: ``white-bg`` style, no tiles, no glyphs (no text layers).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from .common import MEASURE_LABELS, apply_base_layout, format_value, theme, wrap_title

RATIO_LOG2_RANGE = 2.0  # colour scale spans 1/4x .. 4x the national rate
TRACE_NO_DATA, TRACE_CONTEXT, TRACE_PROGRAM, TRACE_MARKERS, TRACE_MARKERS_NO_DATA, TRACE_SELECTED = range(6)


def hover_template(offset: int = 0) -> str:
    """Hover text from customdata columns starting at ``offset`` (markers carry the geoid first)."""
    c = [f"%{{customdata[{i + offset}]}}" for i in range(6)]
    return f"<b>{c[0]}</b><br>{c[1]}<br>{c[2]}<br>US: {c[3]}<br>Ratio: {c[4]}<br><i>{c[5]}</i><extra></extra>"


def colour_values(snapshot: pd.DataFrame, measure: str) -> pd.Series:
    """The number each city is coloured by: log2(ratio) for the ratio (centred on 1x)."""
    values = snapshot[measure].astype("Float64")
    if measure == "ratio":
        values = values.where(values > 0)
        return np.log2(values.astype(float)).clip(-RATIO_LOG2_RANGE, RATIO_LOG2_RANGE)
    return values.astype(float)


def coloraxis_for(snapshot: pd.DataFrame, measure: str) -> dict:
    """Diverging, colour-blind-safe scale centred on 1x for ratios; sequential otherwise.

    Scales are spelled out as colour stops: a Patch bypasses plotly.py, and plotly.js does
    not know Python-side names such as "RdBu_r".
    """
    t = theme()
    title = {"text": MEASURE_LABELS[measure].replace(" ", "<br>", 1), "font": {"size": 14}}
    if measure == "ratio":
        ticks = [-2, -1, 0, 1, 2]
        return {
            "colorscale": get_colorscale(t["ratio_colorscale"]),
            "cmin": -RATIO_LOG2_RANGE,
            "cmax": RATIO_LOG2_RANGE,
            "cmid": 0,
            "colorbar": {
                "title": title,
                "tickvals": ticks,
                "ticktext": ["¼×", "½×", "1× (US)", "2×", "4×"],
                "tickfont": {"size": 14},
                "len": 0.8,
            },
        }
    values = snapshot[measure].astype("Float64").dropna().astype(float)
    top = float(np.nanpercentile(values, 95)) if len(values) else 1.0
    return {
        "colorscale": get_colorscale(t["rate_colorscale"]),
        "cmin": 0,
        "cmax": max(top, 1.0),
        "cmid": None,
        "colorbar": {"title": title, "tickfont": {"size": 14}, "len": 0.8, "tickformat": ",.0f"},
    }


def _hover_rows(snapshot: pd.DataFrame, measure: str, offence_label: str) -> list[list[str]]:
    rows = []
    for rec in snapshot.itertuples():
        has = pd.notna(rec.rate) or pd.notna(rec.count)
        rows.append(
            [
                rec.label,
                f"{rec.year} · {offence_label}",
                (
                    f"Rate: {format_value(rec.rate, 'rate')} ({format_value(rec.count, 'count')} offences)"
                    if has
                    else "no data for this year"
                ),
                format_value(rec.national_rate, "rate") if has else "—",
                format_value(rec.ratio, "ratio") if has else "—",
                (str(rec.source).split(" + ")[0] if has and isinstance(rec.source, str) else ""),
            ]
        )
    return rows


def _mask(values: pd.Series, keep: pd.Series) -> list:
    return [float(v) if k and not math.isnan(v) else None for v, k in zip(values, keep, strict=True)]


def map_arrays(snapshot: pd.DataFrame, measure: str, offence_label: str, selected: list[str]) -> dict:
    """Every per-city array of the map, in the fixed trace order; what a Patch replaces."""
    colour = colour_values(snapshot, measure).astype(float)
    has_data = ~colour.isna()
    program = snapshot["is_program"].astype(bool)
    hover = _hover_rows(snapshot, measure, offence_label)
    selected_set = set(selected or [])
    return {
        "no_data_z": [0 if not h else None for h in has_data],
        "context_z": _mask(colour, has_data & ~program),
        "program_z": _mask(colour, has_data & program),
        # markers without data are hidden by a null latitude; their colour value is irrelevant
        "marker_colour": [float(c) if h else 0.0 for c, h in zip(colour, has_data, strict=True)],
        "marker_lat": [float(la) if h else None for la, h in zip(snapshot["lat"], has_data, strict=True)],
        "marker_lat_no_data": [
            float(la) if not h else None for la, h in zip(snapshot["lat"], has_data, strict=True)
        ],
        "hover": hover,
        "marker_hover": [[g, *h] for g, h in zip(snapshot["geoid"], hover, strict=True)],
        "selected_z": [1 if g in selected_set else None for g in snapshot["geoid"]],
        "coloraxis": coloraxis_for(snapshot, measure),
    }


def map_title(offence_label: str, measure: str, year: int) -> str:
    return wrap_title(f"{offence_label}, {MEASURE_LABELS[measure]}, {year}: program cities outlined")


def build_map_figure(
    snapshot: pd.DataFrame,
    *,
    geojson: str | dict,
    states_geojson: str | dict,
    measure: str,
    offence_label: str,
    year: int,
    version: str,
    selected: list[str] | None = None,
    height: int = 560,
) -> go.Figure:
    """Full map figure (built once per page load; later interactions patch it)."""
    t = theme()
    arrays = map_arrays(snapshot, measure, offence_label, selected or [])
    locations = snapshot["geoid"].tolist()
    common = {
        "geojson": geojson,
        "featureidkey": "properties.geoid",
        "locations": locations,
        "customdata": arrays["hover"],
        "hovertemplate": hover_template(),
    }
    fig = go.Figure()
    fig.add_trace(
        go.Choroplethmap(
            **common,
            z=arrays["no_data_z"],
            name="No data",
            showscale=False,
            showlegend=True,
            colorscale=[[0, t["no_data_colour"]], [1, t["no_data_colour"]]],
            zmin=0,
            zmax=1,
            marker={"opacity": 0.9, "line": {"width": 0.6, "color": "#8c8c8c"}},
        )
    )
    fig.add_trace(
        go.Choroplethmap(
            **common,
            z=arrays["context_z"],
            coloraxis="coloraxis",
            name="Other cities (100k+)",
            marker={"opacity": 0.55, "line": {"width": 0.3, "color": "#9e9e9e"}},
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Choroplethmap(
            **common,
            z=arrays["program_z"],
            coloraxis="coloraxis",
            name="Program cities",
            marker={"opacity": 0.95, "line": {"width": 2.2, "color": t["program_outline_colour"]}},
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scattermap(
            lon=snapshot["lon"].tolist(),
            lat=arrays["marker_lat"],
            mode="markers",
            name="City marker",
            marker={
                "size": np.where(snapshot["is_program"], 11, 6).tolist(),
                "color": arrays["marker_colour"],
                "coloraxis": "coloraxis",
                "opacity": 0.9,
            },
            customdata=arrays["marker_hover"],
            hovertemplate=hover_template(offset=1),
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scattermap(
            lon=snapshot["lon"].tolist(),
            lat=arrays["marker_lat_no_data"],
            mode="markers",
            name="No data ",
            marker={"size": np.where(snapshot["is_program"], 11, 6).tolist(), "color": "#a6a6a6"},
            customdata=arrays["marker_hover"],
            hovertemplate=hover_template(offset=1),
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Choroplethmap(
            geojson=geojson,
            featureidkey="properties.geoid",
            locations=locations,
            z=arrays["selected_z"],
            name="Selected",
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
            showscale=False,
            marker={"line": {"width": 3.5, "color": "#2166ac"}},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.update_layout(
        coloraxis=arrays["coloraxis"],
        map={
            "style": "white-bg",
            "center": t["map_center"],
            "zoom": t["map_zoom"],
            "layers": [
                {
                    "sourcetype": "geojson",
                    "source": states_geojson,
                    "type": "line",
                    "color": t["state_line_colour"],
                    "line": {"width": 0.8},
                    "below": "traces",
                }
            ],
        },
        legend={"x": 0.01, "y": 0.02, "bgcolor": "rgba(255,255,255,0.8)"},
        uirevision="map",
    )
    apply_base_layout(
        fig,
        map_title(offence_label, measure, year),
        version,
        height,
        note="Grey: no data for that year (never zero).",
    )
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80, "b": 100})
    return fig
