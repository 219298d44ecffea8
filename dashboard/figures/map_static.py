"""The map for static exports: the dashboard's choropleth drawn as vector shapes, no WebGL.

The page's map is MapLibre (``choroplethmap``), which a headless browser can only draw through
software WebGL: 5-20 s per image on two cores, and its SVG/PDF is a bitmap inside a wrapper.
This module draws the same picture on a plotly ``geo`` subplot (d3, plain SVG paths): the same
cities, colours, colour bar, legend, title and source line, in an Albers USA projection that
also shows Alaska and Hawaii. SVG and PDF exports are true vector files.

Offline: ``geo.visible`` is off, so plotly.js draws no base layer; the state outlines come from
the dataset's own ``states.geojson``. plotly.js still asks for its USA topojson for any
choropleth on a ``geo`` map; the export page (``exports.GEO_ASSETS_SCRIPT``) holds an empty one,
so nothing is fetched. Pure functions: a year snapshot and features in, figure JSON out.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import apply_base_layout, theme
from dashboard.figures.map import (
    HOVER_FALLBACK,
    HOVER_TEMPLATE,
    NO_DATA_MARKER_COLOUR,
    PROGRAM_MARKER_SIZE,
    _colours,
    colour_values,
    map_title,
    map_values,
    no_data_style,
    polygon_styles,
    selected_values,
)
from dashboard.figures.map_places import PLACES_TRACE_NAME

STATE_FILL = "#ffffff"
STATIC_MARGIN = {"l": 10, "r": 10, "t": 80, "b": 100}  # as the page's map
TOLERANCES = (0.002, 0.005, 0.01, 0.02)  # degrees; one set of thinned shapes is cached for each
PIXEL_FRACTION = 0.35  # thin outlines by at most this much of a pixel (at scale 1; 0.7 at 2x)


def px_per_degree(width: int, height: int) -> float:
    """Pixels per degree of latitude of plotly's Albers USA map in a ``width`` x ``height`` figure.

    plotly fits the USA to the plot area less the colour bar; measured on rendered exports
    (Colorado's height, 600 to 3000 px figures): 0.0418 px per px of plot height, or 0.0214
    per px of plot width beyond 136 px, whichever is smaller.
    """
    plot_w = width - STATIC_MARGIN["l"] - STATIC_MARGIN["r"]
    plot_h = height - STATIC_MARGIN["t"] - STATIC_MARGIN["b"]
    return max(1.0, min(0.0418 * plot_h, 0.0214 * (plot_w - 136)))


def tolerance_for(width: int, height: int) -> float:
    """The thinning tolerance (degrees) for a map of this size: the largest of :data:`TOLERANCES`
    that moves an outline by less than :data:`PIXEL_FRACTION` of a pixel."""
    limit = PIXEL_FRACTION / px_per_degree(width, height)
    return max([t for t in TOLERANCES if t <= limit] or [0.0])


def _signed_area(ring: list) -> float:
    """Twice the planar signed area of a closed ring (lon/lat): > 0 when counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))


def _decimate(ring: list, tolerance: float) -> list:
    """The ring without vertices closer than ``tolerance`` to the last one kept (still closed).

    Radial-distance thinning: the outline moves by less than ``tolerance``, which callers set
    below half an output pixel, so the picture does not change while plotly draws fewer points.
    """
    if tolerance <= 0 or len(ring) <= 4:
        return [list(p) for p in ring]
    limit = tolerance * tolerance
    kept = [list(ring[0])]
    last_x, last_y = ring[0]
    for x, y in ring[1:-1]:
        if (x - last_x) ** 2 + (y - last_y) ** 2 >= limit:
            kept.append([x, y])
            last_x, last_y = x, y
    kept.append(list(ring[-1]))
    return kept


def _wound(ring: list, clockwise: bool) -> list:
    return ring if (_signed_area(ring) < 0) == clockwise else ring[::-1]


