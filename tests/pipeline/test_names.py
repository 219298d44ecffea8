"""FBI labels -> Census GEOIDs: normalisation, aliases, ambiguity."""

from __future__ import annotations

import pytest

from dashboard.pipeline.names import Place, PlaceMatcher, load_aliases, normalise_name

PLACES = [
    Place("4737640", "TN", "Jackson"),
    Place("2836000", "MS", "Jackson"),
    Place("1714000", "IL", "Chicago"),
    Place("1836003", "IN", "Indianapolis city (balance)"),
    Place("4752006", "TN", "Nashville-Davidson metropolitan government (balance)"),
    Place("2965000", "MO", "St. Louis"),
    Place("4748000", "TN", "Memphis"),
    Place("0574540", "AR", "West Memphis"),
    Place("3410000", "NJ", "Camden"),
]


@pytest.fixture(scope="module")
def matcher() -> PlaceMatcher:
    return PlaceMatcher(PLACES)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Chicago3", "chicago"),
        ("City of Jackson, TN", "jackson"),
        ("Saint Louis", "saint louis"),
        ("St. Louis", "saint louis"),
        ("Abilene Police Dept", "abilene"),
        ("Winston-Salem", "winston salem"),
        ("Mobile4,5", "mobile"),
    ],
)
def test_normalise_name(label: str, expected: str) -> None:
    assert normalise_name(label) == expected


@pytest.mark.parametrize(
    ("state", "agency", "geoid"),
    [
        ("IL", "Chicago3", "1714000"),
        ("TN", "Jackson", "4737640"),
        ("MS", "Jackson", "2836000"),
        ("IN", "Indianapolis", "1836003"),
        ("TN", "Nashville Metropolitan", "4752006"),
        ("MO", "St Louis Police Dept", "2965000"),
        ("TN|MS|AR", "Memphis", "4748000"),
        ("TN|MS|AR", "West Memphis", "0574540"),
        ("NJ", "Camden County Police Department", "3410000"),
    ],
)
def test_match(matcher: PlaceMatcher, state: str, agency: str, geoid: str) -> None:
    assert matcher.match(state, agency) == geoid


def test_ambiguous_multi_state_label_is_not_guessed(matcher: PlaceMatcher) -> None:
    # "Jackson" exists in both TN and MS: a row that only says "TN|MS" must stay unmatched.
    assert matcher.match("TN|MS", "Jackson") is None


def test_unknown_city_is_unmatched(matcher: PlaceMatcher) -> None:
    assert matcher.match("IL", "Springfield") is None
    assert matcher.match("TX", "Chicago") is None


def test_alias_table_is_well_formed() -> None:
    aliases = load_aliases()
    assert set(aliases.columns) >= {"state", "agency", "geoid", "reason"}
    assert aliases["geoid"].str.fullmatch(r"\d{7}").all()
    assert aliases["reason"].str.len().gt(10).all()
    assert not aliases.duplicated(["state", "key"]).any()


@pytest.mark.parametrize(
    ("state", "agency", "geoid"),
    [
        ("TN", "Memphis, Tenn.", "4748000"),  # Marshall Project labels
        ("TN", "Nashville-Davidson Metro Police Dept", "4752006"),  # UCR Data Tool label
        ("MO", "St. Louis, Mo.", "2965000"),
    ],
)
def test_source_specific_labels(matcher: PlaceMatcher, state: str, agency: str, geoid: str) -> None:
    assert matcher.match(state, agency) == geoid


def test_city_police_suffix() -> None:
    places = [Place("2629000", "MI", "Flint"), Place("2938000", "MO", "Kansas City")]
    matcher = PlaceMatcher(places)
    assert matcher.match("MI", "Flint City Police Dept") == "2629000"
    assert matcher.match("MO", "Kansas City Police Dept") == "2938000"
