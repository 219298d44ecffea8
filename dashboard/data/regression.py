"""Regression to the mean made visible (issue 14): places as violent as the sites that were never chosen.

Sites were picked because their violence was high, and places picked at a high point tend to fall back
toward the average anyway. So beside the sites the outcomes panel draws the same measure for the places
in no program that met the same criterion in the *selection year* (violent crime at least the view's
threshold x the national rate in the latest year of FBI city figures at the announcement: 2015 for PSP
2017, ``config/outcomes.json``). Both groups are counted from the sites' announcement year, so the curves
share the site panels' x axis. Cheap (one pivot of the ratios, cached per dataset; one curve per view).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.queries import all_series
from dashboard.errors import DataFileError
from dashboard.settings import CONFIG_DIR

OFFENCE = "violent_crime"  # the offence the sites were chosen by, and the one outcomes.csv compares
YEARS_BEFORE = 10  # as outcomes.csv: from 10 years before joining
GROUPS = ("sites", "not chosen")
CURVE_COLUMNS = ["group", "years_since_joining", "median_ratio", "places", "selected"]


@lru_cache(maxsize=1)
def selection_lag() -> int:
    """Years between an announcement and the latest FBI city figures then (``config/outcomes.json``)."""
    path = CONFIG_DIR / "outcomes.json"
    with open(path, encoding="utf-8") as handle:
        value = json.load(handle).get("selection_lag_years")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 5:
        raise DataFileError(f"{path.name}: selection_lag_years must be a whole number 0-5, not {value!r}")
    return value


def selection_year(dataset: Dataset, joined: int) -> int:
    """The latest year with city figures ``selection_lag()`` or more years before ``joined`` (2015 for
    2017; 2019 for 2022, as there is no city table for 2020)."""
    latest = joined - selection_lag()
    return max((y for y in dataset.years if y <= latest), default=latest)


@lru_cache(maxsize=4)
def _ratios(dataset: Dataset) -> pd.DataFrame:
    """GEOID x year: violent crime as a multiple of the national rate (NaN where there is no figure)."""
    series = all_series(dataset, OFFENCE)
    wide = series.pivot_table(index="geoid", columns="year", values="ratio", aggfunc="first")
    years = range(int(series["year"].min()), int(series["year"].max()) + 1)
    return wide.astype("float64").reindex(columns=years)


@dataclass(frozen=True)
class Selection:
    """Who is in each group: (geoid, joined year) pairs, and the selection year of each joined year."""

    sites: tuple[tuple[str, int], ...]
    not_chosen: tuple[tuple[str, int], ...]
    selection_years: dict[int, int]


def not_chosen(dataset: Dataset, sites: tuple[tuple[str, int], ...], threshold: float) -> Selection:
    """The places in no program (any cohort) at least ``threshold`` x the national rate in the selection
    year of each joined year among ``sites``; a place can be picked for two joined years."""
    wide = _ratios(dataset)
    in_programs = set(dataset.programs["geoid"].astype(str))
    picked: list[tuple[str, int]] = []
    years: dict[int, int] = {}
    for joined in sorted({j for _, j in sites}):
        years[joined] = selection_year(dataset, joined)
        if years[joined] not in wide.columns:
            continue
        met = wide.index[wide[years[joined]].ge(threshold).to_numpy()]
        picked += [(str(g), joined) for g in met if g not in in_programs]
    return Selection(tuple(sites), tuple(picked), years)


@lru_cache(maxsize=32)
def regression_curve(dataset: Dataset, sites: tuple[tuple[str, int], ...], threshold: float) -> pd.DataFrame:
    """Median ratio to the national rate by years since joining, for the shown ``sites`` ((geoid, joined
    year) pairs) and for the places not chosen (``not_chosen``). Columns ``CURVE_COLUMNS``: ``places``
    is how many of the group's ``selected`` places have a figure that year (the median is over those;
    none, as in 2020, is a gap). Cached: do not mutate."""
    if not sites:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    wide = _ratios(dataset)
    selection = not_chosen(dataset, sites, threshold)
    first, last = int(wide.columns[0]), int(wide.columns[-1])
    values = wide.to_numpy()
    row_of = {g: i for i, g in enumerate(wide.index)}
    records = []
    for group, members in zip(GROUPS, (selection.sites, selection.not_chosen), strict=True):
        members = tuple((g, j) for g, j in members if g in row_of)
        if not members:
            continue
        rows = np.array([row_of[g] for g, _ in members])
        joined = np.array([j for _, j in members])
        for k in range(-YEARS_BEFORE, last - int(joined.min()) + 1):
            year = joined + k
            inside = (year >= first) & (year <= last)
            found = values[rows[inside], year[inside] - first]
            found = found[~np.isnan(found)]
            median = round(float(np.median(found)), 2) if len(found) else math.nan
            records.append((group, k, median, len(found), len(members)))
    return pd.DataFrame(records, columns=CURVE_COLUMNS)


def site_joined_years(rows: pd.DataFrame) -> tuple[tuple[str, int], ...]:
    """(geoid, joined year) of each site in outcomes rows, in their order."""
    firsts = rows.drop_duplicates("geoid")
    joined = firsts["year"].astype(int) - firsts["years_since_joining"].astype(int)
    return tuple(zip(firsts["geoid"].astype(str), joined.astype(int), strict=True))
