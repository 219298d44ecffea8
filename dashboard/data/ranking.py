"""The ranking's rows: every city's ratio for a year, its rank and years in a row above a threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd


def streak_above(series: pd.DataFrame, year: int, threshold: float) -> pd.Series:
    """Years in a row, ending at ``year``, with ratio >= threshold (0 if not above in ``year``).

    A missing year ends a streak: we never assume a gap year was above the threshold.
    Vectorised (this runs on every ranking change): a city x years-back grid of "at or above",
    and each city's streak is the length of its leading run of True.
    """
    years = series["year"].to_numpy()
    upto = years <= year
    codes, names = pd.factorize(series["geoid"])
    upto &= codes >= 0
    if not upto.any():
        return pd.Series({}, name="streak", dtype=int)
    above = upto & (series["ratio"].to_numpy(dtype=float, na_value=np.nan) >= threshold)  # NaN: never
    grid = np.zeros((len(names), year - int(years[upto].min()) + 1), dtype=bool)
    grid[codes[above], year - years[above]] = True  # column k: k years before ``year``
    runs = np.where(grid.all(axis=1), grid.shape[1], grid.argmin(axis=1))
    labels = names.tolist()
    shown = sorted((labels[c], int(runs[c])) for c in np.unique(codes[upto]).tolist())
    return pd.Series(dict(shown), name="streak", dtype=int)


def ranking_frame(
    series: pd.DataFrame, cities: pd.DataFrame, year: int, threshold: float, highlight_cohorts: list[str]
) -> pd.DataFrame:
    """Cities with a ratio in ``year``, sorted high to low, with cohort highlight and streak."""
    ranked = series[((series["year"] == year) & series["ratio"].notna()).to_numpy(dtype=bool)]
    geoids = ranked["geoid"]
    cohorts = geoids.map(cities["cohort"]).fillna("")
    ranked = ranked.assign(
        streak=geoids.map(streak_above(series, year, threshold)).fillna(0).astype(int),
        cohort=cohorts,
        highlight=[
            next((c for c in cohort.split("; ") if c in highlight_cohorts), "other")
            for cohort in cohorts.tolist()
        ],
        above=ranked["ratio"] >= threshold,
    )
    ranked = ranked.sort_values(["ratio", "label"], ascending=[False, True]).reset_index(drop=True)
    ranked["rank"] = ranked.index + 1
    return ranked
