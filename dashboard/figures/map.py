"""The choropleth map: city boundaries coloured by the chosen measure for one year.

Geometry is referenced (a URL to the static GeoJSON, or a dict for exports), never rebuilt per
interaction. Every trace keeps a *fixed* list of cities (context cities, program cities), so a
year, offence or measure change only has to replace the colour values and five hover numbers per
city (:func:`map_values`): names, positions and sizes never travel again. That keeps the
recolour response at a few KB (gzip) instead of the ~250 KB a rebuilt figure costs.
Offline by construction: ``white-bg`` style, no tiles, no glyphs (no text layers): place names are
HTML laid over the map by ``assets/atlas.js`` from an invisible trace (:func:`label_values`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from dashboard.figures.common import MEASURE_LABELS, apply_base_layout, theme, wrap_title
from dashboard.figures.map_places import places_trace
from dashboard.schema import FLAG_PREFIX, NOTE_SEPARATOR

RATIO_LOG2_RANGE = 2.0  # colour scale spans 1/4x .. 4x the national rate
(
    TRACE_PLACES,  # issue 13: every other place of the FBI city tables, dots filled in the browser
    TRACE_NO_DATA,
    TRACE_CONTEXT,
    TRACE_PROGRAM,
    TRACE_CONTEXT_MARKERS,
    TRACE_PROGRAM_RINGS,
    TRACE_PROGRAM_MARKERS,
    TRACE_SELECTED,
    TRACE_LABELS,  # issue 18: names of the program sites (drawn as HTML by assets/atlas.js)
    TRACE_SELECTED_LABELS,  # issue 18: names of the selected places (patched with the selection)
) = range(10)
LABEL_TRACE_NAMES = ("Program labels", "Selected labels")
PROGRAM_MARKER_SIZE = 11
PROGRAM_RING_SIZE = 16  # a dark disc under each program marker: its outline at every zoom
GROUPS = {
    "context": (TRACE_CONTEXT, TRACE_CONTEXT_MARKERS),
    "program": (TRACE_PROGRAM, TRACE_PROGRAM_MARKERS),
}
NO_DATA_MARKER_COLOUR = "#a6a6a6"  # plotly.js accepts a colour string inside a colour-scaled array
HOVER_FALLBACK = "no data"  # shown for any missing number (customdata row null)


HOVER_TEMPLATE = (
    "<b>%{text}</b><br>"
    "Rate per 100,000: %{customdata[0]:,.1f}<br>"
    "Offences: %{customdata[1]:,.0f}<br>"
    "Times the US rate: %{customdata[2]:.2f}<br>"
    "Rank by ratio: %{customdata[3]}<br>"
    "Years in a row at or above the ranking threshold: %{customdata[4]}%{hovertext}<extra></extra>"
)
"""One template for every city trace, never patched (year and offence are in the title).

Numbers come from customdata (see :func:`hover_rows`); a city without figures has a null
row, so each number reads "no data" (``hovertemplatefallback``) rather than a zero.
"""


def colour_values(snapshot: pd.DataFrame, measure: str) -> pd.Series:
    """The number each city is coloured by: log2(ratio) for the ratio (centred on 1x)."""
    values = snapshot[measure].astype("Float64")
    if measure == "ratio":
        values = values.where(values > 0)
        return np.log2(values.astype(float)).clip(-RATIO_LOG2_RANGE, RATIO_LOG2_RANGE)
    return values.astype(float)


def coloraxis_for(snapshot: pd.DataFrame, measure: str, scale_values: pd.Series | None = None) -> dict:
    """Diverging, colour-blind-safe scale centred on 1x for ratios; sequential otherwise.

    Rates and counts top out at the 95th percentile of ``scale_values`` (pass every year of the
    offence, as the dashboard does, so a colour means the same number in every year of the
    slider); without it, of the snapshot's year. Scales are spelled out as colour stops: a Patch
    bypasses plotly.py, and plotly.js does not know Python-side names such as "RdBu_r".
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
                # The scale stops at ¼× and 4×: cities beyond are drawn in the end colours, so the end
                # labels say so (murder ratios reach 12×).
                "ticktext": ["≤ ¼×", "½×", "1× (US)", "2×", "≥ 4×"],
                "tickfont": {"size": 14},
                "len": 0.8,
            },
        }
    base = snapshot[measure] if scale_values is None else scale_values
    values = base.astype("Float64").dropna().astype(float)
    top = nice_ceiling(float(np.nanpercentile(values, 95)) if len(values) else 1.0)
    ticks = [top * i / 4 for i in range(5)]
    labels = [f"{v:,.0f}" for v in ticks[:-1]] + [f"≥ {top:,.0f}"]  # higher values get the top colour
    return {
        "colorscale": get_colorscale(t["rate_colorscale"]),
        "cmin": 0,
        "cmax": top,
        "cmid": None,
        "colorbar": {
            "title": title,
            "tickfont": {"size": 14},
            "len": 0.8,
            "tickvals": ticks,
            "ticktext": labels,
        },
    }


