"""Checks for the boundary files: GeoJSON structure, rings, properties."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboard.data.validate.readers import _is_number, parse_json, read_text
from dashboard.data.validate.rules import GEOID_PATTERN
from dashboard.errors import DataFileError

STATEFP_PATTERN = re.compile(r"^\d{2}$")
USPS_PATTERN = re.compile(r"^[A-Z]{2}$")
CITY_PROPERTIES = ("geoid", "name", "state", "label", "population", "land_km2", "lon", "lat")
STATE_PROPERTIES = ("statefp", "state", "name")


# ----------------------------------------------------------------------------------------------------
# GeoJSON
# ----------------------------------------------------------------------------------------------------


def _feature_lines(text: str, count: int) -> list[int | None]:
    """File line of each feature when the file has the pipeline's one-feature-per-line layout."""
    lines = text.split("\n")
    if len(lines) == count + 3 and lines[-1] == "" and all(line.startswith("{") for line in lines[1:-2]):
        return list(range(2, count + 2))
    return [None] * count


_NUMBER_TYPES = (int, float)


def _in_feature(error: DataFileError, text: str, key: str | None) -> DataFileError:
    """Add "feature N (key value)" to a JSON-level error on a line that holds one whole feature."""
    lines = text.split("\n")
    if error.line is None or not 2 <= error.line <= len(lines) or not lines[0].endswith('"features":['):
        return error
    line = lines[error.line - 1]
    if not line.startswith('{"'):
        return error
    match = re.search(r'"' + re.escape(key or "") + r'":"?([^",}]*)', line) if key else None
    name = f"feature {error.line - 1}" + (f" ({key} {match[1]})" if match else "")
    return DataFileError(error.path, f"{name}: {error.problem}", error.line)


def _check_ring(ring: Any) -> str | None:
    """A closed ring of at least 4 [lon, lat] positions with finite, in-range numbers.

    Written as one tight loop: cities.geojson has ~100,000 positions and this runs at start-up.
    NaN fails every comparison and infinity fails the range test, so both are caught.
    """
    if not isinstance(ring, list) or len(ring) < 4:
        return "a polygon ring needs at least 4 positions"
    for position in ring:
        if (
            type(position) is not list
            or not 2 <= len(position) <= 3
            or type(position[0]) not in _NUMBER_TYPES
            or type(position[1]) not in _NUMBER_TYPES
            or not -180 <= position[0] <= 180
            or not -90 <= position[1] <= 90
        ):
            return f"invalid coordinate {str(position)[:60]} (needs finite [lon, lat] in degrees)"
    if ring[0] != ring[-1]:
        return "a polygon ring is not closed (first and last positions differ)"
    return None


def _check_polygon(rings: Any) -> str | None:
    if not isinstance(rings, list) or not rings:
        return "a polygon must be a non-empty list of rings"
    for ring in rings:
        problem = _check_ring(ring)
        if problem:
            return problem
    return None


