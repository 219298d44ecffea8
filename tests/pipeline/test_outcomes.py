"""The outcomes estimator recovers a planted effect, claims nothing where there is none, and the build's
outcomes.csv keeps missing years missing, skips county and unconfirmed sites, and words every verdict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.pipeline import outcomes, synth
from dashboard.schema import OUTCOME_COLUMNS, OUTCOME_VERDICTS
from tests.conftest import GEODATA

YEARS = list(range(2000, 2020))
JOINED = 2012


def simulated_panel(seed: int, effect: float) -> pd.DataFrame:
    """20 places on two common trends (a factor model, 1% noise); place "T" is 0.5/0.3/0.2 of three donors'
    structure plus its own noise, and its outcome is multiplied by 1 + ``effect`` after ``JOINED``."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(YEARS))
    trends = np.vstack([np.sin(t / 3.0), t / len(YEARS)])  # a cycle and a drift shared by every place
    level = rng.uniform(600, 1400, 19)
    loading = rng.normal(0, 0.15, (19, 2))
    structure = level[:, None] * (1 + loading @ trends)
    donors = structure * (1 + rng.normal(0, 0.01, structure.shape))
    treated = (0.5 * structure[0] + 0.3 * structure[1] + 0.2 * structure[2]) * (
        1 + rng.normal(0, 0.01, t.size)
    )
    treated = np.where(np.array(YEARS) > JOINED, treated * (1 + effect), treated)
    panel = pd.DataFrame(donors.T, index=YEARS, columns=[f"D{i:02d}" for i in range(19)])
    panel["T"] = treated
    return panel


def estimate(panel: pd.DataFrame) -> tuple[synth.Fit, synth.Placebos | None, str]:
    donors = [c for c in panel.columns if c != "T"]
    match, post = [y for y in YEARS if y < JOINED], [y for y in YEARS if y > JOINED]
    fitted = synth.fit(panel, "T", donors, match, post)
    level = float(panel.loc[match, "T"].mean())
    placebo = synth.placebos(panel, fitted, donors, match, post)
    return fitted, placebo, synth.verdict(fitted, len(donors), len(match), placebo, level)


def test_recovers_a_planted_30_percent_fall_within_its_stated_error() -> None:
    panel = simulated_panel(seed=0, effect=-0.30)
    fitted, placebo, verdict = estimate(panel)
    post = fitted.post_gaps.index
    estimated = fitted.mean_post_gap / float(fitted.comparison[post].mean())  # relative effect
    # The stated error: twice the pre-period RMSPE (the comparison's own miss before joining), as a share.
    error = 2 * fitted.pre_rmspe / float(panel.loc[[y for y in YEARS if y < JOINED], "T"].mean())
    assert error < 0.05, "the simulated site should be well fitted before joining"
    assert abs(estimated - (-0.30)) <= error, (estimated, error)
    assert verdict == "below comparison"
    assert placebo is not None and placebo.rank == 1 and placebo.count == 19


def test_no_effect_panel_makes_no_claim() -> None:
    panel = simulated_panel(seed=0, effect=0.0)
    fitted, placebo, verdict = estimate(panel)
    post = fitted.post_gaps.index
    estimated = fitted.mean_post_gap / float(fitted.comparison[post].mean())
    assert abs(estimated) < 0.05
    assert verdict == "no clear difference"
    assert placebo is not None and placebo.p_value > synth.CLAIM_LEVEL


def test_exact_gradient_gives_pysyncons_own_weights() -> None:
    """``synth.ExactGradientSynth`` solves pysyncon's programme, only faster: same weights, same fit."""
    from pysyncon import Synth

    panel = simulated_panel(seed=1, effect=0.0)
    match = [y for y in YEARS if y < JOINED]
    x0, x1 = panel.loc[match, [c for c in panel.columns if c != "T"]], panel.loc[match, "T"].rename("T")
    v = np.full(len(match), 1.0 / len(match))
    fitted = []
    with synth.one_blas_thread():
        for cls in (Synth, synth.ExactGradientSynth):
            model = cls()
            model.fit(X0=x0, X1=x1, Z0=x0, Z1=x1, custom_V=v)
            fitted.append(model)
    assert np.abs(fitted[0].W - fitted[1].W).max() < 1e-3  # measured: 1.6e-5
    assert fitted[1].loss_V <= fitted[0].loss_V * 1.01 + 1e-9