PAGE_COLORBAR = {  # the page's legend lies across the top right: the map keeps the whole width (issue 18)
    "orientation": "h",
    "x": 1,
    "xanchor": "right",
    "y": 1,
    "yanchor": "bottom",
    "ypad": 4,
    "lenmode": "pixels",
    "len": 300,
    "thickness": 12,
}


def page_coloraxis(coloraxis: dict) -> dict:
    """A colour axis with the page's horizontal legend (exports and embeds keep the vertical one)."""
    colorbar = {**coloraxis["colorbar"], **PAGE_COLORBAR}
    title = colorbar["title"]
    colorbar["title"] = {**title, "text": title["text"].replace("<br>", " "), "side": "top"}
    return {**coloraxis, "colorbar": colorbar}


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k) at or above ``value``, at
    least 4: the colour scale's top, a number a reader can repeat."""
    value = max(float(value), 4.0)
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * exponent >= value:
            return step * exponent
    return 10 * exponent


def _number(value, decimals: int) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    return int(value) if decimals == 0 else round(float(value), decimals)


PART_YEAR_HOVER = "<br><i>part year ({months} of 12 months): not drawn; count in the table</i>"
FLAG_HOVER = "<br><i>flagged after review: see data notes</i>"
NO_RATE_HOVER = "<br><i>no population in the source, so no rate</i>"


def hover_flag(rec) -> str:
    """The hover's last line for one city-year (the traces' ``hovertext``, patched with the values): part
    year, a flag from the screens' review, a count without a rate, or ""."""
    if bool(getattr(rec, "part_year", False)):
        return PART_YEAR_HOVER.format(months=int(rec.months_reported))
    if pd.notna(rec.count) and pd.isna(rec.rate):
        return NO_RATE_HOVER
    notes = getattr(rec, "notes", None)
    if isinstance(notes, str) and any(p.startswith(FLAG_PREFIX) for p in notes.split(NOTE_SEPARATOR)):
        return FLAG_HOVER
    return ""


def hover_rows(snapshot: pd.DataFrame) -> list[list | None]:
    """Per city: [rate, count, ratio] at the published precision, then [rank, years in a row at or above
    the threshold] when the snapshot has those columns (issue 18); None without a figure (every number
    then reads "no data", the template's fallback). plotly formats a null *inside* a row as 0, so a
    number missing beside others is sent as "" (left blank; :func:`hover_flag` says why).

    Numbers, not text, so the payload stays small and the browser formats them. The US rate
    (one or two values a year) and each figure's source are in the trends chart, the data notes
    and the tables: repeated per city they were half of the payload.
    """
    rows: list[list | None] = []
    has_rank = {"rank", "streak"} <= set(snapshot.columns)
    for rec in snapshot.itertuples():
        numbers = [_number(rec.rate, 1), _number(rec.count, 0), _number(rec.ratio, 2)]
        if all(n is None for n in numbers):
            rows.append(None)
            continue
        if has_rank:  # issue 18: the ranking's rank and run of years, when the view computed them
            numbers += [_number(rec.rank, 0), _number(rec.streak, 0)]
        rows.append(["" if n is None else n for n in numbers])
    return rows