def _d3_geometry(geometry: dict, tolerance: float) -> dict | None:
    """``geometry`` thinned to ``tolerance`` degrees, in d3-geo's winding order.

    d3-geo (plotly's ``geo``) reads rings on the sphere and takes the clockwise side as the
    inside: exteriors must run clockwise and holes counter-clockwise, the reverse of GeoJSON
    (RFC 7946), whose rings would fill the whole globe except the city. Rings that thin to
    less than a triangle are dropped; a feature keeps at least its largest part, as it is.
    """
    if geometry.get("type") == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry.get("type") == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return None
    out = []
    for polygon in polygons:
        rings = [_decimate(ring, tolerance) for ring in polygon]
        if len(rings[0]) < 4:
            continue
        holes = [_wound(ring, clockwise=False) for ring in rings[1:] if len(ring) >= 4]
        out.append([_wound(rings[0], clockwise=True), *holes])
    if not out:
        largest = max(polygons, key=lambda p: abs(_signed_area(p[0])) if p and len(p[0]) >= 4 else -1.0)
        if not largest or len(largest[0]) < 4:
            return None
        out = [[_wound([list(p) for p in largest[0]], clockwise=True)]]
    if len(out) == 1:
        return {"type": "Polygon", "coordinates": out[0]}
    return {"type": "MultiPolygon", "coordinates": out}


def d3_features(collection: dict, key: str, tolerance: float = 0.0) -> dict[str, dict]:
    """``key`` -> feature ready for a ``geo`` choropleth, from a GeoJSON FeatureCollection.

    Geometry is thinned to ``tolerance`` degrees (see :func:`tolerance_for`) and wound for
    d3-geo; only ``key`` is kept of the properties. Takes a
    fraction of a second for the whole dataset: build once per dataset, then reuse.
    """
    out: dict[str, dict] = {}
    for feature in collection["features"]:
        geometry = _d3_geometry(feature["geometry"], tolerance)
        if geometry is None:
            continue
        ident = str(feature["properties"][key])
        out[ident] = {"type": "Feature", "properties": {key: ident}, "geometry": geometry}
    return out


def _collection(features: dict[str, dict], ids: Iterable[str]) -> dict:
    return {"type": "FeatureCollection", "features": [features[i] for i in ids if i in features]}


def _keep(values: list, mask: list[bool]) -> list:
    return [v for v, m in zip(values, mask, strict=True) if m]


def dot_sizes(population: pd.Series) -> list[float]:
    """Marker size by population, as the page's dots (``assets/places.js``): 2.5 px to 6 px at 100,000."""
    size = 2 + 1.2 * (population.astype(float) / 10_000) ** 0.5
    return size.clip(2.5, 6).round(1).tolist()


def places_dots(places: pd.DataFrame, measure: str) -> dict:
    """The all-places dots as one scattergeo trace, smallest first so the large draw on top."""
    frame = places.sort_values("population", kind="stable")
    colour = _colours(colour_values(frame, measure), measure)
    colours = [NO_DATA_MARKER_COLOUR if c is None else c for c in colour]
    return {
        "type": "scattergeo",
        "lon": frame["lon"].astype(float).round(3).tolist(),
        "lat": frame["lat"].astype(float).round(3).tolist(),
        "text": frame["label"].tolist(),
        "mode": "markers",
        "name": PLACES_TRACE_NAME,
        "marker": {
            "size": dot_sizes(frame["population"]),
            "color": colours,
            "coloraxis": "coloraxis",
            "line": {"width": 0},
        },
        "hoverinfo": "text",
        "showlegend": True,
    }


