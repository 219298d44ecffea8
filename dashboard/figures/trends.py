"""Small multiples: each selected city's series against the national series.

Gaps stay gaps (the x axis covers every year; missing years are None and lines do not
connect across them). Program announcements are vertical markers; breaks and
definition changes are footnote markers whose hover text says what changed.

The figure is built as plain figure JSON (what ``make_subplots``, ``add_trace`` and
``add_vline`` would produce, property for property) and wrapped without validation:
plotly's object machinery took over a second for 12 panels, this takes milliseconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import (
    MEASURE_LABELS,
    base_layout,
    figure_from_spec,
    format_value,
    source_annotation,
    theme,
)
from dashboard.figures.trend_layers import EMPTY_PANEL_NOTE, panel_note, peer_trace

RAPE_DEFINITION_CHANGE_YEAR = 2013
HORIZONTAL_SPACING = 0.04
TITLE_FONT = {"size": 15}
ANNOUNCEMENT_COLOUR = "#2166ac"


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


def empty_spec(message: str, version: str, height: int = 300) -> dict:
    """A figure with only a centred message (and the source line), as plain figure JSON."""
    message_annotation = {
        "text": message,
        "x": 0.5,
        "y": 0.5,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "font": {"size": 18, "color": "#444444"},
    }
    layout = {
        "annotations": [message_annotation, source_annotation(version)],
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        **base_layout("", height),
    }
    return {"data": [], "layout": layout}


def empty_figure(message: str, version: str, height: int = 300) -> go.Figure:
    return figure_from_spec(empty_spec(message, version, height))


def _axis_id(letter: str, index: int) -> str:
    """Trace/anchor reference of the ``index``-th (1-based) subplot axis: "x", "x2", ..."""
    return letter if index == 1 else f"{letter}{index}"


def subplot_grid(
    rows: int, cols: int, titles: list[str], vertical_spacing: float, horizontal_spacing: float
) -> dict:
    """Axes and panel titles of ``make_subplots(rows, cols, shared_xaxes="all", shared_yaxes="all")``.

    Same arithmetic as plotly's (top-left start, equal widths and heights), so the domains are
    bit-identical; ``tests/test_figure_specs.py`` compares the two for every grid size we draw.
    Returns ``{"xaxis": ..., "yaxis": ..., ..., "annotations": [titles]}``.
    """
    widths = [(1.0 - horizontal_spacing * (cols - 1)) / cols] * cols
    heights = [(1.0 - vertical_spacing * (rows - 1)) / rows] * rows
    x_starts = [sum(widths[:c]) + c * horizontal_spacing for c in range(cols)]
    # plotly lays rows out bottom-up and numbers them top-down ("top-left" start cell)
    y_starts = [sum(heights[:r]) + r * vertical_spacing for r in range(rows)][::-1]
    shared = (rows - 1) * cols + 1  # every axis matches the bottom-left panel's
    layout: dict = {}
    annotations = []
    for r in range(rows):
        for c in range(cols):
            index = r * cols + c + 1
            x_domain = [x_starts[c] + 0.0, x_starts[c] + widths[c] - 0.0]
            y_domain = [_clamp(y_starts[r] + 0.0), _clamp(y_starts[r] + heights[-1 - r] - 0.0)]
            x_axis = {"anchor": _axis_id("y", index), "domain": x_domain}
            y_axis = {"anchor": _axis_id("x", index), "domain": y_domain}
            if index != shared:
                x_axis["matches"] = _axis_id("x", shared)
                y_axis["matches"] = _axis_id("y", shared)
                if r < rows - 1:
                    x_axis["showticklabels"] = False
                if c > 0:
                    y_axis["showticklabels"] = False
            layout[f"xaxis{index if index > 1 else ''}"] = x_axis
            layout[f"yaxis{index if index > 1 else ''}"] = y_axis
            if index <= len(titles) and titles[index - 1]:
                annotations.append(
                    {
                        "font": dict(TITLE_FONT),
                        "showarrow": False,
                        "text": titles[index - 1],
                        "x": sum(x_domain) / 2.0,
                        "xanchor": "center",
                        "xref": "paper",
                        "y": y_domain[1],
                        "yanchor": "bottom",
                        "yref": "paper",
                    }
                )
    layout["annotations"] = annotations
    return layout


def _clamp(value: float) -> float:
    """plotly's snap of domain ends that float noise pushed just outside [0, 1]."""
    if -0.01 < value < 0.0:
        return 0.0
    if 1.0 < value < 1.01:
        return 1.0
    return value


