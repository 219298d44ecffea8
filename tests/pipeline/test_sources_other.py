"""The non-CIUS city parsers (UCR Data Tool, Kaplan extracts, Marshall Project) on the real raw files.

Expected numbers were read by hand from the raw files and from CIUS Table 8/6 (see
shared/sources/crime/PROVENANCE.md sections 3-5).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from dashboard.pipeline.sources.kaplan import parse_kaplan_extracts
from dashboard.pipeline.sources.marshall import parse_marshall
from dashboard.pipeline.sources.ucr_data_tool import counts_from_rates, parse_ucr_data_tool_cities
from dashboard.schema import OFFENCES, RAW_CITY_COLUMNS, SOURCE_KINDS

SOURCES = Path(__file__).resolve().parents[2].parent / "shared" / "sources"
pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="raw sources not available")

COUNT_COLUMNS = ("population", *OFFENCES)
TABLE_ORDER = ("population", "violent_crime", "murder", "rape", "robbery", "aggravated_assault",
               "property_crime", "burglary", "larceny_theft", "motor_vehicle_theft")  # fmt: skip


@functools.cache
def ucrdt() -> pd.DataFrame:
    return parse_ucr_data_tool_cities(SOURCES)


@functools.cache
def kaplan() -> pd.DataFrame:
    return parse_kaplan_extracts(SOURCES)


@functools.cache
def marshall() -> pd.DataFrame:
    return parse_marshall(SOURCES)


def row(frame: pd.DataFrame, state: str, agency: str, year: int) -> pd.Series:
    hit = frame[(frame["state"] == state) & (frame["agency"] == agency) & (frame["year"] == year)]
    assert len(hit) == 1, (state, agency, year, len(hit))
    return hit.iloc[0]


def values(record: pd.Series, columns: tuple[str, ...] = TABLE_ORDER) -> tuple:
    return tuple(None if pd.isna(record[c]) else int(record[c]) for c in columns)


# --- shape shared by all three parsers ---------------------------------------------------------


@pytest.mark.parametrize("parse", [ucrdt, kaplan, marshall], ids=["ucrdt", "kaplan", "marshall"])
def test_schema_and_types(parse) -> None:
    frame = parse()
    assert tuple(frame.columns) == RAW_CITY_COLUMNS
    for column in COUNT_COLUMNS:
        assert str(frame[column].dtype) == "Int64", column
    assert frame["year"].dtype.kind == "i"
    assert set(frame["rape_definition"]) <= {"legacy", "revised"}
    assert (frame.loc[frame["year"] < 2013, "rape_definition"] == "legacy").all()
    assert set(frame["source_kind"]) <= set(SOURCE_KINDS) and frame["source_kind"].nunique() == 1
    assert frame["notes"].notna().all()
    assert not frame.duplicated(["state", "agency", "year"]).any()
    assert frame["state"].str.fullmatch(r"[A-Z]{2}").all()
    # no row without any offence figure
    assert frame[list(OFFENCES)].notna().any(axis=1).all()


# --- UCR Data Tool -----------------------------------------------------------------------------


def test_counts_from_rates_rounds_half_up_and_keeps_missing() -> None:
    rates = pd.Series([1071.3, None, 2.5, 0.0])
    population = pd.Series([2_099_451, 100_000, 100_000, 500_000])
    assert counts_from_rates(rates, population).tolist() == [22491, pd.NA, 3, 0]


def test_ucrdt_coverage() -> None:
    frame = ucrdt()
    assert (frame["year"].min(), frame["year"].max()) == (1985, 2012)
    assert frame.groupby(["state", "agency"]).ngroups == 290
    assert (frame["source"] == "FBI UCR Data Tool").all()
    assert frame["notes"].str.startswith("count reconstructed from UCR Data Tool rate x population").all()


def test_ucrdt_houston_2010_matches_table_8() -> None:
    houston = row(ucrdt(), "TX", "Houston Police Dept", 2010)
    table_8_violent = 22_491  # CIUS 2010 Table 8 (10tbl08.xls)
    assert abs(int(houston["violent_crime"]) - table_8_violent) <= 0.005 * table_8_violent
    assert int(houston["murder"]) == 269  # T8 269
    assert abs(int(houston["robbery"]) - 9_449) <= 1  # T8 9,449: rate rounding, +/-1
    assert int(houston["population"]) == 2_099_451  # census count (T8 uses 2,280,859)


def test_ucrdt_chicago_has_no_rape_or_violent_but_other_counts() -> None:
    chicago = ucrdt()[ucrdt()["agency"] == "Chicago Police Dept"]
    assert len(chicago) == 28
    assert chicago["violent_crime"].isna().all() and chicago["rape"].isna().all()
    assert chicago["murder"].notna().all()
    assert int(row(ucrdt(), "IL", "Chicago Police Dept", 1985)["murder"]) == 666  # Marshall: 666 too
    assert chicago["notes"].str.contains("no violent total").all()


def test_ucrdt_springfield_il_2010_equals_table_8() -> None:
    springfield = row(ucrdt(), "IL", "Springfield Police Dept", 2010)
    assert values(springfield)[1:] == (1452, 7, 104, 338, 1003, 7567, 2167, 5160, 240)
    assert row(ucrdt(), "IL", "Springfield Police Dept", 2009)["violent_crime"] is pd.NA


# --- Kaplan ------------------------------------------------------------------------------------


def test_kaplan_agencies_and_years() -> None:
    frame = kaplan()
    years = frame.groupby("state")["year"].agg(["min", "max", "count"])
    assert years.loc["AL"].tolist() == [2013, 2016, 4]  # Birmingham 2013-2016 only
    assert years.loc["IL"].tolist() == [1985, 2016, 31]  # 1993 blank in the source: no row
    assert years.loc["AR"].tolist() == [1985, 2016, 31]  # 2003 absent in the source
    assert years.loc["DE"].tolist() == [1985, 2016, 26]
    assert 1993 not in set(frame.loc[frame["state"] == "IL", "year"])
    assert set(frame["agency"]) == {
        "Birmingham Police Department", "West Memphis Police Department", "Richmond Police Department",
        "Wilmington Police Department", "Springfield Police Department", "Jackson Police Department",
    }  # fmt: skip
    assert (frame["source"] == "Kaplan Return A extract (crimedatatool_helper)").all()
    assert (frame["source_kind"] == "raw_agency_extract").all()


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # CIUS 2014/2015 Table 8 and 2016 Table 6: identical in every column, population included.
        (2014, (117134, 1248, 4, 97, 258, 889, 5535, 1110, 4300, 125)),
        (2015, (116875, 1251, 11, 103, 257, 880, 5321, 1131, 3997, 193)),
        (2016, (116563, 1301, 6, 99, 249, 947, 5158, 1250, 3681, 227)),
    ],
)
def test_kaplan_springfield_equals_cius(year: int, expected: tuple) -> None:
    springfield = row(kaplan(), "IL", "Springfield Police Department", year)
    assert values(springfield) == expected
    assert springfield["rape_definition"] == "revised"


def test_kaplan_springfield_2010_equals_table_8_counts() -> None:
    springfield = row(kaplan(), "IL", "Springfield Police Department", 2010)
    # CIUS 2010 Table 8 counts; its population (117,383) is an FBI estimate, Kaplan's is 116,250.
    assert values(springfield)[1:] == (1452, 7, 104, 338, 1003, 7567, 2167, 5160, 240)


def test_kaplan_springfield_excluded_rape_is_missing_not_zero() -> None:
    springfield = kaplan()[kaplan()["state"] == "IL"].set_index("year")
    excluded = springfield.loc[1985:2009]
    assert excluded["rape"].isna().all() and excluded["violent_crime"].isna().all()
    assert (
        excluded["notes"]
        .str.contains(r"rape not reported to UCR under the federal definition \(Illinois\)")
        .all()
    )
    assert excluded["robbery"].notna().all() and int(springfield.loc[1995, "robbery"]) == 564
    assert int(springfield.loc[1995, "property_crime"]) == 9185
    assert "73" in springfield.loc[1985, "notes"]  # the non-federal 1985 count is named, not used
    assert springfield.loc[2013, "rape_definition"] == "legacy"  # CIUS 2013 prints it as legacy
    assert int(springfield.loc[2013, "violent_crime"]) == 1192  # T8 2013: 1,191 (agg. assault 829 vs 830)


def test_kaplan_wilmington_1998_2000_rape_missing() -> None:
    wilmington = kaplan()[kaplan()["state"] == "DE"].set_index("year")
    assert wilmington.loc[1998:2000, "rape"].isna().all()
    assert wilmington.loc[1998:2000, "violent_crime"].isna().all()
    assert wilmington.loc[1998:2000, "notes"].str.contains("(Delaware)", regex=False).all()
    assert int(wilmington.loc[1998, "robbery"]) == 558
    assert int(wilmington.loc[2001, "rape"]) == 49 and int(wilmington.loc[2001, "violent_crime"]) == 1056
    assert not ({1987, 1993, 1994, 1995, 1996, 1997} & set(wilmington.index))


def test_kaplan_jackson_tn() -> None:
    # CIUS 2016 Table 6: identical in every column.
    assert values(row(kaplan(), "TN", "Jackson Police Department", 2016)) == (
        66990, 628, 7, 36, 108, 477, 2947, 650, 2170, 127)  # fmt: skip
    # CIUS 2015 Table 8: population and violent total identical (67,415; 724) but the parts differ
    # slightly (T8: rape 44, robbery 136, agg. assault 536, property 3,028).
    jackson_2015 = row(kaplan(), "TN", "Jackson Police Department", 2015)
    assert (int(jackson_2015["population"]), int(jackson_2015["violent_crime"])) == (67415, 724)
    jackson_1990 = row(kaplan(), "TN", "Jackson Police Department", 1990)
    assert jackson_1990["population"] is pd.NA and int(jackson_1990["violent_crime"]) == 855
    assert "population missing" in jackson_1990["notes"]


def test_kaplan_west_memphis_equals_cius() -> None:
    west_memphis_2010 = row(kaplan(), "AR", "West Memphis Police Department", 2010)
    assert values(west_memphis_2010)[1:] == (685, 6, 26, 124, 529, 2271, 1049, 1075, 147)  # T8 2010
    assert values(row(kaplan(), "AR", "West Memphis Police Department", 2016)) == (
        24818, 461, 14, 50, 80, 317, 1200, 369, 751, 80)  # fmt: skip  # T6 2016
    west_memphis_2013 = row(kaplan(), "AR", "West Memphis Police Department", 2013)
    assert west_memphis_2013["rape_definition"] == "revised" and "not confirmed" in west_memphis_2013["notes"]


def test_kaplan_birmingham_and_violent_uses_aggravated_assault_only() -> None:
    birmingham = kaplan()[kaplan()["state"] == "AL"].set_index("year")
    assert int(birmingham.loc[2016, "violent_crime"]) == 3420  # 78 + 150 + 947 + 2,245 (PROVENANCE)
    assert int(birmingham.loc[2016, "population"]) == 212549
    assert int(birmingham.loc[2013, "violent_crime"]) == 2852  # = T8 2013; act_assault_total would give 9,862
    assert (birmingham["rape_definition"] == "revised").all()


def test_kaplan_richmond_2000_zero_vehicle_theft_is_missing() -> None:
    richmond = kaplan()[kaplan()["state"] == "CA"].set_index("year")
    assert richmond.loc[2000, "motor_vehicle_theft"] is pd.NA
    assert richmond.loc[2000, "property_crime"] is pd.NA
    assert int(richmond.loc[2000, "burglary"]) == 1248
    assert richmond.loc[2013, "rape_definition"] == "legacy"  # CIUS 2013 Table 8 legacy column (35)
    assert richmond.loc[2014, "rape_definition"] == "revised"


def test_kaplan_no_zero_rape_in_excluded_years() -> None:
    frame = kaplan()
    il_zero = frame[(frame["state"] == "IL") & (frame["rape"] == 0)]
    de_zero = frame[(frame["state"] == "DE") & (frame["rape"] == 0)]
    assert il_zero.empty and de_zero.empty


# --- Marshall Project --------------------------------------------------------------------------


def test_marshall_chicago_murders() -> None:
    chicago = marshall()[(marshall()["state"] == "IL") & (marshall()["agency"] == "Chicago")].set_index(
        "year"
    )
    assert int(chicago.loc[2015, "murder"]) == 478
    assert int(chicago.loc[2014, "murder"]) == 415  # ICPSR raw file; CIUS 2014 Table 8 prints 411
    assert int(chicago.loc[2014, "violent_crime"]) == 24133
    assert int(chicago.loc[2015, "violent_crime"]) == 24663  # = CIUS 2015 Table 8
    assert int(chicago.loc[1991, "violent_crime"]) == 90520  # FBI published none: CPD-supplied rape
    assert chicago.loc[2015, "rape_definition"] == "revised"  # T8 2015 revised column (1,432)
    assert (chicago.index.min(), chicago.index.max(), len(chicago)) == (1975, 2015, 41)


def test_marshall_shape_and_exclusions() -> None:
    frame = marshall()
    assert "National" not in set(frame["agency"])
    assert frame.groupby(["state", "agency"]).ngroups == 68
    for column in ("property_crime", "burglary", "larceny_theft", "motor_vehicle_theft"):
        assert frame[column].isna().all()
    assert (frame["source"] == "Marshall Project city-crime (ICPSR/CIUS)").all()
    assert (frame["source_kind"] == "marshall_project").all()
    louisville = frame[frame["agency"] == "Louisville, Ky."]
    assert louisville["year"].min() == 2003  # 1975-2002 are blank in the file
    cincinnati_years = set(frame.loc[frame["agency"] == "Cincinnati", "year"])
    assert not ({1997, 1998} & cincinnati_years)


def test_marshall_states_from_ori() -> None:
    frame = marshall()
    assert set(frame.loc[frame["agency"] == "Omaha, Neb.", "state"]) == {"NE"}  # ORI prefix NB
    assert set(frame.loc[frame["agency"] == "Memphis, Tenn.", "state"]) == {"TN"}
    assert set(frame.loc[frame["agency"] == "Washington, D.C.", "state"]) == {"DC"}


def test_marshall_months_and_provider_notes() -> None:
    frame = marshall()
    new_orleans = row(frame, "LA", "New Orleans", 2005)
    assert "6 of 12 months reported" in new_orleans["notes"]
    assert "Louisiana Commission on Law Enforcement" in new_orleans["notes"]
    assert "10 of 12 months reported" in row(frame, "IN", "Indianapolis", 1995)["notes"]
    assert row(frame, "TX", "Houston", 2010)["notes"] == ""
    nyc_2001 = row(frame, "NY", "New York City", 2001)
    assert int(nyc_2001["murder"]) == 629 and "11 September 2001" in nyc_2001["notes"]
    assert row(frame, "TX", "Houston", 2013)["rape_definition"] == "legacy"  # T8 2013 legacy column (618)
    assert row(frame, "TX", "Houston", 2014)["rape_definition"] == "revised"  # T8 2014 revised column (812)
