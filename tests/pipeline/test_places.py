"""Every city-table row against every Census place (issue 13): matched, or unmatched with a reason."""

from __future__ import annotations

import pandas as pd

from dashboard.pipeline.names import Place
from dashboard.pipeline.places import base_name, match_all_rows
from tests.conftest import GEODATA


def test_census_suffixes_are_dropped() -> None:
    assert base_name("Abbeville city") == "Abbeville"
    assert base_name("Addison town") == "Addison"
    assert base_name("Nashville-Davidson metropolitan government (balance)") == "Nashville-Davidson"


def test_a_name_two_places_share_is_refused_and_each_miss_says_why() -> None:
    places = [Place("0100001", "AL", "Twin"), Place("0100002", "AL", "Twin"), Place("0100003", "AL", "Solo")]
    rows = pd.DataFrame(
        {
            "state": ["AL", "AL", "NJ", "CA"],
            "agency": ["Twin", "Solo", "Edison Township", "Jurupa Valley"],
            "year": 2022,
            "population": [5_000, 20_000, 108_050, 108_601],
            "source": "FBI CIUS 2022 Table 8",
        }
    )
    matched = match_all_rows(rows, places)
    assert matched["place_geoid"].tolist()[1] == "0100003" and pd.isna(matched["place_geoid"].iloc[0])
    assert matched["unmatched_reason"].tolist() == [
        "ambiguous", "", "county subdivision", "not in the 2010 gazetteer",
    ]  # fmt: skip
    assert matched["peer_group"].tolist() == ["under-10k", "10k-25k", "100k-250k", "100k-250k"]


def test_the_committed_report_lists_every_unmatched_row_with_a_reason() -> None:
    unmatched = pd.read_csv(GEODATA / "unmatched_places.csv", dtype=str, keep_default_na=False)
    reasons = {"ambiguous", "county subdivision", "not in the 2010 gazetteer"}
    assert set(unmatched["unmatched_reason"]) <= reasons
    latest = unmatched[unmatched["year"] == "2022"]
    # Jurupa Valley (incorporated 2011) and South Fulton GA (2017) are not 2010 places
    assert {"Jurupa Valley", "South Fulton"} <= set(latest.loc[latest["unmatched_reason"] != "", "agency"])
    report = (GEODATA / "COVERAGE.md").read_text(encoding="utf-8")
    assert "| 250,000 and over | 85 | 100.0% |" in report  # every large city of 2022 has its place