def _colours(colour: pd.Series, measure: str) -> list[float | None]:
    """Colour values rounded to what a colour scale can show (the hover carries exact figures).

    log2 ratios to 0.1 (7% steps of the ratio, 40 steps across the scale); rates and counts
    to two significant figures.
    """
    out: list[float | None] = []
    for v in colour:
        if math.isnan(v):
            out.append(None)
        elif measure == "ratio":
            out.append(round(float(v), 1))
        else:
            rounded = float(f"{v:.2g}")
            out.append(int(rounded) if abs(rounded) >= 10 else rounded)
    return out


def map_values(
    snapshot: pd.DataFrame, measure: str, offence_label: str, year: int, scale_values: pd.Series | None = None
) -> dict:
    """Everything a recolour replaces, per trace: colours, hover numbers, template, colour axis.

    Lists follow the snapshot's fixed order (context cities, then program cities), split by
    group, so they line up with the locations the figure was built with.
    """
    colour = _colours(colour_values(snapshot, measure), measure)
    rows = hover_rows(snapshot)
    flags = [hover_flag(rec) for rec in snapshot.itertuples()]
    program = snapshot["is_program"].astype(bool).tolist()
    values: dict = {
        "no_data_z": [0 if c is None else None for c in colour],
        # the grey layer shows only cities without a colour: only their rows can be hovered
        "no_data_hover": [r if c is None else None for r, c in zip(rows, colour, strict=True)],
        "no_data_flags": [f if c is None else "" for f, c in zip(flags, colour, strict=True)],
        "coloraxis": coloraxis_for(snapshot, measure, scale_values),
    }
    for group, is_program in (("context", False), ("program", True)):
        z = [c for c, p in zip(colour, program, strict=True) if p == is_program]
        values[f"{group}_z"] = z
        values[f"{group}_marker_colour"] = [NO_DATA_MARKER_COLOUR if c is None else c for c in z]
        values[f"{group}_hover"] = [r for r, p in zip(rows, program, strict=True) if p == is_program]
        values[f"{group}_flags"] = [f for f, p in zip(flags, program, strict=True) if p == is_program]
    return values


def map_title(offence_label: str, measure: str, year: int) -> str:
    return wrap_title(f"{offence_label}, {MEASURE_LABELS[measure]}, {year}: program cities outlined")


def selected_values(selected: list[str] | None) -> dict:
    """The blue outline layer: just the selected cities (a selection change patches only this)."""
    locations = list(dict.fromkeys(selected or []))
    return {"locations": locations, "z": [1] * len(locations)}


def label_values(cities: pd.DataFrame, geoids: list[str] | None) -> dict:
    """Positions and names of the places the map names, largest first (``assets/atlas.js`` places them in
    this order, selected places before program sites, and drops a name that would overlap another).

    ``cities`` needs geoid (index), name, lon, lat and population (where missing, order is kept).
    """
    chosen = [g for g in dict.fromkeys(geoids or []) if g in cities.index]
    size = cities["population"].astype("Float64").fillna(0) if "population" in cities else cities["lon"] * 0
    frame = cities.loc[sorted(chosen, key=lambda g: -size[g])]
    return {
        "lon": [round(float(v), 4) for v in frame["lon"]],
        "lat": [round(float(v), 4) for v in frame["lat"]],
        "text": frame["name"].astype(str).tolist(),
    }


def labels_trace(labels: dict, name: str) -> go.Scattermap:
    """Invisible: it only carries the names and positions the page's label layer draws."""
    return go.Scattermap(
        **labels, mode="markers", name=name, visible=False, hoverinfo="skip", showlegend=False
    )


def no_data_style(t: dict) -> dict:
    """The grey "No data" polygons' trace style: shared by the web map and the static export map."""
    return {
        "name": "No data",
        "showscale": False,
        "showlegend": True,
        "colorscale": [[0, t["no_data_colour"]], [1, t["no_data_colour"]]],
        "zmin": 0,
        "zmax": 1,
        "marker": {"opacity": 0.9, "line": {"width": 0.6, "color": "#8c8c8c"}},
    }


