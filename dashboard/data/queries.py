"""Cached queries on the loaded dataset, shared by every view (one computation per year/offence)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.measures import city_series, year_snapshot
from dashboard.data.places import DEFAULT_MINPOP, place_series, within
from dashboard.data.ranking import ranking_frame
from dashboard.data.state import highlight_cohorts


def data_url(dataset: Dataset, name: str) -> str:
    """A geodata file's URL, versioned so browsers may keep it for a year (``/data/<name>``)."""
    return f"/data/{name}?v={quote(dataset.version)}"


@lru_cache(maxsize=64)
def snapshot(dataset: Dataset, year: int, offence: str) -> pd.DataFrame:
    """Every city's values for one year (``measures.year_snapshot``), cached: do not mutate."""
    return year_snapshot(dataset, year, offence)


@lru_cache(maxsize=16)
def all_series(dataset: Dataset, offence: str) -> pd.DataFrame:
    """Every city-year of one offence (``measures.city_series``), cached: do not mutate."""
    return city_series(dataset, None, offence)


@lru_cache(maxsize=64)
def ranked_cities(dataset: Dataset, cohort: str, offence: str, year: int, threshold: float) -> pd.DataFrame:
    """The ranking's rows (``ranking.ranking_frame``) for a view, cached: the chart, its summary and its
    tables read the same frame (do not mutate)."""
    return ranking_frame(
        all_series(dataset, offence), dataset.cities, year, threshold, highlight_cohorts(dataset, cohort)
    )


@lru_cache(maxsize=16)
def every_place_series(dataset: Dataset, offence: str) -> pd.DataFrame:
    """Every place-year of one offence (``places.place_series``, issue 13), cached: do not mutate."""
    return place_series(dataset, offence)


def uses_every_place(dataset: Dataset, minpop: int, band: str) -> bool:
    """Whether a view ranks and maps places beyond crime_city_year.csv (a floor under 100,000 or a band)."""
    return dataset.places_year is not None and (minpop < DEFAULT_MINPOP or band != "all")


@lru_cache(maxsize=64)
def ranked_view(
    dataset: Dataset, cohort: str, offence: str, year: int, threshold: float, minpop: int, band: str
) -> pd.DataFrame:
    """The ranking's rows for a view: :func:`ranked_cities` by default; with a population floor under
    100,000 or a band (issue 13), every place of the city tables in that universe in ``year``, each with
    its whole series so its years in a row are counted. Cached: do not mutate."""
    if not uses_every_place(dataset, minpop, band):
        return ranked_cities(dataset, cohort, offence, year, threshold)
    series = every_place_series(dataset, offence)
    current = series[(series["year"] == year).to_numpy(dtype=bool)]
    keys = set(current.loc[within(current, year, minpop, band).to_numpy(dtype=bool), "geoid"])
    universe = series[series["geoid"].isin(keys).to_numpy(dtype=bool)]
    return ranking_frame(universe, dataset.cities, year, threshold, highlight_cohorts(dataset, cohort))
