"""Synthetic control of one place against donor places, with in-space placebos and a worded verdict.

The estimator is pysyncon's ``Synth`` (Abadie, Diamond & Hainmueller 2010): the donors' weights (>= 0,
summing to 1) make the weighted donors' outcome match the treated place's in each matching year. The
predictors are the outcome itself in every matching year, weighted equally (``custom_V``), so the fit
is the one the placebo ranks judge: no outer search over predictor weights, which would multiply the
build time and let the fit chase noise. A placebo is the same fit with a donor as the treated place
and the other donors as its pool; the treated place's post/pre RMSPE ratio (the post-period error
relative to the pre-period error, as in ADH 2010 section 4) is ranked among the placebos' ratios.

Everything here works on a wide panel (index: years, columns: places, values: the outcome; NaN where a
place has no figure) and knows nothing of crime or cities: ``pipeline/outcomes.py`` builds the panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pysyncon import Synth
from scipy.optimize import Bounds, LinearConstraint, minimize
from threadpoolctl import threadpool_limits

from dashboard.schema import OUTCOME_VERDICTS

# The rules behind each verdict (written out in geodata/SOURCES.md; fixed before any site was fitted).
MIN_DONORS = 10  # with fewer placebos the smallest possible placebo p-value, 1/(n+1), exceeds CLAIM_LEVEL
MIN_MATCH_YEARS = 5  # fewer years before joining than this: the fit cannot be judged
MIN_POST_YEARS = 3  # years after the joining year with both a figure and a comparison
POOR_FIT_SHARE = 0.10  # pre-period RMSPE above 10% of the place's mean pre-period level: no claim
CLAIM_LEVEL = 0.10  # a claim needs placebo_rank / (placebo_count + 1) <= 0.10
BAND_PERCENTILES = (5, 95)  # the placebo band: where the middle 90% of the placebo places' gaps fell

(TOO_FEW_DONORS, TOO_FEW_POST, POOR_FIT, BELOW, ABOVE, NO_DIFFERENCE) = OUTCOME_VERDICTS
CLAIM_VERDICTS = (BELOW, ABOVE, NO_DIFFERENCE)  # the verdicts that rest on the placebo rank


class ExactGradientSynth(Synth):
    """pysyncon's ``Synth`` with the exact gradient of its inner problem.

    ``Synth.w_optimize`` solves min_w ½wᵀPw − qᵀw (w ≥ 0, Σw = 1) with SLSQP and lets scipy estimate the
    gradient by finite differences: one objective call per donor per step, three quarters of the build's
    outcomes time. This is the same programme, solver, start and options, given its gradient Pw − q;
    ``tests/pipeline/test_outcomes.py`` checks the weights against pysyncon's own.
    """

    @staticmethod
    def w_optimize(
        V_mat: np.ndarray,
        X0: np.ndarray,
        X1: np.ndarray,
        qp_method: str = "SLSQP",
        qp_options: dict | None = None,
    ) -> tuple[np.ndarray, float]:
        n = X0.shape[1]
        p_mat, q_vec = X0.T @ V_mat @ X0, X1.T @ V_mat @ X0
        result = minimize(
            fun=lambda x: 0.5 * x @ p_mat @ x - q_vec @ x,
            jac=lambda x: p_mat @ x - q_vec,
            x0=np.full(n, 1 / n),
            bounds=Bounds(lb=np.zeros(n), ub=np.ones(n)),
            constraints=LinearConstraint(A=np.ones(n), lb=1.0, ub=1.0),
            method=qp_method,
            options=qp_options or {"maxiter": 1000},
        )
        return result["x"], float(result["fun"])


def one_blas_thread() -> threadpool_limits:
    """Hold around a batch of fits (entering it scans the loaded libraries: once per batch, not per fit).

    SLSQP's small solves are ~50x slower when BLAS threads contend for busy cores, and a single thread
    keeps the sums in one order (the build must give the same bytes every run).
    """
    return threadpool_limits(limits=1)


@dataclass(frozen=True)
class Fit:
    """One synthetic control: its donor weights, comparison path and errors before and after."""

    unit: str
    weights: pd.Series  # donor -> weight
    comparison: pd.Series  # year -> weighted donors' outcome (NaN in a year any donor lacks)
    pre_rmspe: float  # over the matching years
    post_rmspe: float  # over the post years with a figure and a comparison (NaN if none)
    post_gaps: pd.Series  # year -> outcome minus comparison, post years with both

    @property
    def ratio(self) -> float:
        """Post/pre RMSPE: how much worse the comparison misses after joining than before."""
        if math.isnan(self.post_rmspe):
            return math.nan
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else math.inf

    @property
    def mean_post_gap(self) -> float:
        return float(self.post_gaps.mean()) if len(self.post_gaps) else math.nan


def fit(
    panel: pd.DataFrame,
    unit: str,
    donors: Sequence[str],
    match_years: Sequence[int],
    post_years: Sequence[int],
) -> Fit:
    """Fit ``unit`` on ``donors`` over ``match_years`` (all must have a figure in each of them)."""
    names = [unit, *donors]
    return _fit(
        panel[names].to_numpy(dtype=float),
        panel.index,
        names,
        0,
        list(range(1, len(names))),
        panel.index.get_indexer(list(match_years)),
        panel.index.get_indexer(list(post_years)),
    )


def _fit(
    values: np.ndarray,
    years: pd.Index,
    names: list[str],
    unit: int,
    donors: list[int],
    match_rows: np.ndarray,
    post_rows: np.ndarray,
) -> Fit:
    """``fit`` on a plain array (years x places): the placebos' 40 fits a site would otherwise spend most
    of their time selecting the same rows and columns from a data frame."""
    x0_values, x1_values = values[np.ix_(match_rows, donors)], values[match_rows, unit]
    if np.isnan(x0_values).any() or np.isnan(x1_values).any():
        raise ValueError(f"{names[unit]}: a matching year lacks a figure for the place or a donor")
    donor_names, match_years = [names[d] for d in donors], years[match_rows]
    x0 = pd.DataFrame(x0_values, index=match_years, columns=donor_names)
    x1 = pd.Series(x1_values, index=match_years, name=names[unit])
    synth = ExactGradientSynth()  # callers hold one_blas_thread() around their fits
    synth.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=np.full(len(match_rows), 1.0 / len(match_rows)))
    weights = np.asarray(synth.W, dtype=float)
    comparison = values[:, donors] @ weights  # NaN stays NaN
    own = values[:, unit]
    pre = own[match_rows] - comparison[match_rows]
    post = own[post_rows] - comparison[post_rows]
    kept = ~np.isnan(post)
    gaps = pd.Series(post[kept], index=years[post_rows][kept])
    return Fit(
        unit=names[unit],
        weights=pd.Series(weights, index=donor_names),
        comparison=pd.Series(comparison, index=years),
        pre_rmspe=float(np.sqrt((pre**2).mean())),
        post_rmspe=float(np.sqrt((gaps.to_numpy() ** 2).mean())) if len(gaps) else math.nan,
        post_gaps=gaps,
    )


@dataclass(frozen=True)
class Placebos:
    """Where the treated place's post/pre RMSPE ratio ranks among its donors' own placebo ratios, and
    the spread of the placebos' gaps year by year (the band a gap of no consequence falls within)."""

    rank: int  # 1 = the treated place's ratio is the largest; ties count against it
    count: int  # placebos run (one per donor)
    gap_low: pd.Series  # year -> BAND_PERCENTILES[0] of the placebo gaps (NaN with < MIN_DONORS of them)
    gap_high: pd.Series  # year -> BAND_PERCENTILES[1] of the placebo gaps

    @property
    def p_value(self) -> float:
        """Share of places (treated + placebos) with a ratio at least the treated place's."""
        return self.rank / (self.count + 1)