def _panel_values(series: pd.DataFrame, geoids: list[str], measure: str, years: range) -> dict[str, list]:
    """geoid -> the measure for every year of ``years`` (NaN where missing), in one pass over the rows."""
    wanted = series[series["year"].between(years.start, years.stop - 1) & series["geoid"].isin(geoids)]
    if "part_year" in wanted:  # a part-year count is a gap on the line (kept in the table and CSV)
        wanted = wanted[~wanted["part_year"].astype(bool)]
    grid = {g: [math.nan] * len(years) for g in geoids}
    values = wanted[measure].to_numpy(dtype=float, na_value=np.nan).tolist()
    for geoid, year, value in zip(wanted["geoid"].tolist(), wanted["year"].tolist(), values, strict=True):
        grid[geoid][year - years.start] = value
    return grid


def _nullable(values: list[float]) -> list[float | None]:
    return [None if v != v else v for v in values]  # NaN is the only value not equal to itself


def _vline(x: float, index: int, line: dict) -> dict:
    """What ``fig.add_vline(x, line=line, row=, col=)`` adds for the ``index``-th panel."""
    return {
        "line": dict(line),
        "type": "line",
        "x0": x,
        "x1": x,
        "xref": _axis_id("x", index),
        "y0": 0,
        "y1": 1,
        "yref": f"{_axis_id('y', index)} domain",
    }


def trends_spec(
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
    extra_note: str = "",
    panel_notes: dict[str, str] | None = None,
) -> dict:
    """:func:`build_trends_figure` as plain figure JSON. ``panel_notes`` (geoid -> a few words) are
    written inside a city's panel, e.g. when its figures cover another area than the city."""
    if not geoids:
        return empty_spec("Select cities on the map or in the city list to compare their trends.", version)
    t = theme()
    years = range(year_from, year_to + 1)
    year_list = list(years)
    rows, cols = grid_shape(len(geoids))
    layout = subplot_grid(
        rows,
        cols,
        [labels.get(g, g) for g in geoids],
        vertical_spacing=min(0.12, 0.35 / rows),
        horizontal_spacing=HORIZONTAL_SPACING,
    )
    annotations: list[dict] = layout["annotations"]
    shapes: list[dict] = []
    data: list[dict] = []
    us = national.set_index("year")["rate"].reindex(year_list)
    us_y = _nullable(us.to_numpy(dtype=float, na_value=np.nan).tolist())
    values = _panel_values(series, geoids, measure, years)
    breaks_by_city: dict[str, list[tuple[int, int, str]]] = {}
    for brk in breaks[breaks["geoid"].isin(geoids)].itertuples():
        breaks_by_city.setdefault(brk.geoid, []).append((int(brk.year_from), int(brk.year_to), brk.note))
    city_name = f"City ({MEASURE_LABELS[measure]})"
    breaks_legend_shown = False
    peer_legend_shown = False
    for position, geoid in enumerate(geoids):
        index = position + 1
        axes = {"xaxis": _axis_id("x", index), "yaxis": _axis_id("y", index)}
        first = position == 0
        label = labels.get(geoid, geoid)
        panel = values[geoid]
        data.append(
            {
                "connectgaps": False,
                "customdata": [[label, format_value(v, measure)] for v in panel],
                "hovertemplate": "%{customdata[0]}, %{x}: %{customdata[1]}<extra></extra>",
                "legendgroup": "city",
                "line": {"color": t["city_colour"], "width": 2.6},
                "marker": {"size": 5},
                "mode": "lines+markers",
                "name": city_name,
                "showlegend": first,
                "x": list(year_list),
                "y": _nullable(panel),
                "type": "scatter",
                **axes,
            }
        )
        if measure == "rate" and "peer_rate" in series:
            peer = peer_trace(series, geoid, years, show_legend=first and not peer_legend_shown, axes=axes)
            if peer is not None:
                data.append(peer)
                peer_legend_shown = True
        if measure == "rate":
            data.append(
                {
                    "connectgaps": False,
                    "hovertemplate": "US, %{x}: %{y:,.1f} per 100,000<extra></extra>",
                    "legendgroup": "us",
                    "line": {"color": t["national_colour"], "dash": "dash", "width": 1.8},
                    "mode": "lines",
                    "name": "US average",
                    "showlegend": first,
                    "x": list(year_list),
                    "y": list(us_y),
                    "type": "scatter",
                    **axes,
                }
            )
        elif measure == "ratio":
            data.append(
                {
                    "hoverinfo": "skip",
                    "legendgroup": "us",
                    "line": {"color": t["national_colour"], "dash": "dash", "width": 1.5},
                    "mode": "lines",
                    "name": "US average (= 1×)",
                    "showlegend": first,
                    "x": [year_from - 0.5, year_to + 0.5],
                    "y": [1, 1],
                    "type": "scatter",
                    **axes,
                }
            )
        for announced, short in announcements.get(geoid, []):
            x = announcement_x(announced)
            if year_from <= x <= year_to + 1:
                shapes.append(_vline(x, index, {"color": ANNOUNCEMENT_COLOUR, "dash": "dot", "width": 1.5}))
                annotations.append(
                    {
                        "font": {"color": ANNOUNCEMENT_COLOUR, "size": 13},
                        "showarrow": False,
                        "text": short,
                        "x": x,
                        "xanchor": "left",
                        "xref": axes["xaxis"],
                        "y": 1,
                        "yanchor": "top",
                        "yref": f"{axes['yaxis']} domain",
                    }
                )
        note = (panel_notes or {}).get(geoid, "")
        empty = all(math.isnan(v) for v in panel)
        if note or empty:
            annotations.append(panel_note(note or EMPTY_PANEL_NOTE, axes, centred=empty))
        markers = _break_markers(breaks_by_city.get(geoid, []), year_from, year_to)
        if markers is not None:
            markers.update(showlegend=not breaks_legend_shown, **axes)
            data.append(markers)
            breaks_legend_shown = True
        if rape_linked and year_from < RAPE_DEFINITION_CHANGE_YEAR <= year_to:
            shapes.append(
                _vline(
                    RAPE_DEFINITION_CHANGE_YEAR - 0.5, index, {"color": "#999999", "dash": "dot", "width": 1}
                )
            )
    y_max = _y_max(series, us.to_frame(), measure, years)
    x_tick = _x_tick_step(year_to - year_from, cols)
    for key, axis in layout.items():
        if key.startswith("yaxis"):
            axis.update(gridcolor="#eeeeee", range=[0, y_max], tickformat=",")
        elif key.startswith("xaxis"):
            axis.update(dtick=x_tick, gridcolor="#f3f3f3", range=[year_from - 0.5, year_to + 0.5])
    if measure == "count":
        _own_count_axes(layout, geoids, values)
    layout["yaxis"]["title"] = {"text": MEASURE_LABELS[measure].capitalize()}
    height = 190 + rows * (240 if rows <= 3 else 200)
    note = "Blue dotted: program announced · ◇ break or caveat (hover) · gaps: no data" + (
        "<br>Grey dotted: FBI rape definition broadened in 2013" if rape_linked else ""
    )
    if measure == "count" and len(geoids) > 1:
        note += "<br>Counts: each panel has its own scale (cities differ in size); compare rates or ratios."
    if extra_note:  # coverage per year and the US estimate's caveats (views/trends.py, issue 12)
        note += f"<br>{extra_note}"
    scope = f"{len(geoids)} cities" if len(geoids) > 1 else labels.get(geoids[0], geoids[0])
    title = f"{offence_label}, {MEASURE_LABELS[measure]}, {year_from}–{year_to}: {scope} vs the US"
    layout.update(base_layout(title, height))
    annotations.append(source_annotation(version, note))
    plot_height = height - 125 - 115
    layout["legend"] = {
        "font": {"size": 14},
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "y": 1 + 38 / plot_height,
        "yanchor": "bottom",
    }
    layout["margin"]["t"] = 125
    if shapes:
        layout["shapes"] = shapes
    return {"data": data, "layout": layout}


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
    extra_note: str = "",
) -> go.Figure:
    """One panel per city (shared axes). ``series`` comes from ``data.city_series``."""
    return figure_from_spec(
        trends_spec(
            series,
            national,
            geoids=geoids,
            labels=labels,
            measure=measure,
            offence_label=offence_label,
            rape_linked=rape_linked,
            year_from=year_from,
            year_to=year_to,
            announcements=announcements,
            breaks=breaks,
            version=version,
            extra_note=extra_note,
        )
    )