def test_verdict_rules_in_order() -> None:
    panel = simulated_panel(seed=0, effect=-0.30)
    donors = [c for c in panel.columns if c != "T"]
    match = [y for y in YEARS if y < JOINED]
    short = synth.fit(panel, "T", donors, match, [2013, 2014])  # two post years
    assert synth.verdict(short, 19, len(match), None, 1000.0) == "no claim: too few years after joining"
    assert synth.verdict(None, 5, len(match), None, 1000.0) == "no claim: too few comparison places"
    full = synth.fit(panel, "T", donors, match, [y for y in YEARS if y > JOINED])
    assert synth.verdict(full, 19, 4, None, 1000.0) == "no claim: poor pre-period fit"  # 4 matching years
    assert synth.verdict(full, 19, len(match), None, full.pre_rmspe * 5) == "no claim: poor pre-period fit"
    # Placebos run wherever the comparison followed the site and a year after joining has a gap: there
    # their band is drawn, even with too few years for a verdict (then no rank is written).
    assert synth.needs_placebos(short, 19, len(match), 1000.0)
    none_after = synth.fit(panel, "T", donors, match, [])
    assert not synth.needs_placebos(none_after, 19, len(match), 1000.0)
    assert not synth.needs_placebos(full, 19, 4, 1000.0)  # a poor fit: no placebos, no band


def test_a_site_no_comparison_can_follow_gets_no_claim() -> None:
    """Three times the level of every donor: no weighted average (weights >= 0, summing to 1) can reach
    it, so the pre-period fit is poor and no claim is made, however large the planted effect."""
    panel = simulated_panel(seed=0, effect=-0.30)
    panel["T"] = panel["T"] * 3
    donors = [c for c in panel.columns if c != "T"]
    match, post = [y for y in YEARS if y < JOINED], [y for y in YEARS if y > JOINED]
    fitted = synth.fit(panel, "T", donors, match, post)
    level = float(panel.loc[match, "T"].mean())
    assert fitted.pre_rmspe > synth.POOR_FIT_SHARE * level
    assert not synth.needs_placebos(fitted, len(donors), len(match), level)
    assert synth.verdict(fitted, len(donors), len(match), None, level) == "no claim: poor pre-period fit"


@pytest.mark.parametrize(("effect", "outside"), [(-0.30, True), (0.0, False)])
def test_the_placebo_band_holds_chance_and_not_a_planted_effect(effect: float, outside: bool) -> None:
    """The band (5th-95th percentile of the placebo gaps) is the error the chart shows: a planted 30% fall
    lies below it in every year after joining; with no effect the site's gaps stay inside it."""
    fitted, placebo, _verdict = estimate(simulated_panel(seed=0, effect=effect))
    assert placebo is not None
    post = fitted.post_gaps.index
    low, high = placebo.gap_low[post], placebo.gap_high[post]
    assert (low < high).all() and low.notna().all()
    below = fitted.post_gaps < low
    inside = fitted.post_gaps.between(low, high)
    assert below.all() if outside else inside.mean() >= 0.8, (fitted.post_gaps, low, high)


def _city_years() -> pd.DataFrame:
    """A small city table: 12 donors and one site, 2000-2022, with a part year and a missing 2020."""
    rows = []
    for i, geoid in enumerate([f"99{i:05d}" for i in range(12)] + ["0100001"]):
        for year in range(2000, 2023):
            if year == 2020:
                continue  # no city table
            rows.append(
                {
                    "geoid": geoid,
                    "year": year,
                    "population": 150_000 + 1_000 * i,
                    "violent_crime": 600 + 40 * i + 5 * (year - 2000) + (i * year) % 7,
                    "months_reported": 6 if (geoid == "0100001" and year == 2005) else pd.NA,
                }
            )
    return pd.DataFrame(rows)


def _programs(extra: list[dict] | None = None) -> pd.DataFrame:
    base = {"geoid": "0100001", "name": "Site, AL", "cohort_id": "psp-2017", "geography": "place"}
    rows = [{**base, "status": "confirmed", "announced": "2017-06-20"}]
    rows += extra or []
    return pd.DataFrame(rows)


