"""Small multiples: each selected city's series against the national series.

Gaps stay gaps (the x axis covers every year; missing years are None and lines do not
connect across them). Program announcements are vertical markers; breaks and
definition changes are footnote markers whose hover text says what changed.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import MEASURE_LABELS, apply_base_layout, format_value, theme

RAPE_DEFINITION_CHANGE_YEAR = 2013


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns for n panels: readable from 1 to 28 cities."""
    cols = 1 if n <= 1 else 2 if n <= 4 else 3 if n <= 9 else 4
    return max(1, math.ceil(n / cols)), cols


def announcement_x(announced: str) -> float:
    """Decimal year of an ISO date, year-month or year ("2017-06-20" -> 2017.47)."""
    parts = [int(p) for p in str(announced).split("-")]
    month = parts[1] if len(parts) > 1 else 1
    day = parts[2] if len(parts) > 2 else 1
    return round(parts[0] + (month - 1) / 12 + (day - 1) / 365, 2)


def empty_figure(message: str, version: str, height: int = 300) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 18, "color": "#444444"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return apply_base_layout(fig, "", version, height)


def _full_years(frame: pd.DataFrame, years: range) -> pd.DataFrame:
    return frame.set_index("year").reindex(list(years)).rename_axis("year").reset_index()


def _nullable(values: pd.Series) -> list:
    return [None if pd.isna(v) else float(v) for v in values]


def build_trends_figure(
    series: pd.DataFrame,
    national: pd.DataFrame,
    *,
    geoids: list[str],
    labels: dict[str, str],
    measure: str,
    offence_label: str,
    rape_linked: bool,
    year_from: int,
    year_to: int,
    announcements: dict[str, list[tuple[str, str]]],
    breaks: pd.DataFrame,
    version: str,
) -> go.Figure:
    """One panel per city (shared axes). ``series`` comes from ``data.city_series``."""
    if not geoids:
        return empty_figure("Select cities on the map or in the city list to compare their trends.", version)
    t = theme()
    years = range(year_from, year_to + 1)
    rows, cols = grid_shape(len(geoids))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes="all",
        shared_yaxes="all",
        subplot_titles=[labels.get(g, g) for g in geoids],
        vertical_spacing=min(0.12, 0.35 / rows),
        horizontal_spacing=0.04,
    )
    us = _full_years(national[["year", "rate", "count"]], years)
    breaks_legend_shown = False
    for index, geoid in enumerate(geoids):
        row, col = index // cols + 1, index % cols + 1
        city = _full_years(series[series["geoid"] == geoid].drop(columns="geoid"), years)
        value = city[measure]
        first = index == 0
        fig.add_trace(
            go.Scatter(
                x=list(years),
                y=_nullable(value),
                mode="lines+markers",
                name=f"City ({MEASURE_LABELS[measure]})",
                legendgroup="city",
                showlegend=first,
                connectgaps=False,
                line={"color": t["city_colour"], "width": 2.6},
                marker={"size": 5},
                customdata=[[labels.get(geoid, geoid), format_value(v, measure)] for v in value],
                hovertemplate="%{customdata[0]}, %{x}: %{customdata[1]}<extra></extra>",
            ),
            row=row,
            col=col,
        )
        if measure == "rate":
            fig.add_trace(
                go.Scatter(
                    x=list(years),
                    y=_nullable(us["rate"]),
                    mode="lines",
                    name="US average",
                    legendgroup="us",
                    showlegend=first,
                    connectgaps=False,
                    line={"color": t["national_colour"], "width": 1.8, "dash": "dash"},
                    hovertemplate="US, %{x}: %{y:,.1f} per 100,000<extra></extra>",
                ),
                row=row,
                col=col,
            )
        elif measure == "ratio":
            fig.add_trace(
                go.Scatter(
                    x=[year_from - 0.5, year_to + 0.5],
                    y=[1, 1],
                    mode="lines",
                    name="US average (= 1×)",
                    legendgroup="us",
                    showlegend=first,
                    line={"color": t["national_colour"], "width": 1.5, "dash": "dash"},
                    hoverinfo="skip",
                ),
                row=row,
                col=col,
            )
        for announced, short in announcements.get(geoid, []):
            x = announcement_x(announced)
            if year_from <= x <= year_to + 1:
                fig.add_vline(x=x, line={"color": "#2166ac", "width": 1.5, "dash": "dot"}, row=row, col=col)
                fig.add_annotation(
                    x=x,
                    y=1,
                    yref="y domain" if index == 0 else f"y{index + 1} domain",
                    xref="x" if index == 0 else f"x{index + 1}",
                    text=short,
                    showarrow=False,
                    font={"size": 13, "color": "#2166ac"},
                    xanchor="left",
                    yanchor="top",
                )
        breaks_legend_shown |= _add_break_markers(
            fig, city, breaks[breaks["geoid"] == geoid], row, col, show_legend=not breaks_legend_shown
        )
        if rape_linked and year_from < RAPE_DEFINITION_CHANGE_YEAR <= year_to:
            fig.add_vline(
                x=RAPE_DEFINITION_CHANGE_YEAR - 0.5,
                line={"color": "#999999", "width": 1, "dash": "dot"},
                row=row,
                col=col,
            )
    y_title = MEASURE_LABELS[measure].capitalize()
    fig.update_yaxes(range=[0, _y_max(series, us, measure, years)], tickformat=",", gridcolor="#eeeeee")
    fig.update_xaxes(
        range=[year_from - 0.5, year_to + 0.5],
        gridcolor="#f3f3f3",
        dtick=_x_tick_step(year_to - year_from, cols),
    )
    fig.update_yaxes(title_text=y_title, row=1, col=1)
    fig.update_annotations(font_size=15, selector={"text": None})
    for annotation in fig.layout.annotations[: len(geoids)]:
        annotation.font = {"size": 15}
    height = 190 + rows * (240 if rows <= 3 else 200)
    note = "Blue dotted: program announced · ◇ break or caveat (hover) · gaps: no data" + (
        "<br>Grey dotted: FBI rape definition broadened in 2013" if rape_linked else ""
    )
    scope = f"{len(geoids)} cities" if len(geoids) > 1 else labels.get(geoids[0], geoids[0])
    title = f"{offence_label}, {MEASURE_LABELS[measure]}, {year_from}–{year_to}: {scope} vs the US"
    apply_base_layout(fig, title, version, height, note=note)
    plot_height = height - 125 - 115
    fig.update_layout(
        legend={
            "orientation": "h",
            "y": 1 + 38 / plot_height,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
            "font": {"size": 14},
        },
        margin={"t": 125},
    )
    return fig


