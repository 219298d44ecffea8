"""geodata/outcomes.csv: each PSP site's violent crime rate against a synthetic control of unchosen places.

Sites chosen for high violence tend to fall back toward the average anyway, and crime moved nationally for
reasons of its own, so a site's "before and after" says little alone. Each site (a PSP cohort's place,
joining in its announcement year) is set against a weighted combination of places of 100,000+ people
that were in no program, matched on the years before it joined (``pipeline/synth.py``), and every donor
is run as a placebo. County sites (no population, so no rate) and unconfirmed memberships are skipped, and
the build log says so. Missing years stay missing: 2020 has no FBI city table, 2021 has many agencies that
did not report (the FBI's move to NIBRS) and is never matched on; nothing is interpolated.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.pipeline import synth
from dashboard.schema import OUTCOME_COLUMNS

log = logging.getLogger(__name__)

OFFENCE = "violent_crime"
FIRST_YEAR, LAST_YEAR = 1985, 2022  # the years with city figures for most places of 100,000+
YEARS_BEFORE = 10  # matching window and first row: 10 years before the joining year
NOT_MATCHED_ON = frozenset({2021})  # many agencies did not report (NIBRS transition): shown, never matched on
DONOR_MIN_POPULATION = 100_000
NEAREST_DONORS = (
    40  # donors nearest the site's pre-period level (keeps the build's added time under a minute)
)
DIGITS = 1  # rates per 100,000 to one decimal, as elsewhere in geodata/


@dataclass(frozen=True)
class Site:
    """One PSP cohort membership: the place, its cohort and the year it joined (the announcement year)."""

    cohort: str
    geoid: str
    name: str
    joined: int


def rate_panel(city_years: pd.DataFrame, offence: str = OFFENCE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Years x GEOIDs of the offence rate per 100,000 and of population, full-year figures only.

    A part year (months_reported < 12), a withheld figure or a year without a population has no rate,
    exactly as the trends draw it: a gap, never a zero.
    """
    rows = city_years[city_years["year"].between(FIRST_YEAR, LAST_YEAR)].copy()
    months = (
        pd.to_numeric(rows.get("months_reported"), errors="coerce") if "months_reported" in rows else None
    )
    full = (months.astype("float64").fillna(12) >= 12) if months is not None else True
    population = pd.to_numeric(rows["population"], errors="coerce").astype("float64")
    count = pd.to_numeric(rows[offence], errors="coerce").astype("float64")
    ok = full & population.gt(0) & count.notna()
    rows["rate"] = (count / population * 100_000).where(ok)
    rows["population"] = population.where(ok)
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    # Plain float64 (the build's frame holds nullable Int64/Float64, which pysyncon's numpy maths refuses)
    rate = rows.pivot(index="year", columns="geoid", values="rate").reindex(years).astype("float64")
    pop = rows.pivot(index="year", columns="geoid", values="population").reindex(years).astype("float64")
    return rate.sort_index(axis=1), pop.sort_index(axis=1)


def psp_sites(programs: pd.DataFrame) -> list[Site]:
    """Confirmed PSP place memberships (cohort_id psp-*); county and unconfirmed rows are logged, skipped."""
    found = []
    for row in programs.sort_values(["cohort_id", "geoid"], kind="stable").itertuples():
        if not str(row.cohort_id).startswith("psp-"):
            continue
        if row.geography != "place":
            log.info(
                "outcomes: %s (%s) skipped: a county site has no population, so no rate",
                row.name,
                row.cohort_id,
            )
            continue
        if row.status != "confirmed":
            log.info("outcomes: %s (%s) skipped: membership unconfirmed", row.name, row.cohort_id)
            continue
        found.append(Site(str(row.cohort_id), str(row.geoid), str(row.name), int(str(row.announced)[:4])))
    return found


