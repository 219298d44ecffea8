"""The outcomes chart (issue 14): a pure figure, a view over outcomes.csv, its CSV route and its embed."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest

from dashboard.data import regression as rtm
from dashboard.data.queries import all_series
from dashboard.data.state import parse_query
from dashboard.figures.outcomes import outcomes_spec
from dashboard.figures.outcomes_layers import placebo_band
from dashboard.pipeline import outcomes as outcomes_pipeline
from dashboard.pipeline import synth
from dashboard.schema import OUTCOME_COLUMNS
from dashboard.views import outcomes_method as method
from dashboard.views.outcomes import outcome_rows, outcomes_summary, outcomes_table, outcomes_view_figure

MEMPHIS, KANSAS_CITY, HARRIS = "4748000", "2938000", "48201"


def _rows(text: str) -> list[dict[str, str]]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


def test_figure_draws_site_and_comparison_with_the_verdict_in_each_title() -> None:
    rows = pd.DataFrame(
        {
            "site": ["A, XX"] * 3 + ["B, YY"] * 3,
            "geoid": ["0100001"] * 3 + ["0100002"] * 3,
            "cohort": ["psp-2017"] * 6,
            "year": [2016, 2017, 2018] * 2,
            "years_since_joining": [-1, 0, 1] * 2,
            "value": [500.0, float("nan"), 450.0, 900.0, 950.0, 1000.0],
            "comparison_value": [505.0, 520.0, 530.0, float("nan"), float("nan"), float("nan")],
            "gap": [-5.0, float("nan"), -80.0, float("nan"), float("nan"), float("nan")],
            "placebo_rank": pd.array([3, 3, 3, pd.NA, pd.NA, pd.NA], dtype="Int64"),
            "placebo_count": pd.array([40, 40, 40, pd.NA, pd.NA, pd.NA], dtype="Int64"),
            "pre_fit_rmspe": [5.0] * 3 + [float("nan")] * 3,
            "verdict": ["below comparison"] * 3 + ["no claim: too few comparison places"] * 3,
        },
        columns=list(OUTCOME_COLUMNS),
    )
    spec = outcomes_spec(rows, title="t", version="data abc", note="extra note")
    assert len(spec["data"]) == 4  # site and comparison per panel
    site, comparison = spec["data"][:2]
    assert site["x"] == [-1, 0, 1] and site["y"] == [500.0, None, 450.0]  # a gap, not a zero
    assert comparison["line"]["dash"] == "dash"
    titles = [a["text"] for a in spec["layout"]["annotations"] if "<b>" in a["text"]]
    assert "below comparison, rank 3/41" in titles[0]
    assert "no claim: too few comparison places" in titles[1] and "rank" not in titles[1]
    source = next(a for a in spec["layout"]["annotations"] if a.get("name") == "source")["text"]
    assert "synthetic control" in source and "extra note" in source and "not what caused it" in source
    assert [s["x0"] for s in spec["layout"]["shapes"]] == [0, 0]  # year 0 marked in each panel


def test_view_rows_follow_the_cohort_viewed_and_say_what_is_missing(dataset) -> None:
    state = parse_query("cohort=psp-2018", dataset)
    rows = outcome_rows(dataset, state)
    assert set(rows.loc[rows["geoid"] == KANSAS_CITY, "cohort"]) == {"psp-2018"}
    state = parse_query(f"cities={KANSAS_CITY},{HARRIS}&cohort=psp-2017", dataset)
    rows = outcome_rows(dataset, state)
    assert set(rows["cohort"]) == {"psp-2017"} and set(rows["geoid"]) == {KANSAS_CITY}
    summary = outcomes_summary(dataset, parse_query("cohort=psp-2017", dataset))
    assert summary.startswith("Violent crime in 12 sites after joining")
    assert "not proof" in summary
    table = outcomes_table(dataset, parse_query(f"cities={MEMPHIS}&cohort=psp-2017", dataset))
    years = [r[0] for r in table.rows]
    assert years[0] == "Memphis, TN 2007 (-10)" and "Memphis, TN 2017 (joined)" in years
    by_year = {r[0]: r for r in table.rows}
    assert by_year["Memphis, TN 2020 (+3)"][1:3] == ("not reported", "no comparison")


def test_outcomes_csv_route_and_embed(client, dataset) -> None:
    response = client.get("/export/outcomes.csv?cohort=psp-2017")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "atlas-outcomes-violent-crime-psp-2017.csv" in response.headers["Content-Disposition"]
    rows = _rows(response.get_data(as_text=True))
    assert list(rows[0]) == list(OUTCOME_COLUMNS)
    committed = dataset.outcomes[dataset.outcomes["cohort"] == "psp-2017"]
    assert len(rows) == len(committed) == 12 * 16  # 12 sites x 2007-2022
    memphis_2018 = next(r for r in rows if r["geoid"] == MEMPHIS and r["year"] == "2018")
    assert memphis_2018["years_since_joining"] == "1"
    assert memphis_2018["verdict"] == "no claim: poor pre-period fit" and memphis_2018["placebo_rank"] == ""
    assert client.get("/export/map.csv").status_code == 400  # no CSV of its own: data.csv has its numbers
    embed = client.get("/embed/outcomes?cohort=psp-2017")
    assert embed.status_code == 200
    assert "Violent crime after joining" in embed.get_data(as_text=True)


def test_regression_to_the_mean_curve_is_the_not_chosen_places_median(dataset) -> None:
    """The first panel: places in no program at least the threshold x the US rate in 2015 (the latest FBI
    year when PSP 2017 was announced), their median ratio by years since joining, beside the sites'."""
    state = parse_query("cohort=psp-2017", dataset)
    rows = outcome_rows(dataset, state)
    sites = rtm.site_joined_years(rows)
    assert {j for _, j in sites} == {2017} and rtm.selection_year(dataset, 2017) == 2015
    assert rtm.selection_year(dataset, 2022) == 2019  # no city table for 2020
    series = all_series(dataset, "violent_crime")
    ratio = series.set_index(["geoid", "year"])["ratio"].astype(float)
    in_programs = set(dataset.programs["geoid"])
    met = series[(series["year"] == 2015) & (series["ratio"] >= 1.5) & ~series["geoid"].isin(in_programs)]
    selection = rtm.not_chosen(dataset, sites, 1.5)
    assert {g for g, _ in selection.not_chosen} == set(met["geoid"]) and len(met) > 20
    curve = rtm.regression_curve(dataset, sites, 1.5).set_index(["group", "years_since_joining"])
    for k, year in ((-2, 2015), (5, 2022)):
        chosen = ratio.reindex([(g, year) for g in met["geoid"]]).dropna()
        assert curve.loc[("not chosen", k), "median_ratio"] == pytest.approx(chosen.median(), abs=0.006)
        assert curve.loc[("not chosen", k), "places"] == len(chosen)
        own = ratio.reindex([(g, year) for g, _ in sites]).dropna()
        assert curve.loc[("sites", k), "median_ratio"] == pytest.approx(own.median(), abs=0.006)
    assert math.isnan(curve.loc[("not chosen", 3), "median_ratio"])  # 2020: a gap, not a zero
    stricter = rtm.not_chosen(dataset, sites, 3.0)
    assert 0 < len(stricter.not_chosen) < len(selection.not_chosen)
    summary = outcomes_summary(dataset, state)
    start = curve.loc[("not chosen", -2), "median_ratio"]
    assert f"({len(met)} places at least 1.5× the US rate in 2015) went from {start:.2f}×" in summary
    figure = outcomes_view_figure(dataset, parse_query("cohort=psp-2017&threshold=3", dataset))
    top = [t for t in figure.data if t.legend == "legend2"]
    assert [t.name for t in top] == ["Sites shown (median)", "Not chosen, as violent in 2015 (median)"]
    assert any(s.y0 == 3.0 and s.y1 == 3.0 for s in figure.layout.shapes)  # the threshold, as viewed
    bands = [t for t in figure.data if t.fill == "toself"]
    assert len(bands) >= 8 and bands[0].showlegend  # every site with a verdict has its placebo band