def polygon_styles(t: dict) -> dict[str, dict]:
    """Name and outline per polygon group (other cities, program cities), for both maps."""
    return {
        "context": {
            "name": "Other cities (100k+)",
            "marker": {"opacity": 0.55, "line": {"width": 0.3, "color": "#9e9e9e"}},
        },
        "program": {
            "name": "Program cities",
            "marker": {"opacity": 0.95, "line": {"width": 2.2, "color": t["program_outline_colour"]}},
        },
    }


def hover_labels(frame: pd.DataFrame, caveats: dict[str, str] | None) -> list[str]:
    """Each city's name for its hover, with its caveat on a second line where it has one."""
    caveats = caveats or {}
    return [
        f"{label}<br><i>{caveats[geoid]}</i>" if geoid in caveats else label
        for geoid, label in zip(frame["geoid"], frame["label"], strict=True)
    ]


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
    height: int | None = 560,
    scale_values: pd.Series | None = None,
    caveats: dict[str, str] | None = None,
    cities: pd.DataFrame | None = None,
) -> go.Figure:
    """Full map figure (built once per page load; later interactions patch it). ``caveats`` (geoid -> a
    few words) follow a city's name in its hover, e.g. when its figures cover another area than drawn."""
    t = theme()
    values = map_values(snapshot, measure, offence_label, year, scale_values)
    program = snapshot["is_program"].astype(bool)
    groups = {"context": snapshot[~program], "program": snapshot[program]}
    hover = {"hovertemplate": HOVER_TEMPLATE, "hovertemplatefallback": HOVER_FALLBACK}
    geo = {"geojson": geojson, "featureidkey": "properties.geoid"}
    traces: list = [
        places_trace(),
        go.Choroplethmap(
            **geo,
            **hover,
            locations=snapshot["geoid"].tolist(),
            text=hover_labels(snapshot, caveats),
            customdata=values["no_data_hover"],
            hovertext=values["no_data_flags"],
            z=values["no_data_z"],
            **no_data_style(t),
        )
    ]
    polygon_style = polygon_styles(t)
    for group, frame in groups.items():
        traces.append(
            go.Choroplethmap(
                **geo,
                **hover,
                locations=frame["geoid"].tolist(),
                text=hover_labels(frame, caveats),
                customdata=values[f"{group}_hover"],
                hovertext=values[f"{group}_flags"],
                z=values[f"{group}_z"],
                coloraxis="coloraxis",
                showlegend=False,
                **polygon_style[group],
            )
        )
    for group, frame in groups.items():
        if group == "program":  # drawn under the program markers: a dark ring at national zoom
            traces.append(
                go.Scattermap(
                    lon=frame["lon"].tolist(),
                    lat=frame["lat"].tolist(),
                    mode="markers",
                    name="Program city ring",
                    marker={"size": PROGRAM_RING_SIZE, "color": t["program_outline_colour"]},
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        traces.append(
            go.Scattermap(
                **hover,
                lon=frame["lon"].tolist(),
                lat=frame["lat"].tolist(),
                text=hover_labels(frame, caveats),
                customdata=values[f"{group}_hover"],
                hovertext=values[f"{group}_flags"],
                mode="markers",
                name=f"{group.title()} city marker",
                marker={
                    "size": PROGRAM_MARKER_SIZE if group == "program" else 6,
                    "color": values[f"{group}_marker_colour"],
                    "coloraxis": "coloraxis",
                    "opacity": 1.0 if group == "program" else 0.9,
                },
                showlegend=False,
            )
        )
    chosen = selected_values(selected)
    traces.append(
        go.Choroplethmap(
            **geo,
            locations=chosen["locations"],
            z=chosen["z"],
            name="Selected",
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
            showscale=False,
            marker={"line": {"width": 3.5, "color": "#2166ac"}},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    places = snapshot.set_index("geoid", drop=False) if cities is None else cities
    program_sites = places.index[places["is_program"].astype(bool)].tolist()
    for geoids, name in zip((program_sites, selected), LABEL_TRACE_NAMES, strict=True):
        traces.append(labels_trace(label_values(places, geoids), name))
    fig = go.Figure(traces)
    fig.update_layout(
        coloraxis=values["coloraxis"],
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