def donor_pool(
    rate: pd.DataFrame,
    population: pd.DataFrame,
    excluded: set[str],
    site: Site,
    match_years: list[int],
    post_years: list[int],
) -> list[str]:
    """Places in no program, of 100,000+ people in the last matching year, with a figure in every matching
    year and every year from joining on in which the site has one; the ``NEAREST_DONORS`` nearest the
    site's mean pre-period level (ties by GEOID, so the pool is the same every build)."""
    needed = [*match_years, *post_years]
    candidates = [g for g in rate.columns if g not in excluded]
    complete = rate.loc[needed, candidates].notna().all()
    big = population.loc[match_years[-1], candidates].ge(DONOR_MIN_POPULATION)
    pool = [g for g in candidates if complete[g] and big[g]]
    level = rate.loc[match_years, site.geoid].mean()
    distance = (rate.loc[match_years, pool].mean() - level).abs()
    ordered = sorted(pool, key=lambda g: (round(float(distance[g]), 9), g))
    return ordered[:NEAREST_DONORS]


def _round(value: float) -> float:
    return round(float(value), DIGITS) if value is not None and not math.isnan(value) else math.nan


def site_rows(rate: pd.DataFrame, population: pd.DataFrame, excluded: set[str], site: Site) -> pd.DataFrame:
    """The rows of one site: every year from 10 before joining to 2022, with its fit and verdict."""
    years = list(range(max(FIRST_YEAR, site.joined - YEARS_BEFORE), LAST_YEAR + 1))
    own = rate[site.geoid] if site.geoid in rate else pd.Series(np.nan, index=rate.index)
    match_years = [y for y in years if y < site.joined and y not in NOT_MATCHED_ON and not pd.isna(own[y])]
    post_years = [y for y in years if y > site.joined and not pd.isna(own[y])]
    at_joining = [site.joined] if site.joined in own.index and not pd.isna(own.get(site.joined)) else []
    donors = (
        donor_pool(rate, population, excluded, site, match_years, [*at_joining, *post_years])
        if match_years
        else []
    )
    fitted = (
        synth.fit(rate, site.geoid, donors, match_years, post_years)
        if len(donors) >= synth.MIN_DONORS
        else None
    )
    pre_level = float(own[match_years].mean()) if match_years else math.nan
    placebo = None
    if synth.needs_placebos(fitted, len(donors), len(match_years), pre_level):
        placebo = synth.placebos(rate, fitted, donors, match_years, post_years)
    verdict = synth.verdict(fitted, len(donors), len(match_years), placebo, pre_level)
    ranked = placebo if verdict in synth.CLAIM_VERDICTS else None  # a rank is read only with a verdict
    log.info(
        "outcomes: %s (%s) %d donors, %d matching years, %d post years: %s",
        site.name, site.cohort, len(donors), len(match_years), len(post_years), verdict,
    )  # fmt: skip
    value = [_round(own[y]) for y in years]
    comparison = [_round(fitted.comparison[y]) if fitted else math.nan for y in years]
    return pd.DataFrame(
        {
            "site": site.name,
            "geoid": site.geoid,
            "cohort": site.cohort,
            "year": years,
            "years_since_joining": [y - site.joined for y in years],
            "value": value,
            "comparison_value": comparison,
            "gap": [_round(v - c) for v, c in zip(value, comparison, strict=True)],
            "placebo_rank": pd.array([ranked.rank if ranked else pd.NA] * len(years), dtype="Int64"),
            "placebo_count": pd.array([ranked.count if ranked else pd.NA] * len(years), dtype="Int64"),
            "pre_fit_rmspe": _round(fitted.pre_rmspe) if fitted else math.nan,
            "verdict": verdict,
            "placebo_gap_low": [_round(placebo.gap_low[y]) if placebo else math.nan for y in years],
            "placebo_gap_high": [_round(placebo.gap_high[y]) if placebo else math.nan for y in years],
        },
        columns=list(OUTCOME_COLUMNS),
    )


def outcome_rows(city_years: pd.DataFrame, programs: pd.DataFrame) -> pd.DataFrame:
    """Every PSP site's rows (``schema.OUTCOME_COLUMNS``), sorted by cohort, site, GEOID and year."""
    rate, population = rate_panel(city_years)
    excluded = set(programs["geoid"].astype(str))  # any program, any cohort: never a comparison place
    with synth.one_blas_thread():
        frames = [site_rows(rate, population, excluded, site) for site in psp_sites(programs)]
    if not frames:
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    rows = pd.concat(frames, ignore_index=True)
    return rows.sort_values(["cohort", "site", "geoid", "year"], kind="stable").reset_index(drop=True)
