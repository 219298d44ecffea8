"""Every city-table row against every Census place (issue 13): each stated rule and alias by a named
example, a county subdivision and an ambiguous pair refused, and the match-rate goal on the real tables."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.pipeline.names import normalise_name
from dashboard.pipeline.place_names import RULES
from dashboard.pipeline.places import (
    NOT_A_PLACE,
    REASONS,
    GazetteerPlace,
    base_name,
    census_kind,
    match_all_rows,
)
from dashboard.pipeline.subdivisions import county_subdivision_codes, crosswalk_key, load_not_places
from tests.conftest import GEODATA, SOURCES

# A small invented gazetteer: one place per rule, in the states whose rules differ.
PLACES = [
    GazetteerPlace("0100001", "AL", "Twin", "town"),
    GazetteerPlace("0100002", "AL", "Twin", "city"),
    GazetteerPlace("0100003", "AL", "Solo", "city"),
    GazetteerPlace("0100004", "AL", "Jackson", "city"),
    GazetteerPlace("0100005", "AL", "Jackson", "cdp"),
    GazetteerPlace("0100006", "AL", "Owens Cross Roads", "town"),
    GazetteerPlace("0100007", "AL", "La Fayette", "city"),
    GazetteerPlace("0600001", "CA", "El Paso de Robles", "city", "Paso Robles"),
    GazetteerPlace("3600001", "NY", "Chittenango", "village"),
    GazetteerPlace("3600002", "NY", "Southold", "cdp"),
    GazetteerPlace("1200001", "FL", "Pinecrest", "village"),
    GazetteerPlace("4800001", "TX", "Sansom Park", "city"),
    GazetteerPlace("4800002", "TX", "Westworth Village", "city"),
    GazetteerPlace("4800003", "TX", "Lakeview", "town"),
    GazetteerPlace("2500001", "MA", "Palmer Town", "city"),
    GazetteerPlace("2500002", "MA", "Wethersfield", "cdp"),
    GazetteerPlace("0400001", "AZ", "Snowflake", "town"),
    GazetteerPlace("0400002", "AZ", "Taylor", "town"),
]


def verdicts(labels: list[tuple[str, str]], subdivisions: dict[str, str] | None = None) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "state": [s for s, _ in labels],
            "agency": [a for _, a in labels],
            "year": 2022,
            "population": 5_000,
            "source": "FBI CIUS 2022 Table 8",
        }
    )
    return match_all_rows(rows, PLACES, subdivisions).set_index("agency")


def test_census_names_lose_their_type_and_keep_it_apart() -> None:
    assert base_name("Abbeville city") == "Abbeville"
    assert base_name("Nashville-Davidson metropolitan government (balance)") == "Nashville-Davidson"
    assert census_kind("Chittenango village") == "village" and census_kind("Urban Honolulu CDP") == "cdp"


@pytest.mark.parametrize(
    ("state", "label", "geoid", "rule"),
    [
        ("AL", "Solo", "0100003", "name"),
        ("AL", "Jackson", "0100004", "incorporated over CDP"),
        ("NY", "Chittenango Village6", "3600001", "printed type"),
        ("FL", "Village of Pinecrest", "1200001", "printed prefix"),
        ("TX", "Sansom Park Village", "4800001", "type differs"),
        ("CA", "Paso Robles", "0600001", "Census alternate name"),
        ("TX", "Westworth", "4800002", "Census name with type word"),
        ("MA", "Palmer", "2500001", "Census name with type word"),
        ("AL", "LaFayette", "0100007", "particle joined"),
    ],
)
def test_each_stated_rule_matches_its_example(state: str, label: str, geoid: str, rule: str) -> None:
    row = verdicts([(state, label)]).loc[label]
    assert (row["place_geoid"], row["match_rule"], row["unmatched_reason"]) == (geoid, rule, "")
    assert rule in RULES


@pytest.mark.parametrize(
    ("state", "label", "reason", "evidence"),
    [
        ("AL", "Twin", "ambiguous", "two or more incorporated places"),  # a town and a city of the name
        ("TX", "Lakeview, Harrison County", "ambiguous", "the FBI names a county"),  # one place, other county
        ("NJ", "Edison Township", "county subdivision", "rule: printed township"),
        ("NY", "Woodbury Town", "county subdivision", "rule: printed town"),
        ("NY", "Southold", "county subdivision", "only a CDP has the name"),  # the CDP is the town's core
        ("NJ", "Montclair", "county subdivision", "every municipality but a township"),
        ("AZ", "Snowflake-Taylor", "several jurisdictions", "Snowflake + Taylor"),
        ("NY", "Camillus Town and Village", "several jurisdictions", "joint name"),
        ("PA", "Stroud Area Regional", "several jurisdictions", '"Regional"'),
        ("TX", "Memorial Villages", "several jurisdictions", "not_places.csv"),
        ("CA", "Jurupa Valley", "not in the 2010 gazetteer", "no rule or alias"),
        ("AL", "Owens Crossroads", "not in the 2010 gazetteer", "no rule or alias"),  # the alias is real
    ],
)
def test_each_refusal_says_why(state: str, label: str, reason: str, evidence: str) -> None:
    row = verdicts([(state, label)]).loc[label]
    assert pd.isna(row["place_geoid"]) and row["unmatched_reason"] == reason
    assert evidence in row["evidence"]


def test_a_crosswalk_subdivision_code_overrides_a_cdp_but_never_an_unlisted_name() -> None:
    codes = {crosswalk_key("MA", "Wethersfield7"): "2500184900"}
    frame = verdicts([("MA", "Wethersfield7"), ("MA", "Palmer")], codes)
    assert frame.loc["Wethersfield7", "unmatched_reason"] == "county subdivision"
    assert frame.loc["Wethersfield7", "county_subdivision_geoid"] == "2500184900"
    assert frame.loc["Palmer", "place_geoid"] == "2500001"
    assert crosswalk_key("NY", "Chittenango  Village6") == "chittenango village ny"


def test_every_alias_and_not_place_row_says_why_and_none_is_both() -> None:
    aliases = pd.read_csv("dashboard/pipeline/aliases.csv", dtype=str, keep_default_na=False, comment="#")
    assert aliases["reason"].str.len().gt(10).all()
    not_places = load_not_places()
    assert all(len(why) > 10 and reason in NOT_A_PLACE for reason, why in not_places.values())
    aliased = {(s, normalise_name(a)) for s, a in zip(aliases["state"], aliases["agency"], strict=True)}
    assert not set(not_places) & aliased


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    from dashboard.pipeline.places import gazetteer_places
    from dashboard.pipeline.sources.cius_city import parse_city_tables

    rows = parse_city_tables(SOURCES)
    return match_all_rows(rows, gazetteer_places(SOURCES), county_subdivision_codes(SOURCES))


def _one(real: pd.DataFrame, year: int, state: str, agency: str) -> pd.Series:
    rows = real[(real["year"] == year) & (real["state"] == state) & (real["agency"] == agency)]
    assert len(rows) == 1, f"{len(rows)} rows for {year} {state} {agency!r}"
    return rows.iloc[0]


@pytest.mark.parametrize(
    ("year", "state", "agency", "geoid"),
    [
        (2022, "AR", "West Memphis", "0574540"),
        (2022, "AL", "Anniston", "0101852"),
        (2022, "AL", "Oxford", "0157576"),
        (2022, "NC", "Salisbury", "3758860"),
        (2022, "MI", "Saginaw", "2670520"),
        (2022, "CA", "Compton", "0615044"),
        (2010, "CA", "Paso Robles", "0622300"),  # Census alternate name
        (2010, "CA", "Carmel", "0611250"),  # alias: Carmel-by-the-Sea city
        (2010, "KY", "Middlesboro", "2151924"),  # alias: Middlesborough city
        (2010, "CA", "Ventura", "0665042"),  # alias: San Buenaventura (Ventura) city
        (2022, "TN", "Metropolitan Nashville Police Department", "4752006"),  # alias: the balance
        (2019, "TX", "Reno, Parker County", "4861604"),  # alias: the county settles two Reno cities
    ],
)
def test_named_places_of_the_real_tables_match(real, year: int, state: str, agency: str, geoid: str) -> None:
    assert _one(real, year, state, agency)["place_geoid"] == geoid


def test_real_subdivisions_and_ambiguous_names_are_refused(real) -> None:
    edison = _one(real, 2022, "NJ", "Edison Township")
    assert edison["unmatched_reason"] == "county subdivision"
    assert edison["county_subdivision_geoid"] == "3402320230"  # state 34, Middlesex County 023
    wethersfield = _one(real, 2010, "CT", "Wethersfield")  # the CDP is only the town's core
    assert wethersfield["unmatched_reason"] == "county subdivision"
    assert wethersfield["county_subdivision_geoid"].startswith("09")
    lakeside = _one(real, 2022, "TX", "Lakeside")  # two Lakeside towns in Texas
    assert lakeside["unmatched_reason"] == "ambiguous" and len(lakeside["candidates"].split()) == 2


def test_at_least_98_percent_of_rows_that_are_census_places_match_in_every_year(real) -> None:
    assert set(real["unmatched_reason"]) <= {"", *REASONS}
    places = real[~real["unmatched_reason"].isin(NOT_A_PLACE)]
    rates = places.groupby("year")["place_geoid"].apply(lambda g: g.notna().mean())
    assert sorted(rates.index) == [2010, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022]
    assert rates.min() >= 0.98, rates.to_dict()
    # a county subdivision is decided by the crosswalk for most rows, never by state alone
    subdivisions = real[real["unmatched_reason"] == "county subdivision"]
    assert subdivisions["evidence"].str.startswith("Data Commons").mean() > 0.8
    assert subdivisions["evidence"].ne("").all()


def test_the_committed_report_lists_every_unmatched_row_with_a_reason() -> None:
    unmatched = pd.read_csv(GEODATA / "unmatched_places.csv", dtype=str, keep_default_na=False)
    first = ["year", "state", "agency", "population", "source", "unmatched_reason"]
    assert list(unmatched.columns[:6]) == first  # columns are appended, never renamed
    assert set(unmatched["unmatched_reason"]) <= set(REASONS)
    assert unmatched["evidence"].str.len().gt(0).all()
    latest = unmatched[unmatched["year"] == "2022"]
    # Jurupa Valley (incorporated 2011) and South Fulton GA (2017) are not 2010 places
    assert {"Jurupa Valley", "South Fulton"} <= set(latest["agency"])
    report = (GEODATA / "COVERAGE.md").read_text(encoding="utf-8")
    assert "| 2022 | 250,000 and over | 85 | 85 | 100.0% |" in report  # all large cities match
