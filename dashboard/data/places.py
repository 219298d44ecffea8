"""Every place of the FBI city tables as one series (issue 13): what the all-places map and ranking read.

The city tables give about 9,000 places a year for 2010, 2013-2019, 2021 and 2022. A place that is also in
``crime_city_year.csv`` (the cities of 100,000+ and the program sites) keeps the figures of that file, which
are harmonised and screened, for every year it has there; every other place has the city-table rows as
printed. A row with no Census place (a county subdivision, a police of several places, an unmatched name)
keeps its figures under a key made of its state and name, so it is ranked and exported but never drawn; a
row that is no city's police at all (a sheriff, an Alaska borough: ``place_kind`` "not a city police") is
left out of the ranking.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.measures import city_series, rate_per_100k, with_comparisons
from dashboard.schema import PEER_GROUPS

MINPOPS = (0, 10_000, 25_000, 50_000, 100_000)  # the map and ranking's population floor (URL minpop=)
DEFAULT_MINPOP = 100_000  # existing links look as before
LABEL_NOTES = {  # place_kind -> what a row's name adds, so a reader knows it is no Census place
    "county subdivision": " (county subdivision)",
    "several jurisdictions": " (police of several places)",
}
BANDS = ("all", *(group for group, *_ in PEER_GROUPS))  # URL band=: the ranking's population group
BAND_LABELS = {"all": "all sizes", **{group: label for group, label, *_ in PEER_GROUPS}}


def place_key(geoid: str, state: str, agency: str) -> str:
    """A Census place's GEOID, else "ST: agency name" (a county subdivision or an unmatched row)."""
    return geoid if geoid else f"{state}: {agency}"


def table_years(dataset: Dataset) -> tuple[int, ...]:
    """The years with a city table of every place (none without places_year.csv)."""
    if dataset.places_year is None:
        return ()
    return tuple(sorted(int(y) for y in dataset.places_year["year"].unique()))


def place_series(dataset: Dataset, offence: str) -> pd.DataFrame:
    """Like ``measures.city_series`` for every place: geoid (the place key), label, year, count,
    population, rate, national_rate, ratio, peer_group, peer_rate, ratio_to_peer, place_kind, on_map.

    Where a place has a row in crime_city_year.csv for a year, that row wins (it is the screened value
    the rest of the atlas shows); part years keep no rate, as there.
    """
    cities = city_series(dataset, None, offence)
    cities = cities.assign(place_kind="census place", on_map=True)
    if dataset.places_year is None:
        return cities
    rows = dataset.places_year
    keys = [place_key(g, s, a) for g, s, a in zip(rows["geoid"], rows["state"], rows["agency"], strict=True)]
    frame = pd.DataFrame(
        {
            "geoid": keys,
            "year": rows["year"].astype(int),
            "count": rows[offence],
            "population": rows["population"],
            "rape_definition": rows["rape_definition"],
            "source": rows["source"],
            "place_kind": rows["place_kind"],
        }
    )
    known = set(zip(cities["geoid"], cities["year"], strict=True))
    frame = frame[[(g, y) not in known for g, y in zip(frame["geoid"], frame["year"], strict=True)]]
    points = dataset.place_points
    names = rows.assign(key=keys).drop_duplicates("key", keep="last").set_index("key")
    fallback = names["agency"] + ", " + names["state"]
    frame["label"] = frame["geoid"].map(points["name"]).fillna(frame["geoid"].map(fallback))
    frame = frame[(frame["place_kind"] != "not a city police").to_numpy(dtype=bool)]  # a sheriff, a borough
    for kind, words in LABEL_NOTES.items():
        marked = frame["place_kind"] == kind
        frame.loc[marked, "label"] = frame.loc[marked, "label"] + words
    frame["on_map"] = frame["geoid"].isin(points.index)
    frame["rate"] = rate_per_100k(frame["count"], frame["population"])
    frame = with_comparisons(dataset, frame, offence)
    combined = pd.concat([cities, frame], ignore_index=True)
    return combined.sort_values(["label", "year"]).reset_index(drop=True)


def within(series: pd.DataFrame, year: int, minpop: int, band: str = "all") -> pd.Series:
    """Which rows of ``series`` are in the universe of a view: places of ``minpop`` people or more in
    ``year`` (every place at 0), or of one population group when ``band`` names one."""
    population = series["population"].astype("Float64")
    if band != "all":
        return (series["peer_group"] == band).fillna(False).astype(bool)
    return (population >= minpop).fillna(False).astype(bool) if minpop else population.notna()