def build_static_map(
    snapshot: pd.DataFrame,
    *,
    city_features: dict[str, dict],
    state_features: dict[str, dict],
    measure: str,
    offence_label: str,
    year: int,
    version: str,
    selected: list[str] | None = None,
    height: int = 560,
    scale_values: pd.Series | None = None,
    places: pd.DataFrame | None = None,
) -> dict:
    """The export map as plain figure JSON (``{"data", "layout"}``), ready for plotly.js.

    ``city_features``/``state_features`` come from :func:`d3_features` (by ``geoid`` and by
    state ``name``). Colours, colour axis, hover numbers and the title are the page map's own
    (``figures.map``), so a value has the same colour in the dashboard and in the file.
    Each trace carries only the features it draws (plotly.js parses each trace's GeoJSON).
    ``places`` (label, lon, lat, population and the measure's column) adds the all-places dots of the
    page (issue 13) under the city outlines.
    """
    t = theme()
    values = map_values(snapshot, measure, offence_label, year, scale_values)
    geoids = snapshot["geoid"].astype(str).tolist()
    labels = snapshot["label"].tolist()
    program = snapshot["is_program"].astype(bool).tolist()
    base = {"type": "choropleth", "locationmode": "geojson-id", "featureidkey": "properties.geoid"}
    hover = {"hovertemplate": HOVER_TEMPLATE, "hovertemplatefallback": HOVER_FALLBACK}

    states = sorted(state_features)
    data: list[dict] = [
        {
            "type": "choropleth",
            "locationmode": "geojson-id",
            "featureidkey": "properties.name",
            "geojson": _collection(state_features, states),
            "locations": states,
            "z": [0] * len(states),
            "colorscale": [[0, STATE_FILL], [1, STATE_FILL]],
            "zmin": 0,
            "zmax": 1,
            "showscale": False,
            "showlegend": False,
            "hoverinfo": "skip",
            "name": "States",
            "marker": {"line": {"width": 0.8, "color": t["state_line_colour"]}},
        }
    ]

    if places is not None and len(places):
        data.append(places_dots(places, measure))
    missing = [z is not None for z in values["no_data_z"]]
    no_data_ids = _keep(geoids, missing)
    data.append(
        {
            **base,
            **hover,
            "geojson": _collection(city_features, no_data_ids),
            "locations": no_data_ids,
            "text": _keep(labels, missing),
            "customdata": _keep(values["no_data_hover"], missing),
            "z": [0] * len(no_data_ids),
            **no_data_style(t),
        }
    )
    polygon_style = polygon_styles(t)
    frames = {}
    for group, is_program in (("context", False), ("program", True)):
        mask = [p == is_program for p in program]
        z = values[f"{group}_z"]
        coloured = [v is not None for v in z]
        ids = _keep(_keep(geoids, mask), coloured)
        frames[group] = (mask, coloured)
        data.append(
            {
                **base,
                **hover,
                "geojson": _collection(city_features, ids),
                "locations": ids,
                "text": _keep(_keep(labels, mask), coloured),
                "customdata": _keep(values[f"{group}_hover"], coloured),
                "z": _keep(z, coloured),
                "coloraxis": "coloraxis",
                "showlegend": False,
                **polygon_style[group],
                # thin outlines: at national scale a city's outline is mostly noise, the marker ring says
                # "program city" (a 2 px outline made spiky cities a dark blob)
                "marker": {
                    **polygon_style[group]["marker"],
                    "line": {**polygon_style[group]["marker"]["line"], "width": 0.6},
                },
            }
        )
    lon = snapshot["lon"].astype(float).round(5).tolist()
    lat = snapshot["lat"].astype(float).round(5).tolist()
    for group in ("context", "program"):
        mask, _coloured = frames[group]
        data.append(
            {
                "type": "scattergeo",
                **hover,
                "lon": _keep(lon, mask),
                "lat": _keep(lat, mask),
                "text": _keep(labels, mask),
                "customdata": values[f"{group}_hover"],
                "mode": "markers",
                "name": f"{group.title()} city marker",
                "marker": {
                    "size": PROGRAM_MARKER_SIZE + 2 if group == "program" else 6,
                    "color": values[f"{group}_marker_colour"],
                    "coloraxis": "coloraxis",
                    "opacity": 1.0 if group == "program" else 0.9,
                    # program places ringed in black, as on the page (their outline at national scale)
                    "line": {"width": 2, "color": t["program_outline_colour"]}
                    if group == "program"
                    else {"width": 0},
                },
                "showlegend": False,
            }
        )
    # The selection as blue rings around the cities' markers: a city's own outline in blue, at national
    # scale, turned large spiky cities (Houston) into a blue blob that hid their colour.
    chosen = set(selected_values(selected)["locations"])
    picked = [g in chosen for g in geoids]
    data.append(
        {
            "type": "scattergeo",
            "lon": _keep(lon, picked),
            "lat": _keep(lat, picked),
            "mode": "markers",
            "name": "Selected",
            "marker": {
                "size": PROGRAM_MARKER_SIZE + 9,
                "color": "rgba(0,0,0,0)",
                "line": {"width": 2.5, "color": "#2166ac"},
            },
            "hoverinfo": "skip",
            "showlegend": False,
        }
    )

    frame = go.Figure()
    apply_base_layout(
        frame,
        map_title(offence_label, measure, year),
        version,
        height,
        note="Grey: no data for that year (never zero).",
    )
    layout = frame.to_dict()["layout"]
    layout.update(
        margin=dict(STATIC_MARGIN),
        coloraxis=values["coloraxis"],
        geo={
            "projection": {"type": "albers usa"},
            "scope": "usa",
            "visible": False,
            "bgcolor": "white",
            "domain": {"x": [0, 1], "y": [0, 1]},
        },
        # "No data" under the colour bar (the page's bottom-left corner holds Alaska here)
        legend={"x": 1.02, "xanchor": "left", "y": 0, "yanchor": "bottom", "bgcolor": "rgba(0,0,0,0)"},
    )
    return {"data": data, "layout": layout}