def test_rate_panel_keeps_gaps_and_part_years_out() -> None:
    rate, population = outcomes.rate_panel(_city_years())
    assert rate.loc[2020].isna().all()  # no figure: a gap, never interpolated
    assert math.isnan(rate.loc[2005, "0100001"])  # 6 months reported: no rate
    assert rate.loc[2006, "0100001"] == pytest.approx((600 + 480 + 30 + (12 * 2006) % 7) / 162_000 * 1e5)
    assert population.loc[2010, "9900000"] == 150_000


def test_outcome_rows_skip_counties_and_unconfirmed_and_need_ten_donors(caplog) -> None:
    extra = [
        {"geoid": "48201", "name": "Harris County, TX", "cohort_id": "psp-2019", "geography": "county",
         "status": "confirmed", "announced": "2019-06-03"},
        {"geoid": "9900011", "name": "Unsure, XX", "cohort_id": "psp-2022", "geography": "place",
         "status": "unconfirmed", "announced": "2022-10-14"},
        {"geoid": "9900010", "name": "Earlier, XX", "cohort_id": "vrn-2014", "geography": "place",
         "status": "confirmed", "announced": "2014-09-01"},
    ]  # fmt: skip
    with caplog.at_level("INFO"):
        rows = outcomes.outcome_rows(_city_years(), _programs(extra))
    assert list(rows.columns) == list(OUTCOME_COLUMNS)
    assert set(rows["geoid"]) == {"0100001"}
    assert "Harris County, TX (psp-2019) skipped" in caplog.text and "membership unconfirmed" in caplog.text
    # 12 places, 2 in programs (any program is excluded): 10 donors left, just enough.
    assert set(rows["verdict"]) <= set(OUTCOME_VERDICTS)
    assert rows["years_since_joining"].tolist() == list(range(-10, 6))
    assert rows.loc[rows["year"] == 2020, ["value", "comparison_value", "gap"]].isna().all().all()
    fewer = _programs([{**extra[2], "geoid": g} for g in ("9900009", "9900008")] + extra[2:])
    assert set(outcomes.outcome_rows(_city_years(), fewer)["verdict"]) == {
        "no claim: too few comparison places"
    }


def test_committed_outcomes_for_psp_2017() -> None:
    """geodata/outcomes.csv: one row per PSP 2017 site x year from 10 before joining to 2022."""
    table = pd.read_csv(GEODATA / "outcomes.csv", dtype={"geoid": str})
    assert list(table.columns) == list(OUTCOME_COLUMNS)
    assert set(table["verdict"]) <= set(OUTCOME_VERDICTS)
    psp17 = table[table["cohort"] == "psp-2017"]
    assert psp17["geoid"].nunique() == 12
    assert psp17.groupby("geoid")["year"].apply(list).map(lambda y: y == list(range(2007, 2023))).all()
    assert psp17.loc[psp17["year"] == 2020, "value"].isna().all()
    assert not psp17.duplicated(["geoid", "year"]).any()
    # Every site has one verdict, fit and placebo count; a claim is made only with placebos run.
    per_site = psp17.groupby("geoid")[["verdict", "pre_fit_rmspe", "placebo_count"]].nunique(dropna=False)
    assert (per_site <= 1).all().all()
    claimed = table["verdict"].isin(["below comparison", "above comparison", "no clear difference"])
    assert table.loc[claimed, "placebo_count"].ge(synth.MIN_DONORS).all()
    assert table.loc[~claimed, "placebo_rank"].isna().all()  # a rank is written only with a verdict
    # The placebo band: wherever a verdict was reached, never with a poor fit, low <= 0 <= high mostly.
    band = table[["placebo_gap_low", "placebo_gap_high"]]
    assert band.notna().all(axis=1).eq(band.notna().any(axis=1)).all()  # both or neither
    assert table.loc[claimed & table["comparison_value"].notna(), "placebo_gap_low"].notna().all()
    assert table.loc[table["verdict"] == "no claim: poor pre-period fit", "placebo_gap_low"].isna().all()
    assert (table["placebo_gap_low"] <= table["placebo_gap_high"]).where(band.notna().all(axis=1), True).all()
    assert not set(table["geoid"]) & {"48201", "13089"}  # county sites are skipped