def placebos(
    panel: pd.DataFrame,
    treated: Fit,
    donors: Sequence[str],
    match_years: Sequence[int],
    post_years: Sequence[int],
) -> Placebos:
    """Fit every donor as if it had been treated (the other donors its pool), rank the ratios and take
    the placebo gaps' spread in every year of the panel."""
    donors = list(donors)
    values = panel[donors].to_numpy(dtype=float)
    match_rows = panel.index.get_indexer(list(match_years))
    post_rows = panel.index.get_indexer(list(post_years))
    everyone = range(len(donors))
    with one_blas_thread():
        fits = [
            _fit(values, panel.index, donors, i, [j for j in everyone if j != i], match_rows, post_rows)
            for i in everyone
        ]
    ratios = [f.ratio for f in fits]
    at_least = sum(1 for r in ratios if not math.isnan(r) and r >= treated.ratio)
    gaps = pd.DataFrame(
        {f.unit: values[:, i] - f.comparison.to_numpy() for i, f in enumerate(fits)}, index=panel.index
    )
    enough = gaps.notna().sum(axis=1) >= MIN_DONORS
    low, high = (gaps.quantile(p / 100, axis=1).where(enough) for p in BAND_PERCENTILES)
    return Placebos(rank=1 + at_least, count=len(ratios), gap_low=low, gap_high=high)


def verdict(
    treated: Fit | None, n_donors: int, n_match_years: int, placebo: Placebos | None, pre_level: float
) -> str:
    """The verdict, the first rule that applies (the order of ``schema.OUTCOME_VERDICTS``)."""
    if treated is None or n_donors < MIN_DONORS:
        return TOO_FEW_DONORS
    if len(treated.post_gaps) < MIN_POST_YEARS:
        return TOO_FEW_POST
    if n_match_years < MIN_MATCH_YEARS or treated.pre_rmspe > POOR_FIT_SHARE * pre_level:
        return POOR_FIT
    if placebo is None:
        raise ValueError("placebo ranks are needed for a verdict past the no-claim rules")
    if placebo.p_value <= CLAIM_LEVEL:
        return BELOW if treated.mean_post_gap < 0 else ABOVE
    return NO_DIFFERENCE


def needs_placebos(treated: Fit | None, n_donors: int, n_match_years: int, pre_level: float) -> bool:
    """Placebos are run only where the comparison followed the place before joining and there is a year
    after joining to judge (they are most of the build's time): there the verdict may depend on them,
    and their band says how far places that did not join strayed, even with too few years for a verdict."""
    if treated is None or n_donors < MIN_DONORS or treated.post_gaps.empty:
        return False
    return n_match_years >= MIN_MATCH_YEARS and treated.pre_rmspe <= POOR_FIT_SHARE * pre_level