def _own_count_axes(layout: dict, geoids: list[str], values: dict[str, list]) -> None:
    """Counts get one y scale per panel: on Houston's scale, Jackson's or Lansing's counts sit flat at
    zero (issue 17 item 10). Rates and ratios keep the shared scale that makes panels comparable."""
    for position, geoid in enumerate(geoids):
        axis = layout[f"yaxis{position + 1 if position else ''}"]
        axis.pop("matches", None)
        axis["showticklabels"] = True
        drawn = [v for v in values[geoid] if not math.isnan(v)]
        axis["range"] = [0, (max(drawn) * 1.08) if drawn and max(drawn) > 0 else 1.0]


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


def _break_markers(breaks: list[tuple[int, int, str]], year_from: int, year_to: int) -> dict | None:
    """A diamond at the start of each documented break in the shown years; hover gives the note."""
    xs, texts = [], []
    for start, end, note in breaks:
        start = max(start, year_from)
        if start > min(end, year_to):
            continue
        xs.append(start)
        texts.append(note)
    if not xs:
        return None
    return {
        "cliponaxis": False,
        "hovertemplate": "%{x}: %{text}<extra></extra>",
        "legendgroup": "break",
        "marker": {"color": "#6a3d9a", "line": {"width": 2}, "size": 12, "symbol": "diamond-open"},
        "mode": "markers",
        "name": "Break or caveat (hover)",
        "text": texts,
        "x": xs,
        "y": [0] * len(xs),
        "type": "scatter",
    }