def _x_tick_step(span: int, cols: int) -> int:
    """Year ticks that stay horizontal in narrow panels."""
    per_panel = span / max(1, 6 - cols)
    return 10 if per_panel > 8 else 5 if span > 12 else 2


def _y_max(series: pd.DataFrame, us: pd.DataFrame, measure: str, years: range) -> float:
    """A shared y range that shows every drawn value (and the 1x line for ratios)."""
    in_range = series[series["year"].between(years.start, years.stop - 1)][measure].astype("Float64")
    values = [float(in_range.max())] if in_range.notna().any() else [0.0]
    if measure == "rate" and us["rate"].notna().any():
        values.append(float(us["rate"].max()))
    if measure == "ratio":
        values.append(1.0)
    return max(values) * 1.08 or 1.0


def _add_break_markers(
    fig: go.Figure, city: pd.DataFrame, breaks: pd.DataFrame, row: int, col: int, show_legend: bool
) -> bool:
    """A diamond at the start of each documented break, hover shows the plain-language note."""
    if breaks.empty:
        return False
    lo, hi = int(city["year"].min()), int(city["year"].max())
    xs, texts = [], []
    for brk in breaks.itertuples():
        start = max(int(brk.year_from), lo)
        if start > min(int(brk.year_to), hi):
            continue
        xs.append(start)
        texts.append(brk.note)
    if not xs:
        return False
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[0] * len(xs),
            mode="markers",
            name="Break or caveat (hover)",
            legendgroup="break",
            showlegend=show_legend,
            marker={"symbol": "diamond-open", "size": 12, "color": "#6a3d9a", "line": {"width": 2}},
            text=texts,
            hovertemplate="%{x}: %{text}<extra></extra>",
            cliponaxis=False,
        ),
        row=row,
        col=col,
    )
    return True