def test_placebo_band_is_drawn_around_the_comparison_and_broken_at_gaps() -> None:
    site = pd.DataFrame(
        {
            "years_since_joining": [-1, 0, 1, 2],
            "comparison_value": [500.0, 510.0, float("nan"), 530.0],
            "placebo_gap_low": [-20.0, -25.0, -30.0, -40.0],
            "placebo_gap_high": [15.0, 20.0, 30.0, 45.0],
        }
    )
    band = placebo_band(site, {"xaxis": "x", "yaxis": "y"}, True)
    assert band["x"] == [-1, 0, 0, -1, None, 2, 2, None]  # no comparison in year 1: two shapes
    assert band["y"] == [515.0, 530.0, 485.0, 480.0, None, 575.0, 490.0, None]


def test_the_method_note_states_the_rules_the_build_applied() -> None:
    assert method.NEAREST_DONORS == outcomes_pipeline.NEAREST_DONORS
    assert method.YEARS_BEFORE == outcomes_pipeline.YEARS_BEFORE == rtm.YEARS_BEFORE
    assert method.MIN_DONORS == synth.MIN_DONORS and method.MIN_MATCH_YEARS == synth.MIN_MATCH_YEARS
    assert method.MIN_POST_YEARS == synth.MIN_POST_YEARS and method.CLAIM_LEVEL == synth.CLAIM_LEVEL
    assert method.POOR_FIT_PERCENT / 100 == synth.POOR_FIT_SHARE
    assert method.BAND_PERCENTILES == synth.BAND_PERCENTILES
    text = " ".join(p for _, p in method.method_paragraphs()) + method.data_note()
    for words in (
        "Abadie, Diamond & Hainmueller",
        "Callaway & Sant'Anna",
        "pysyncon 1.7.0",
        "rank 1 to 4 of 41",
    ):
        assert words in text


def test_summary_of_sites_that_joined_in_different_years_words_the_years_since_joining(dataset) -> None:
    """Oxford AL (PSP 2019) and Phoenix (PSP 2017 pilot) have two selection years ("2016–2017"): the
    regression sentence counts years since joining instead of naming one calendar year (a fuzz test
    found this answered 500)."""
    from dashboard.views.outcomes import outcomes_summary

    text = outcomes_summary(dataset, parse_query("?cohort=all-cities&cities=0157576,4075000", dataset))
    assert "–" in text.split("the US rate in ", 1)[1].split(")", 1)[0]  # a span of selection years
    assert "years after joining;" in text
