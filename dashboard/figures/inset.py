"""A small map of one city: its boundary, coloured like the main map, zoomed to fit.

Offline like the main map: ``white-bg`` style, no tiles, no text layers (no glyphs).
Used by briefing mode next to the city's trend.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from dashboard.figures.common import theme


def _positions(geometry: dict):
    """Every (lon, lat) of a Polygon or MultiPolygon."""
    coords = geometry["coordinates"]
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    for polygon in polygons:
        for ring in polygon:
            yield from ((float(p[0]), float(p[1])) for p in ring)


def bounds(geometry: dict) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a feature's geometry."""
    lons, lats = zip(*_positions(geometry), strict=True)
    return min(lons), min(lats), max(lons), max(lats)


def _mercator_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def view_for_bounds(
    box: tuple[float, float, float, float], width: int = 420, height: int = 360, padding: float = 0.12
) -> tuple[dict, float]:
    """Centre and zoom that fit ``box`` in a ``width`` x ``height`` px map (512 px tiles)."""
    west, south, east, north = box
    usable_w, usable_h = width * (1 - 2 * padding), height * (1 - 2 * padding)
    span_x = max(east - west, 1e-4) / 360
    span_y = max(_mercator_y(north) - _mercator_y(south), 1e-6) / (2 * math.pi)
    zoom = min(math.log2(usable_w / (512 * span_x)), math.log2(usable_h / (512 * span_y)))
    mid_y = (_mercator_y(north) + _mercator_y(south)) / 2
    centre = {"lon": (west + east) / 2, "lat": math.degrees(2 * math.atan(math.exp(mid_y)) - math.pi / 2)}
    return centre, round(max(0.0, min(zoom, 14.0)), 2)


def city_inset_spec(
    feature: dict,
    *,
    colour: float | None,
    coloraxis: dict,
    hover: str = "",
    width: int = 420,
    height: int = 360,
    font_size: int = 15,
) -> dict:
    """The inset as plain figure JSON (``{"data", "layout"}``): the city's polygon filled with
    ``colour`` on ``coloraxis``, grey when the value is missing.

    ``colour`` is the main map's colour value (``map.colour_values``) and ``coloraxis`` the
    main map's (``map.coloraxis_for``) so both agree; its colour bar is hidden.
    ``width``/``height`` are the expected size in px, used only to choose the zoom.
    """
    t = theme()
    missing = colour is None or (isinstance(colour, float) and math.isnan(colour))
    fill = t["no_data_colour"] if missing else fill_colour(float(colour), coloraxis)
    trace = {
        "type": "choroplethmap",
        "geojson": {"type": "FeatureCollection", "features": [feature]},
        "featureidkey": "properties.geoid",
        "locations": [str(feature["properties"]["geoid"])],
        # Outlined in its own fill colour: a thick dark outline turned a city's narrow strips (Birmingham's
        # annexation corridors) into black lines that looked like something else.
        "marker": {"opacity": 0.95, "line": {"width": 1, "color": fill}},
        "showlegend": False,
    }
    if hover:
        trace["hovertemplate"] = f"{hover}<extra></extra>"
    else:
        trace["hoverinfo"] = "skip"
    if missing:
        no_data = t["no_data_colour"]
        trace.update(z=[0], colorscale=[[0, no_data], [1, no_data]], zmin=0, zmax=1, showscale=False)
    else:
        trace.update(z=[float(colour)], coloraxis="coloraxis")
    centre, zoom = view_for_bounds(bounds(feature["geometry"]), width, height)
    layout = {
        "coloraxis": {**coloraxis, "showscale": False},
        "map": {"style": "white-bg", "center": centre, "zoom": zoom, "layers": []},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "paper_bgcolor": "white",
        "font": {"family": t["font_family"], "size": font_size},
        "dragmode": False,
    }
    return {"data": [trace], "layout": layout}


def fill_colour(value: float, coloraxis: dict) -> str:
    """The colour ``value`` gets on ``coloraxis`` (clamped to its ends), as plotly.js draws it."""
    low, high = float(coloraxis["cmin"]), float(coloraxis["cmax"])
    fraction = 0.0 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    return sample_colorscale(coloraxis["colorscale"], [fraction])[0]


def build_city_inset(feature: dict, **options) -> go.Figure:
    """:func:`city_inset_spec` as a validated ``go.Figure`` (slower; for exports and tests)."""
    return go.Figure(city_inset_spec(feature, **options))
