"""The all-places map layer's data (issue 13): one JSON per offence, fetched once, recoloured in the browser.

The map's polygons (the cities of 100,000+ and the program sites) are patched by the server; the ~9,000 other
places of the FBI city tables are dots, and changing year, offence, measure or population floor recolours
them in the browser (``assets/places.js``) from this file, so a year step sends no place data at all. The
file is served at ``/data/places/<offence>.json?v=<data version>`` (cached for a year by the browser), and
only when a view asks for places under 100,000: the default view never downloads it.

Shape (columns, not records: it compresses to a third)::

    {"offence": ..., "years": [2010, ...], "names": [...], "lon": [...], "lat": [...],
     "groups": [["250k+", 250000], ..., ["under-10k", 0]], "ratio_log2_range": 2.0,
     "peer": {"2010": {"10k-25k": 261.6, ...}, ...},
     "values": {"2010": {"i": [place index...], "c": [count...], "p": [population...],
                         "x": [ratio to national x 100...]}, ...}}

Rates and ratios to peers are derived in the browser exactly as ``data/measures.py`` does (rate = count x
100,000 / population, rounded to 0.1; ratio to peers = rate / peer rate, rounded to 0.01); the ratio to the
national rate comes from the server, which matches each row to the national figure of its rape definition.
The population groups (``schema.PEER_GROUPS``) and the colour scale's span (``figures.map``) travel in the
file, so the browser never keeps a copy of either.
"""

from __future__ import annotations

import json
from functools import lru_cache

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.places import DEFAULT_MINPOP, table_years
from dashboard.data.queries import every_place_series
from dashboard.figures.map import RATIO_LOG2_RANGE
from dashboard.schema import PEER_GROUPS


def _int_list(values: pd.Series) -> list[int | None]:
    return [None if pd.isna(v) else int(v) for v in values]


def _scales() -> dict:
    """What the browser needs to group and colour a dot: each FBI population group with its lowest
    population (largest first), and the ratio colour scale's span in log2 (1/4x .. 4x)."""
    groups = sorted(((group, low) for group, _label, low, _high, _fbi in PEER_GROUPS), key=lambda g: -g[1])
    return {"groups": [list(g) for g in groups], "ratio_log2_range": RATIO_LOG2_RANGE}


@lru_cache(maxsize=16)
def dot_rows(dataset: Dataset, offence: str) -> pd.DataFrame:
    """The place-years drawn as dots, whatever the view: a place with a point that is not a city outline,
    in a city-table year, with a population. The page's layer file and the server-drawn maps (exports,
    embeds) both start here. Cached: do not mutate."""
    series = every_place_series(dataset, offence)
    dot = series["on_map"] & ~series["geoid"].isin(set(dataset.cities.index))
    dot &= series["year"].isin(table_years(dataset)) & series["population"].notna()
    return series[dot.to_numpy(dtype=bool)]


@lru_cache(maxsize=16)
def places_layer_json(dataset: Dataset, offence: str) -> bytes:
    """The layer's JSON for one offence: every Census place with a point that is not already drawn as a
    city polygon, for every city-table year (see the module docstring)."""
    points = dataset.place_points
    years = table_years(dataset)
    if points is None or not years:
        empty = {"offence": offence, "years": [], "names": [], "lon": [], "lat": [], "values": {}}
        return json.dumps({**empty, **_scales()}).encode()
    series = every_place_series(dataset, offence)
    rows = dot_rows(dataset, offence)
    geoids = sorted(set(rows["geoid"]))
    position = {geoid: i for i, geoid in enumerate(geoids)}
    placed = points.loc[geoids]
    peer = (
        series[["year", "peer_group", "peer_rate"]]
        .dropna()
        .drop_duplicates(["year", "peer_group"])
        .query("year in @years")
    )
    payload: dict = {
        "offence": offence,
        "years": list(years),
        "names": placed["name"].tolist(),
        "lon": [round(float(v), 3) for v in placed["lon"]],  # ~100 m: a dot's position at any zoom shown
        "lat": [round(float(v), 3) for v in placed["lat"]],
        **_scales(),
        "peer": {
            str(year): {g: float(r) for g, r in zip(group["peer_group"], group["peer_rate"], strict=True)}
            for year, group in peer.groupby("year")
        },
        "values": {},
    }
    for year, group in rows.groupby("year"):
        group = group.sort_values("population", kind="stable")  # small first: large dots draw on top
        ratio = (group["ratio"].astype("Float64") * 100).round()
        payload["values"][str(int(year))] = {
            "i": [position[g] for g in group["geoid"]],
            "c": _int_list(group["count"]),
            "p": _int_list(group["population"]),
            "x": _int_list(ratio),
        }
    return json.dumps(payload, separators=(",", ":")).encode()


def places_frame(dataset: Dataset, offence: str, year: int, minpop: int) -> pd.DataFrame | None:
    """The dots an export map draws for a view (the page's, computed here): label, lon, lat, population,
    count, rate, ratio of every place with a point, not drawn as a city, of ``minpop`` people or more in
    ``year``; None at the default floor (no dots)."""
    if minpop >= DEFAULT_MINPOP or dataset.place_points is None:
        return None
    rows = dot_rows(dataset, offence)
    shown = (rows["year"] == year) & (rows["population"].astype("Float64") >= minpop)
    rows = rows[shown.to_numpy(dtype=bool)]
    points = dataset.place_points.loc[rows["geoid"]]
    return rows.assign(lon=points["lon"].to_numpy(), lat=points["lat"].to_numpy())
