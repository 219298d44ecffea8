"""The outcomes chart: each site's violent crime rate against its comparison, by years since joining.

Pure: rows of ``geodata/outcomes.csv`` in, plain figure JSON out (like ``figures/trends.py``). One panel
per site; its title carries the verdict, so a panel is never read without it. The comparison is drawn
dashed and grey (it is an estimate, not a place); year 0 is dotted (the partnership started partway
through it).
"""

from __future__ import annotations

import math

import pandas as pd

from dashboard.figures.common import base_layout, figure_from_spec, source_annotation, theme
from dashboard.figures.outcomes_layers import (
    Regression,
    band_top,
    placebo_band,
    regression_heading,
    regression_panel,
    y_top,
)
from dashboard.figures.trends import ANNOUNCEMENT_COLOUR, empty_spec, grid_shape, subplot_grid

PANEL_HEIGHT = 200  # px per row of panels
VERTICAL_SPACING_PX = 84  # room for the x ticks and a two-line panel title
MAX_COLUMNS = 3  # a panel title carries the verdict: four across leaves it no room
NOTE_LINE_PX = 19
RTM_HEIGHT = 210  # px of the regression-to-the-mean panel (the first one, full width)
RTM_BLOCK_PX = RTM_HEIGHT + 190  # it, its x axis title, the grid's heading and legend
RTM_LEGEND_PX = 30  # its heading sits above its legend
TOP_MARGIN, RTM_TOP_MARGIN = 140, 136  # without / with the first panel (its two-line heading, legend)
GRID_HEADING_PX = 100  # the grid's heading above the grid's legend
COMPARISON_COLOUR = "#6b6b6b"
VERDICT_COLOURS = {  # a claim is coloured; "no claim" is grey, so colour never suggests an effect
    "below comparison": "#1a7837",
    "above comparison": "#b2182b",
    "no clear difference": "#333333",
}
METHOD_NOTE = "<br>".join(
    (
        "Comparison: a weighted mix of up to 40 places of 100,000+ people in no program that followed the",
        "site before it joined (synthetic control). Grey band: the same test run on each comparison place as",
        "if it had joined; 90% of them stayed inside it. “Below” or “above” only when the site's gap after",
        "joining is larger than for at least 90% of those places (the rank); no claim when the comparison",
        "did not follow the site before joining, or with under 3 years of data since. Top panel: medians of",
        "the sites and of the places in no program at or above the threshold in the latest FBI year then.",
        "This shows what happened beside similar places, not what caused it. 2020: no FBI city table.",
    )
)


def verdict_text(verdict: str, rank: object, count: object) -> str:
    """The panel's second title line: the verdict, and the placebo rank when one was run."""
    if pd.isna(rank) or pd.isna(count):
        return verdict
    return f"{verdict}, rank {int(rank)}/{int(count) + 1}"


def _values(frame: pd.DataFrame, column: str) -> list[float | None]:
    return [
        None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in frame[column]
    ]


