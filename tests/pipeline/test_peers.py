"""Peer groups (issue 13): rates of places by FBI population group, summed from every city-table row."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.pipeline.sources.cius_groups import parse_table_16
from dashboard.schema import PEER_GROUPS, peer_group_of
from tests.conftest import GEODATA, SOURCES

CHECKED = ("violent_crime", "murder", "robbery", "aggravated_assault", "property_crime", "burglary",
           "larceny_theft", "motor_vehicle_theft")  # fmt: skip


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return pd.read_csv(GEODATA / "peer_groups_year.csv", dtype={"peer_group": str}, keep_default_na=False)


def test_groups_follow_the_fbi_bounds() -> None:
    assert [peer_group_of(p) for p in (250_000, 249_999, 100_000, 50_000, 25_000, 10_000, 9_999)] == [
        "250k+", "100k-250k", "100k-250k", "50k-100k", "25k-50k", "10k-25k", "under-10k",
    ]  # fmt: skip
    assert peer_group_of(None) == "" and peer_group_of(0) == ""


def test_every_city_table_year_has_six_groups(committed) -> None:
    years = sorted(set(committed["year"]))
    assert years == [2010, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022]
    assert (committed.groupby("year")["peer_group"].apply(list) == [[g for g, *_ in PEER_GROUPS]] * 10).all()
    # about 9,000 places a year are summed (5,873 rows in the NIBRS-only 2021 table)
    assert committed.groupby("year")["places"].sum().between(5_000, 10_000).all()


def test_derived_rates_match_the_fbis_own_group_table_where_published(committed) -> None:
    """CIUS Table 16 (2013-2015): groups I-V within 2% for every offence; the smallest group is flagged."""
    printed = parse_table_16(SOURCES).set_index(["year", "peer_group", "offence"])["rate"]
    assert len(printed) == 3 * 6 * 9
    for row in committed[committed["year"].between(2013, 2015)].itertuples():
        for offence in CHECKED:
            derived = getattr(row, offence) / getattr(row, f"{offence}_population") * 100_000
            fbi = printed[(row.year, row.peer_group, offence)]
            if row.peer_group != "under-10k":
                assert derived == pytest.approx(fbi, rel=0.02, abs=0.1), (row.year, row.peer_group, offence)
        assert f"FBI CIUS {row.year} Table 16 prints violent crime" in row.notes
    # 2015 Group I, FBI Table 16: 436,315 violent crimes, 734.2 per 100,000; the sum of Table 8 agrees
    group_one = committed.query("year == 2015 and peer_group == '250k+'").iloc[0]
    assert group_one["violent_crime"] == 436_315
    assert "indicative only" in committed.query("year == 2015 and peer_group == 'under-10k'").iloc[0]["notes"]
