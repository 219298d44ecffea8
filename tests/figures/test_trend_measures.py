"""Trend measures (issue 18): rolling averages break at gaps, changes need their base year, the figure is
relabelled and small numbers are ringed."""

from __future__ import annotations

import math

import pandas as pd

from dashboard.data.caution import small_count
from dashboard.figures import trend_measures as tm
from dashboard.figures.map import label_values
from dashboard.views.headline import headline_text
from dashboard.views.ranking import leave_out_small
from dashboard.views.tables import TableData
from dashboard.web.fragments import parse_number, table_records

NAN = math.nan


def test_a_gap_breaks_the_rolling_window_and_is_never_bridged() -> None:
    out = tm.rolling_mean([3.0, 6.0, 9.0, NAN, 12.0, 15.0, 18.0])
    assert math.isnan(out[0]) and math.isnan(out[1]) and out[2] == 6.0
    assert all(math.isnan(v) for v in out[3:6]), "any window holding the gap is a gap"
    assert out[6] == 15.0


def test_change_since_needs_the_base_year() -> None:
    assert tm.change_since([50.0, 100.0, 75.0], [2000, 2001, 2002], 2001) == [-50.0, 0.0, -25.0]
    assert all(math.isnan(v) for v in tm.change_since([NAN, 2.0], [2000, 2001], 2000))
    assert all(math.isnan(v) for v in tm.change_since([1.0, 2.0], [2000, 2001], 1999))


def test_transform_fills_missing_years_as_gaps_per_city() -> None:
    frame = pd.DataFrame(
        {
            "geoid": ["a"] * 3 + ["b"] * 3,
            "year": [2000, 2001, 2003] * 2,
            "rate": [1.0, 2.0, 4.0, 2.0, 4.0, 8.0],
        }
    )
    out = tm.transform(frame, "rate", smooth=1, base=2000, key="geoid").set_index(["geoid", "year"])["rate"]
    assert out[("a", 2003)] == 300.0 and out[("b", 2001)] == 100.0
    smooth = tm.transform(frame, "rate", smooth=3, base=None, key="geoid")
    assert smooth["rate"].isna().all(), "2002 is missing, so no window of three is complete"


def test_small_count_is_true_under_the_threshold_and_empty_for_gaps() -> None:
    flags = small_count(pd.Series([9, 10, None, 0]), below=10)
    assert flags.tolist()[:2] == [True, False] and pd.isna(flags.iloc[2]) and bool(flags.iloc[3])


def test_leaving_out_small_counts_reranks_without_holes() -> None:
    ranked = pd.DataFrame({"geoid": list("abcd"), "count": [50, 3, 20, None], "rank": [1, 2, 3, 4]})
    kept, left_out = leave_out_small(ranked, below=10)
    assert kept["geoid"].tolist() == ["a", "c", "d"] and kept["rank"].tolist() == [1, 2, 3] and left_out == 1


def test_headline_counts_places_above_the_threshold_and_the_chosen_ones() -> None:
    ranked = pd.DataFrame(
        {"above": [True, True, True, False], "highlight": ["PSP 2017", "other", "PSP 2017", "PSP 2017"]}
    )
    text = headline_text(
        ranked, year=2015, threshold=1.5, offence_label="Violent crime", group="PSP 2017 sites"
    )
    assert text == (
        "In 2015, 3 of 4 cities with data had violent crime at least 1.5× the national rate; "
        "2 of the 3 PSP 2017 sites with data were among them."
    )
    every = headline_text(ranked.iloc[:1], year=2015, threshold=2, offence_label="Murder", group="PSP sites")
    assert every.endswith("1 of the 1 PSP sites with data was among them.")


def test_labels_list_the_largest_places_first() -> None:
    cities = pd.DataFrame(
        {"name": ["Small", "Big"], "lon": [-90.0, -80.0], "lat": [35.0, 40.0], "population": [1000, 900000]},
        index=["1", "2"],
    )
    assert label_values(cities, ["1", "2", "9"])["text"] == ["Big", "Small"], "unknown ids are ignored"


def test_a_table_keeps_numbers_numeric_and_says_why_a_value_is_missing() -> None:
    table = TableData(
        caption="",
        headers=("City and year", "Rate per 100,000", "Ratio"),
        rows=(("A 2000", "1,740.2 per 100,000", "4.67× national"), ("A 2001", "not reported", "")),
    )
    columns, records = table_records(table)
    assert [c["type"] for c in columns] == ["text", "numeric", "numeric", "text"]
    assert records[0]["Rate per 100,000"] == 1740.2 and records[0]["Ratio"] == 4.67
    assert records[1]["Rate per 100,000"] is None and records[1]["Note"] == "not reported"
    assert parse_number("no data") is None


def test_restyle_relabels_a_change_and_drops_the_1x_line() -> None:
    spec = {
        "data": [
            {"legendgroup": "city", "customdata": [["A", "x"]], "x": [2000], "y": [12.5], "name": "City"},
            {"legendgroup": "us", "hoverinfo": "skip", "x": [1999.5, 2000.5], "y": [1, 1]},
        ],
        "layout": {"title": {"text": "Murder, times the national rate, 2000"}, "yaxis": {"range": [0, 2]}},
    }
    tm.restyle(spec, measure="ratio", smooth=1, base=1999, scale="log")
    assert len(spec["data"]) == 1 and spec["data"][0]["customdata"][0][1] == "+12.5% since 1999"
    assert "range" not in spec["layout"]["yaxis"] and spec["layout"]["yaxis"].get("type") != "log"
    tm.small_count_marks(spec, ["g"], {"g": {2000}}, "fewer than 10 murders")
    assert spec["data"][-1]["name"] == tm.SMALL_MARK_NAME and spec["data"][-1]["x"] == [2000]