def outcomes_spec(
    rows: pd.DataFrame,
    *,
    title: str,
    version: str,
    note: str = "",
    empty_message: str = "",
    regression: Regression | None = None,
) -> dict:
    """Small multiples from ``rows`` (outcomes.csv columns; one site = one geoid, in the order given),
    under the regression-to-the-mean panel when ``regression`` has a curve."""
    if rows.empty:
        return empty_spec(empty_message or "No PSP site in this view has an outcomes comparison.", version)
    t = theme()
    panels = dict(list(rows.groupby("geoid", sort=False)))  # in the order given
    sites = list(panels)
    n_rows, cols = grid_shape(len(sites))
    if cols > MAX_COLUMNS:
        cols = MAX_COLUMNS
        n_rows = math.ceil(len(sites) / cols)
    grid_height = n_rows * PANEL_HEIGHT + (n_rows - 1) * VERTICAL_SPACING_PX
    top_px = RTM_BLOCK_PX if regression is not None and not regression.curve.empty else 0
    plot_height = grid_height + top_px
    grid_share = grid_height / plot_height
    vertical = VERTICAL_SPACING_PX / grid_height if n_rows > 1 else 0.0
    firsts = [panels[g].iloc[0] for g in sites]
    titles = []
    for first in firsts:
        colour = VERDICT_COLOURS.get(first["verdict"], "#777777")
        words = verdict_text(first["verdict"], first["placebo_rank"], first["placebo_count"])
        titles.append(f"<b>{first['site']}</b><br><span style='color:{colour};font-size:13px'>{words}</span>")
    layout = subplot_grid(n_rows, cols, titles, vertical, 0.05)
    for key, axis in layout.items():  # the grid fills the plot area below the first panel
        if key.startswith("yaxis"):
            axis["domain"] = [d * grid_share for d in axis["domain"]]
    for annotation in layout["annotations"]:
        annotation["y"] *= grid_share
    data, shapes = [], []
    x_all = rows["years_since_joining"].astype(int)
    x_range = [int(x_all.min()) - 0.5, int(x_all.max()) + 0.5]
    y_top = max(band_top(rows), float(pd.concat([rows["value"], rows["comparison_value"]]).max(skipna=True)))
    y_max = (y_top or 1.0) * 1.08
    banded = False
    for index, geoid in enumerate(sites, start=1):
        site = panels[geoid].sort_values("year")
        x = site["years_since_joining"].astype(int).tolist()
        axes = {"xaxis": "x" if index == 1 else f"x{index}", "yaxis": "y" if index == 1 else f"y{index}"}
        band = placebo_band(site, axes, not banded)
        if band is not None:
            data.append(band)
            banded = True
        hover = "%{customdata}: %{y:,.1f} per 100,000<extra>%{fullData.name}</extra>"
        years = site["year"].astype(int).tolist()
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Site",
                "legendgroup": "site",
                "showlegend": index == 1,
                "x": x,
                "y": _values(site, "value"),
                "customdata": years,
                "hovertemplate": hover,
                "line": {"color": t["city_colour"], "width": 2.6},
                "marker": {"size": 4},
                **axes,
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",  # markers: a year between two gaps still shows
                "name": "Comparison (places not chosen)",
                "legendgroup": "comparison",
                "showlegend": index == 1,
                "x": x,
                "y": _values(site, "comparison_value"),
                "customdata": years,
                "hovertemplate": hover,
                "line": {"color": COMPARISON_COLOUR, "dash": "dash", "width": 2},
                "marker": {"size": 3},
                **axes,
            }
        )
        shapes.append(
            {
                "type": "line",
                "x0": 0,
                "x1": 0,
                "xref": axes["xaxis"],
                "y0": 0,
                "y1": 1,
                "yref": f"{axes['yaxis']} domain",
                "line": {"color": ANNOUNCEMENT_COLOUR, "dash": "dot", "width": 1.5},
            }
        )
    for key, axis in layout.items():
        if key.startswith("xaxis"):
            axis.update(range=x_range, dtick=5, tick0=0, tickangle=0, gridcolor="#f3f3f3")
        elif key.startswith("yaxis"):
            axis.update(range=[0, y_max], tickformat=",", gridcolor="#eeeeee")
    bottom = layout.get(f"xaxis{(n_rows - 1) * cols + 1 if n_rows > 1 else ''}")
    if bottom is not None:
        bottom["title"] = {"text": "Years since joining (0 = announced)", "font": {"size": 14}}
    first_y = layout.get(f"yaxis{(n_rows - 1) * cols + 1 if n_rows > 1 else ''}")
    if first_y is not None:
        first_y["title"] = {"text": "per 100,000", "font": {"size": 14}}
    annotations = list(layout["annotations"])
    legend_px = 62  # above the first row's two-line panel titles
    if top_px:
        extra = _with_regression(
            regression, len(sites) + 1, x_range, t["city_colour"], grid_share, plot_height
        )
        data += extra["data"]
        shapes += extra["shapes"]
        annotations += extra["annotations"]
        layout.update(extra["layout"])
    full_note = f"{METHOD_NOTE}<br>{note}" if note else METHOD_NOTE
    extra_lines = full_note.count("<br>") + 3  # + the citation and dataset lines
    bottom_px = 90 + NOTE_LINE_PX * extra_lines
    top_margin = RTM_TOP_MARGIN if top_px else TOP_MARGIN
    spec_layout = base_layout(title, plot_height + top_margin + bottom_px)
    spec_layout["margin"] = {"l": 70, "r": 30, "t": top_margin, "b": bottom_px}
    spec_layout.update(layout)
    source = source_annotation(version, f"<br>{full_note}")  # the method starts on its own line
    source["yshift"] = -72  # below the x-axis title
    spec_layout["annotations"] = [*annotations, source]
    spec_layout["shapes"] = shapes
    spec_layout["legend"] = {
        "orientation": "h",
        "x": 0,
        "y": grid_share + legend_px / plot_height,
        "yanchor": "bottom",
        "font": {"size": 14},
    }
    spec_layout["hovermode"] = "closest"
    return {"data": data, "layout": spec_layout}


