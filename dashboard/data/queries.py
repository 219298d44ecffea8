"""Cached queries on the loaded dataset, shared by every view (one computation per year/offence)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.measures import city_series, year_snapshot
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