def check_geometry(geometry: Any) -> str | None:
    """The problem with a Polygon/MultiPolygon geometry, or None when it is usable for the map."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "has no polygon geometry"
    coordinates = geometry.get("coordinates")
    if geometry["type"] == "Polygon":
        return _check_polygon(coordinates)
    if not isinstance(coordinates, list) or not coordinates:
        return "a MultiPolygon needs at least one polygon"
    for polygon in coordinates:
        problem = _check_polygon(polygon)
        if problem:
            return problem
    return None


def load_feature_collection(
    path: Path, required: Sequence[str], key: str | None = None
) -> tuple[dict, list[int | None]]:
    """A GeoJSON FeatureCollection whose features all carry the required properties and polygons.

    ``key`` names the identifying property (unique, reported with the feature number in errors).
    Returns the collection and the file line of each feature (None when not one per line).
    """
    path = Path(path)
    text = read_text(path)
    try:
        collection = parse_json(text, path)
    except DataFileError as exc:
        raise _in_feature(exc, text, key) from exc.__cause__
    if (
        not isinstance(collection, dict)
        or collection.get("type") != "FeatureCollection"
        or not isinstance(collection.get("features"), list)
    ):
        raise DataFileError(path, "is not a GeoJSON FeatureCollection")
    features = collection["features"]
    if not features:
        raise DataFileError(path, "has no features")
    lines = _feature_lines(text, len(features))
    seen: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        line = lines[number - 1]
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise DataFileError(path, f"feature {number} has no properties object", line)
        name = f"feature {number}" + (f" ({key} {props.get(key)})" if key and key in props else "")
        missing = [k for k in required if k not in props]
        if missing:
            raise DataFileError(path, f"{name} lacks properties: {', '.join(missing)}", line)
        problem = check_geometry(feature.get("geometry"))
        if problem:
            raise DataFileError(path, f"{name}: {problem}", line)
        if key:
            value = str(props[key])
            if value in seen:
                raise DataFileError(path, f"{name} repeats the {key} of feature {seen[value]}", line)
            seen[value] = number
    return collection, lines


def _bad_city_property(props: dict[str, Any]) -> str | None:
    if not isinstance(props["geoid"], str) or not GEOID_PATTERN.match(props["geoid"]):
        return f"geoid must be a 7-digit (place) or 5-digit (county) string, found {props['geoid']!r}"
    for text_key in ("name", "label"):
        if not isinstance(props[text_key], str) or not props[text_key].strip():
            return f"{text_key!r} must be a non-empty string, found {props[text_key]!r}"
    if not isinstance(props["state"], str) or not USPS_PATTERN.match(props["state"]):
        return f"'state' must be a USPS code like 'TN', found {props['state']!r}"
    population = props["population"]
    if population is not None and (not _is_number(population) or population < 0 or population % 1):
        return f"'population' must be a whole number or null, found {population!r}"
    if not _is_number(props["land_km2"]) or props["land_km2"] < 0:
        return f"'land_km2' must be a non-negative number, found {props['land_km2']!r}"
    if not (_is_number(props["lon"]) and -180 <= props["lon"] <= 180):
        return f"'lon' must be a longitude, found {props['lon']!r}"
    if not (_is_number(props["lat"]) and -90 <= props["lat"] <= 90):
        return f"'lat' must be a latitude, found {props['lat']!r}"
    return None


def load_cities(path: Path) -> tuple[dict, dict[str, tuple[int, int | None]]]:
    """cities.geojson: one feature per city with valid attributes, polygons and unique geoids.

    Returns the collection and geoid -> (feature number, file line) for later cross-file messages.
    """
    path = Path(path)
    collection, lines = load_feature_collection(path, CITY_PROPERTIES, key="geoid")
    where: dict[str, tuple[int, int | None]] = {}
    for number, feature in enumerate(collection["features"], start=1):
        props = feature["properties"]
        problem = _bad_city_property(props)
        if problem:
            raise DataFileError(
                path, f"feature {number} (geoid {props['geoid']}): {problem}", lines[number - 1]
            )
        where[props["geoid"]] = (number, lines[number - 1])
    return collection, where


def load_states(path: Path) -> dict:
    """states.geojson: the backdrop outlines, one feature per state FIPS code."""
    path = Path(path)
    collection, lines = load_feature_collection(path, STATE_PROPERTIES, key="statefp")
    for number, feature in enumerate(collection["features"], start=1):
        props = feature["properties"]
        if not isinstance(props["statefp"], str) or not STATEFP_PATTERN.match(props["statefp"]):
            problem = f"'statefp' must be a 2-digit string, found {props['statefp']!r}"
        elif not isinstance(props["state"], str) or not USPS_PATTERN.match(props["state"]):
            problem = f"'state' must be a USPS code, found {props['state']!r}"
        else:
            continue
        raise DataFileError(
            path, f"feature {number} (statefp {props['statefp']}): {problem}", lines[number - 1]
        )
    return collection
