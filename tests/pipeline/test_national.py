"""The national series on the real raw files: precedence, both rape definitions, notes.

Expected numbers were read by hand from CIUS Table 1 (2013-2015 editions), the FBI CDE
estimates file and the UCR Data Tool export (see shared/sources/crime/PROVENANCE.md 2-3).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from dashboard.pipeline.sources.national import build_national_series, cross_check_marshall
from dashboard.schema import NATIONAL_COLUMNS, OFFENCES

SOURCES = Path(__file__).resolve().parents[2].parent / "shared" / "sources"
pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="raw sources not available")

CIUS_2015 = "FBI CIUS 2015 Table 1"
CDE = "FBI Crime Data Explorer, estimated crimes 1979-2019"
UCRDT = "FBI UCR Data Tool (United States-Total)"


@functools.cache
def national() -> pd.DataFrame:
    return build_national_series(SOURCES)


def get(year: int, definition: str = "legacy") -> pd.Series:
    frame = national()
    hit = frame[(frame["year"] == year) & (frame["rape_definition"] == definition)]
    assert len(hit) == 1, (year, definition)
    return hit.iloc[0]


def rate(record: pd.Series, column: str = "violent_crime") -> float:
    return round(int(record[column]) * 100_000 / int(record["population"]), 1)


def test_columns_types_and_keys() -> None:
    frame = national()
    assert tuple(frame.columns) == NATIONAL_COLUMNS
    for column in ("population", *OFFENCES):
        assert str(frame[column].dtype) == "Int64"
    assert not frame.duplicated(["year", "rape_definition"]).any()
    legacy = frame[frame["rape_definition"] == "legacy"]
    revised = frame[frame["rape_definition"] == "revised"]
    assert legacy["year"].tolist() == list(range(1960, 2017))
    assert revised["year"].tolist() == list(range(2013, 2024))  # 2020-2023: CDE (issue 12)
    assert legacy["violent_crime"].notna().all() and legacy["population"].notna().all()
    assert frame[list(OFFENCES)].notna().all().all()


def test_2015_as_published_when_psp_was_announced() -> None:
    us_2015 = get(2015)
    assert int(us_2015["violent_crime"]) == 1_197_704
    assert int(us_2015["population"]) == 321_418_820
    assert rate(us_2015) == 372.6
    assert int(us_2015["murder"]) == 15_696
    assert us_2015["source"] == CIUS_2015


def test_2014_comes_from_the_2015_edition() -> None:
    us_2014 = get(2014)
    assert us_2014["source"] == CIUS_2015
    assert int(us_2014["violent_crime"]) == 1_153_022  # the 2014 edition printed 1,165,383 (365.5)
    assert rate(us_2014) == 361.6
    assert "adjusted" in us_2014["notes"]  # the edition's own footnote on 2014


def test_edition_precedence() -> None:
    assert get(1994)["source"] == "FBI CIUS 2013 Table 1"
    assert get(1995)["source"] == "FBI CIUS 2014 Table 1"
    assert get(1996)["source"] == CIUS_2015
    assert get(2013)["source"] == CIUS_2015 and rate(get(2013)) == 369.1  # 2013 edition: 367.9
    assert get(1993)["source"] == CDE and get(1979)["source"] == CDE
    assert get(1978)["source"] == UCRDT and get(1960)["source"] == UCRDT
    assert get(2016)["source"] == CDE and get(2019, "revised")["source"] == CDE


def test_1991_rate() -> None:
    us_1991 = get(1991)
    assert int(us_1991["violent_crime"]) == 1_911_767
    assert rate(us_1991) == 758.2


def test_2016_both_definitions() -> None:
    legacy, revised = get(2016, "legacy"), get(2016, "revised")
    assert int(legacy["violent_crime"]) == 1_250_162
    assert int(revised["violent_crime"]) == 1_285_606
    assert (int(legacy["rape"]), int(revised["rape"])) == (96_970, 132_414)
    assert int(legacy["population"]) == int(revised["population"]) == 323_405_935
    assert (rate(legacy), rate(revised)) == (386.6, 397.5)
    assert "violent total derived: revised total − revised rape + legacy rape" in legacy["notes"]
    assert "derived" not in revised["notes"]  # the CDE publishes the revised total from 2016


@pytest.mark.parametrize(
    ("year", "rape_revised", "violent_revised"),
    [(2013, 113_695, 1_199_884), (2014, 118_027, 1_186_185), (2015, 124_047, 1_231_566)],
)
def test_revised_rows_2013_2015_are_derived_from_cius_2015(
    year: int, rape_revised: int, violent_revised: int
) -> None:
    legacy, revised = get(year, "legacy"), get(year, "revised")
    assert int(revised["rape"]) == rape_revised
    assert int(revised["violent_crime"]) == violent_revised
    assert int(revised["violent_crime"]) == int(legacy["violent_crime"]) - int(legacy["rape"]) + rape_revised
    assert revised["notes"].startswith(
        "violent total derived: legacy total − legacy rape + revised rape, FBI CIUS 2015 Table 1"
    )
    assert revised["source"] == legacy["source"] == CIUS_2015


def test_no_legacy_rows_after_2016() -> None:
    frame = national()
    assert frame.loc[frame["year"] > 2016, "rape_definition"].eq("revised").all()
    assert int(get(2017, "revised")["violent_crime"]) == 1_283_875
    assert int(get(2019, "revised")["population"]) == 328_239_523


def test_non_rape_values_identical_across_definitions() -> None:
    frame = national()
    shared = ["population", *[c for c in OFFENCES if c not in ("violent_crime", "rape")], "source"]
    both = frame[frame.duplicated("year", keep=False)]
    assert sorted(set(both["year"])) == [2013, 2014, 2015, 2016]
    assert (both.groupby("year")[shared].nunique() == 1).all().all()


def test_ucr_data_tool_years_reproduce_the_printed_rates() -> None:
    # state_crime.csv "United States-Total": population and violent / murder rates as printed.
    assert int(get(1960)["population"]) == 179_323_175
    assert rate(get(1960)) == 160.9
    assert rate(get(1970)) == 363.5
    assert rate(get(1975)) == 487.8
    assert rate(get(1978), "murder") == 9.0
    assert "counts reconstructed from UCR Data Tool rate x population" in get(1965)["notes"]


def test_source_switch_and_footnote_notes() -> None:
    switch_years = {1978, 1979, 1993, 1994, 1995, 1996, 2015, 2016}
    for year in range(1960, 2017):
        assert ("source differs from" in get(year)["notes"]) == (year in switch_years), year
    assert "source differs from 1995 (FBI CIUS 2014 Table 1)" in get(1994)["notes"]
    assert "September 11, 2001" in get(2001)["notes"]
    assert int(get(2001)["murder"]) == 16_037


def test_marshall_cross_check() -> None:
    report = cross_check_marshall(national(), SOURCES).set_index("year")
    assert (report.index.min(), report.index.max()) == (1975, 2015)
    exact = [y for y in report.index if 1979 <= y <= 2010 or y in (2013, 2014, 2015)]
    assert (report.loc[exact, "violent_crime_rel_diff"] == 0).all()
    # 1975-1978: reconstructed counts vs Marshall's rounded figures; 2012: CIUS 2012 vs adjusted figure.
    assert (report["violent_crime_rel_diff"].abs() < 0.003).all()
    assert int(report.loc[2012, "violent_crime_marshall"]) == 1_214_464