def _with_regression(
    regression: Regression, index: int, x_range: list[float], colour: str, grid_share: float, plot_height: int
) -> dict:
    """The first panel on axes number ``index``, in the top ``RTM_HEIGHT`` px, with its heading and legend."""
    axes = {"xaxis": f"x{index}", "yaxis": f"y{index}"}
    data, shapes, annotations = regression_panel(regression, axes, colour)
    top_share = 1 - RTM_HEIGHT / plot_height
    y_axis = {
        "anchor": axes["xaxis"],
        "domain": [top_share, 1.0],
        "range": [0, y_top(regression.curve, regression.threshold)],
        "gridcolor": "#eeeeee",
        "title": {"text": "× US rate", "font": {"size": 14}},
        "ticksuffix": "×",
    }
    x_axis = {
        "anchor": axes["yaxis"],
        "domain": [0.0, 1.0],
        "range": x_range,
        "dtick": 1,
        "tick0": 0,
        "gridcolor": "#f3f3f3",
        "title": {"text": "Years since joining", "font": {"size": 14}, "standoff": 4},
    }
    heading = regression_heading(1 + RTM_LEGEND_PX / plot_height, regression.selection_label)
    grid_heading = {
        **regression_heading(grid_share + GRID_HEADING_PX / plot_height, ""),
        "text": "<b>Each site against its comparison</b>: a weighted mix of places not chosen that followed "
        "the site before it joined",
    }
    return {
        "data": data,
        "shapes": shapes,
        "annotations": [*annotations, heading, grid_heading],
        "layout": {
            f"xaxis{index}": x_axis,
            f"yaxis{index}": y_axis,
            "legend2": {
                "orientation": "h",
                "x": 0,
                "y": 1 + 4 / plot_height,
                "yanchor": "bottom",
                "font": {"size": 14},
            },
        },
    }


def outcomes_figure(rows: pd.DataFrame, *, title: str, version: str, note: str = ""):
    """``outcomes_spec`` as a ``go.Figure`` (unvalidated, as the trends chart is)."""
    return figure_from_spec(outcomes_spec(rows, title=title, version=version, note=note))


def regression_spec(regression: Regression, *, version: str, note: str = "") -> dict:
    """The first panel alone (present mode's outcomes slide): the sites against the places as violent when
    they were picked that were never chosen."""
    t = theme()
    data, shapes, annotations = regression_panel(regression, {"xaxis": "x", "yaxis": "y"}, t["city_colour"])
    layout = base_layout("", 420)
    layout.update(
        xaxis={
            "title": {"text": "Years since joining (0 = announced)"},
            "dtick": 2,
            "tick0": 0,
            "gridcolor": "#f3f3f3",
        },
        yaxis={
            "title": {"text": "× US rate"},
            "range": [0, y_top(regression.curve, regression.threshold)],
            "ticksuffix": "×",
            "gridcolor": "#eeeeee",
        },
        legend2={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        shapes=shapes,
        annotations=[*annotations, source_annotation(version, note)],
        hovermode="closest",
    )
    return {"data": data, "layout": layout}
