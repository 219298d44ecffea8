"""CIUS city, MSA and county-table parsers, checked against figures read by hand out of the raw files.

Every expected number below was read directly from the source cell (xlrd / the CSV text), not from the parser.
The parsers cache their result, so the real files are read once per test session.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import xlrd

from dashboard.schema import OFFENCES, RAPE_DEFINITIONS, RAW_CITY_COLUMNS, SOURCE_KINDS

SOURCES = Path(__file__).resolve().parents[2].parent / "shared" / "sources"
if not SOURCES.is_dir():
    pytest.skip(f"raw sources not present at {SOURCES}", allow_module_level=True)

from dashboard.pipeline.sources.cius_city import parse_city_tables  # noqa: E402
from dashboard.pipeline.sources.cius_common import parse_count, split_marks  # noqa: E402
from dashboard.pipeline.sources.cius_county import parse_camden_county  # noqa: E402
from dashboard.pipeline.sources.cius_msa import area_states, parse_msa_tables  # noqa: E402

# The order of the expected tuples below: population, violent, murder, rape, robbery, aggravated assault,
# property, burglary, larceny, motor vehicle theft.
COUNTS = ("population", *OFFENCES)
NA = pd.NA


@pytest.fixture(scope="module")
def city() -> pd.DataFrame:
    return parse_city_tables(SOURCES)


@pytest.fixture(scope="module")
def msa() -> pd.DataFrame:
    return parse_msa_tables(SOURCES)


@pytest.fixture(scope="module")
def county() -> pd.DataFrame:
    return parse_camden_county(SOURCES)


def one(frame: pd.DataFrame, year: int, state: str, agency: str) -> pd.Series:
    """The single row for an exact (year, state, printed agency label)."""
    rows = frame[(frame["year"] == year) & (frame["state"] == state) & (frame["agency"] == agency)]
    assert len(rows) == 1, f"{len(rows)} rows for {year} {state} {agency!r}"
    return rows.iloc[0]


def msa_city(msa: pd.DataFrame, year: int, state: str, name: str) -> pd.Series | None:
    """An MSA principal-city row by plain name ("Memphis"), whatever footnotes/state the label carries."""

    def base(label: str) -> str:
        return re.sub(r",\s*[A-Z]{2}$", "", split_marks(label)[0])

    rows = msa[
        (msa["year"] == year)
        & msa["state"].str.split("|").map(lambda codes: state in codes)
        & msa["agency"].map(base).eq(name)
    ]
    assert len(rows) <= 1, rows
    return rows.iloc[0] if len(rows) else None


def assert_counts(row: pd.Series, expected: tuple) -> None:
    for field, value in zip(COUNTS, expected, strict=True):
        if value is NA:
            assert pd.isna(row[field]), (
                f"{row['agency']} {row['year']} {field}: expected <NA>, got {row[field]}"
            )
        else:
            assert not pd.isna(row[field]) and row[field] == value, f"{row['agency']} {row['year']} {field}"


# ----------------------------------------------------------------------------------------------------
# Shape
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["city", "msa", "county"])
def test_output_follows_the_schema(name: str, request: pytest.FixtureRequest) -> None:
    frame = request.getfixturevalue(name)
    assert tuple(frame.columns) == RAW_CITY_COLUMNS
    for column in COUNTS:
        assert frame[column].dtype == "Int64", column
    assert frame["year"].dtype == "int64"
    assert frame["rape_definition"].isin(RAPE_DEFINITIONS).all()
    assert frame["source_kind"].isin(SOURCE_KINDS).all()
    assert frame["notes"].map(type).eq(str).all()
    assert frame["agency"].str.len().gt(0).all()
    assert not frame.duplicated(["source", "state", "agency", "year"]).any()
    assert (frame[list(COUNTS)].fillna(0) >= 0).all().all()


def test_rows_per_city_table_edition(city: pd.DataFrame) -> None:
    # Sheet rows minus title/header rows, footnote rows and trailing blanks (2018: minus the "IOWA7" heading,
    # printed with no city under it).
    assert city.groupby("source").size().to_dict() == {
        "FBI CIUS 2010 Table 8": 9310,
        "FBI CIUS 2013 Table 8": 9292,
        "FBI CIUS 2014 Table 8": 9347,
        "FBI CIUS 2015 Table 8": 9395,
        "FBI CIUS 2016 Table 6": 9579,
        "FBI CIUS 2017 Table 8": 9579,
        "FBI CIUS 2018 Table 8": 9251,
        "FBI CIUS 2019 Table 8": 8105,
        "FBI CIUS 2021 Table 8": 5873,  # crime/PROVENANCE.md section 7: 5,873 and 7,876 city rows
        "FBI CIUS 2022 Table 8": 7876,
    }
    assert set(city["source_kind"]) == {"cius_city_table"}
    assert city[city["year"] == 2018]["state"].ne("IA").all()
    assert city["state"].str.fullmatch(r"[A-Z]{2}").all()


def test_msa_tables_cover_2000_to_2019_with_the_printed_table_numbers(msa: pd.DataFrame) -> None:
    sizes = msa.groupby("year").size()
    assert list(sizes.index) == list(range(2000, 2020))
    assert sizes.between(380, 650).all(), sizes
    sources = dict(zip(msa["year"], msa["source"], strict=False))
    assert sources[2012] == "FBI CIUS 2012 Table 6 (MSA)"
    assert sources[2016] == "FBI CIUS 2016 Table 4 (MSA)"
    assert sources[2019] == "FBI CIUS 2019 Table 6 (MSA)"
    assert set(msa["source_kind"]) == {"cius_msa_table"}
    assert msa["state"].str.fullmatch(r"[A-Z]{2}(\|[A-Z]{2})*").all()
    assert not msa["agency"].str.startswith("City of").any()


# ----------------------------------------------------------------------------------------------------
# Published figures, CIUS city tables
# ----------------------------------------------------------------------------------------------------

CITY_CASES = [
    # year, state, agency as printed, (population, violent, murder, rape, robbery, agg. assault, property,
    # burglary, larceny, motor vehicle theft), rape definition
    (2010, "IL", "Chicago7", (2833649, NA, 432, NA, 14213, 13757, 120045, 26203, 74764, 19078), "legacy"),
    (2010, "TN", "Memphis", (673650, 10384, 89, 422, 3236, 6637, 42138, 13094, 25114, 3930), "legacy"),
    (2010, "TN", "Jackson", (63969, 541, 2, 25, 145, 369, 4044, 1096, 2704, 244), "legacy"),
    (2010, "MI", "Lansing", (112254, 1236, 10, 97, 262, 867, 4193, 1410, 2544, 239), "legacy"),
    (2010, "IL", "Springfield", (117383, 1452, 7, 104, 338, 1003, 7567, 2167, 5160, 240), "legacy"),
    (2010, "OH", "Toledo6", (315647, 2854, 23, 140, 1097, 1594, NA, 7287, NA, 1197), "legacy"),
    (2010, "AL", "Andalusia2", (8946, 24, 0, 3, 0, 21, NA, NA, NA, 11), "legacy"),
    (2010, "AL", "Abbeville", (2950, 21, 1, 0, 0, 20, 67, 19, 45, 3), "legacy"),
    (2013, "IL", "Chicago", (2720554, NA, 414, NA, 11815, NA, 95908, 17775, 65497, 12636), "legacy"),
    (
        2014,
        "KY",
        "Louisville Metro6, 7",
        (677710, 4005, 56, 184, 1531, 2234, 28364, 6417, 19669, 2278),
        "revised",
    ),
    (
        2014,
        "IN",
        "Indianapolis7",
        (858238, 10768, 136, 573, 3808, 6251, 41394, 12125, 24090, 5179),
        "revised",
    ),
    (2015, "IL", "Chicago", (2728695, 24663, 478, 1432, 9649, 13104, 80395, 13151, 57022, 10222), "revised"),
    (2015, "TN", "Memphis", (657936, 11449, 135, 530, 3131, 7653, 37047, 10272, 24049, 2726), "revised"),
    (2015, "TN", "Jackson", (67415, 724, 8, 44, 136, 536, 3028, 736, 2169, 123), "revised"),
    (2015, "MI", "Lansing", (114694, 1327, 9, 118, 265, 935, 3450, 959, 2140, 351), "revised"),
    (2015, "IL", "Springfield", (116875, 1251, 11, 103, 257, 880, 5321, 1131, 3997, 193), "revised"),
    (2015, "AL", "Birmingham", (212291, 3707, 79, 159, 1114, 2355, 13499, 3146, 8838, 1515), "revised"),
    (2015, "MS", "Jackson", (170508, 1571, 53, 139, 781, 598, 8621, 2395, 5222, 1004), "legacy"),
    (2016, "IL", "Chicago", (2725153, 30126, 765, 1589, 11957, 15815, 86960, 14258, 61229, 11473), "revised"),
    (2016, "TN", "Memphis", (656434, 11947, 196, 534, 3188, 8029, 36988, 9150, 24604, 3234), "revised"),
    (
        2016,
        "TN",
        "Nashville Metropolitan",
        (668685, 7371, 81, 464, 1985, 4841, 24719, 4545, 18446, 1728),
        "revised",
    ),
    (2016, "MI", "Lansing", (115199, 1341, 9, 142, 260, 930, 3325, 897, 2053, 375), "revised"),
    (2017, "OH", "Toledo6, 8, 10", (277116, NA, 35, NA, 780, 1834, 11095, 3103, 7247, 745), "revised"),
    (2017, "TN", "Memphis", (652765, 13077, 181, 590, 3457, 8849, 41110, 9532, 27576, 4002), "revised"),
    (2018, "AL", "Birmingham", (210564, 4025, 88, 180, 941, 2816, 13295, 2555, 8988, 1752), "revised"),
]


@pytest.mark.parametrize(("year", "state", "agency", "expected", "definition"), CITY_CASES)
def test_city_table_published_figures(
    city: pd.DataFrame, year: int, state: str, agency: str, expected: tuple, definition: str
) -> None:
    row = one(city, year, state, agency)
    assert_counts(row, expected)
    assert row["rape_definition"] == definition
    assert row["source"] == f"FBI CIUS {year} Table {6 if year == 2016 else 8}"


def test_chicago_murders_2015_and_2016(city: pd.DataFrame, msa: pd.DataFrame) -> None:
    assert one(city, 2015, "IL", "Chicago")["murder"] == 478
    assert one(msa, 2015, "IL", "Chicago, IL")["murder"] == 478
    assert one(city, 2016, "IL", "Chicago")["murder"] == 765
    assert one(msa, 2016, "IL", "Chicago, IL")["murder"] == 765


def test_rape_definition_2015_revised_vs_legacy_reporter(city: pd.DataFrame) -> None:
    # Chicago filled the revised column (1,432), Jackson MS only the legacy one (139); violent includes it.
    chicago, jackson = one(city, 2015, "IL", "Chicago"), one(city, 2015, "MS", "Jackson")
    assert (chicago["rape"], chicago["rape_definition"]) == (1432, "revised")
    assert (jackson["rape"], jackson["rape_definition"]) == (139, "legacy")
    for row in (chicago, jackson):
        parts = row["murder"] + row["rape"] + row["robbery"] + row["aggravated_assault"]
        assert parts == row["violent_crime"]


def test_2017_legacy_or_underreported_agencies_keep_blank_rape_and_violent(city: pd.DataFrame) -> None:
    toledo = one(city, 2017, "OH", "Toledo6, 8, 10")
    assert pd.isna(toledo["violent_crime"]) and pd.isna(toledo["rape"])
    assert toledo["rape_definition"] == "revised"
    jackson_ms = one(city, 2018, "MS", "Jackson8")
    assert pd.isna(jackson_ms["violent_crime"]) and pd.isna(jackson_ms["rape"])
    assert "legacy UCR definition" in jackson_ms["notes"]


def test_footnotes_become_plain_notes(city: pd.DataFrame) -> None:
    chicago = one(city, 2010, "IL", "Chicago7")["notes"]
    assert (
        "FBI footnote: The data collection methodology for the offense of forcible rape used by Chicago"
        in chicago
    )
    assert "not comparable to previous years" in chicago  # footnote 5 on the state heading "ILLINOIS5"
    louisville = one(city, 2014, "KY", "Louisville Metro6, 7")["notes"]
    assert "began the year submitting rape data classified according to the legacy" in louisville
    assert "not comparable to previous years" in louisville
    hoover = one(city, 2019, "AL", "Hoover")["notes"]  # "ALABAMA3"
    assert hoover == "FBI footnote: Limited data for 2019 were available for Alabama."
    assert one(city, 2015, "IL", "Chicago")["notes"] == ""
    assert not city["notes"].str.contains("arson", case=False).any()  # arson is dropped, so are its footnotes


def test_label_variants_are_kept_as_printed(city: pd.DataFrame, msa: pd.DataFrame) -> None:
    tn = city[city["state"] == "TN"]
    assert set(tn[tn["agency"].str.startswith("Nashville")]["agency"]) == {
        "Nashville",
        "Nashville Metropolitan",
    }
    assert one(city, 2017, "NV", "Las Vegas Metropolitan Police Department")["murder"] == 205
    assert one(city, 2015, "KY", "Louisville Metro")["murder"] == 81
    assert one(msa, 2016, "TN", "Nashville Metropolitan")["population"] == 668685
    assert one(msa, 2005, "KY", "Louisville Metro, KY1")["population"] == 623735


def test_missing_editions_stay_missing(city: pd.DataFrame) -> None:
    alabama = city[(city["state"] == "AL") & (city["agency"] == "Birmingham")]
    assert sorted(alabama["year"]) == [2013, 2014, 2015, 2018, 2022]  # 2021: Birmingham did not report
    indianapolis = city[(city["state"] == "IN") & city["agency"].str.startswith("Indianapolis")]
    assert 2019 not in set(indianapolis["year"]) and {2018, 2021, 2022} <= set(indianapolis["year"])


# ----------------------------------------------------------------------------------------------------
# MSA tables
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "name", "years"),
    [
        ("TN", "Memphis", (2010, 2015, 2016)),
        ("AL", "Birmingham", (2015,)),
        ("TN", "Jackson", (2010, 2015, 2016)),
        ("MI", "Lansing", (2010, 2015, 2016)),
        ("IL", "Springfield", (2010, 2015, 2016)),
    ],
)
def test_city_table_and_msa_rows_agree(
    city: pd.DataFrame, msa: pd.DataFrame, state: str, name: str, years: tuple[int, ...]
) -> None:
    for year in years:
        table = city[(city["year"] == year) & (city["state"] == state)]
        table_row = table[table["agency"].map(lambda a: split_marks(a)[0]) == name]
        assert len(table_row) == 1, (year, name)
        msa_row = msa_city(msa, year, state, name)
        assert msa_row is not None, (year, name)
        for field in COUNTS:
            assert table_row.iloc[0][field] == msa_row[field], (year, name, field)
        assert msa_row["rape_definition"] == table_row.iloc[0]["rape_definition"]


def test_birmingham_2010_and_2016_are_in_neither_table(city: pd.DataFrame, msa: pd.DataFrame) -> None:
    for year in (2010, 2016):
        assert msa_city(msa, year, "AL", "Birmingham") is None
        assert city[(city["year"] == year) & (city["agency"] == "Birmingham") & (city["state"] == "AL")].empty


MSA_CASES = [
    # 2000 layout: "City of:" list, multi-state label with state and footnote ("Memphis, TN4")
    (2000, "TN", "Memphis, TN4", (628851, 9610, 146, 574, 4086, 4804, 49951, 14936, 26320, 8695), "legacy"),
    # 2000 prints "-" for a zero report ("Dashes (-) indicate a zero report")
    (2000, "OR", "Medford", (61839, 208, 0, 27, 30, 151, 3787, 415, 3178, 194), "legacy"),
    (2000, "TN", "Jackson4", (56063, 863, 6, 36, 163, 658, 3834, 924, 2472, 438), "legacy"),
    # multi-state MSA, label without a state: candidate states from the heading
    (2007, "TN|MS|AR", "Memphis", (669264, 13055, 128, 452, 4870, 7605, 53959, 14613, 33146, 6200), "legacy"),
    (2010, "TN|MS|AR", "Memphis", (673650, 10384, 89, 422, 3236, 6637, 42138, 13094, 25114, 3930), "legacy"),
    (2013, "IL", "Chicago, IL4, 5", (2720554, NA, 414, NA, 11815, NA, 95908, 17775, 65497, 12636), "legacy"),
    (2015, "MS", "Jackson", (170508, 1571, 53, 139, 781, 598, 8621, 2395, 5222, 1004), "legacy"),
    (
        2015,
        "IL",
        "Chicago, IL",
        (2728695, 24663, 478, 1432, 9649, 13104, 80395, 13151, 57022, 10222),
        "revised",
    ),
    (2017, "OH", "Toledo2, 5", (277116, NA, 35, NA, 780, 1834, 11095, 3103, 7247, 745), "revised"),
    (
        2017,
        "NJ",
        "Camden County Police Department, NJ",
        (74299, 1462, 23, 75, 410, 954, 2526, 583, 1393, 550),
        "revised",
    ),
]


@pytest.mark.parametrize(("year", "state", "agency", "expected", "definition"), MSA_CASES)
def test_msa_published_figures(
    msa: pd.DataFrame, year: int, state: str, agency: str, expected: tuple, definition: str
) -> None:
    row = one(msa, year, state, agency)
    assert_counts(row, expected)
    assert row["rape_definition"] == definition


def test_msa_2013_2016_rape_definition_comes_from_the_city_table(msa: pd.DataFrame) -> None:
    mixed = msa[msa["year"].between(2013, 2016)]
    assert mixed["notes"].str.contains(r"Rape definition \((?:revised|legacy)\) taken from FBI CIUS 20").all()
    assert set(mixed["rape_definition"]) == {"revised", "legacy"}
    assert set(msa[msa["year"] < 2013]["rape_definition"]) == {"legacy"}
    assert set(msa[msa["year"] > 2016]["rape_definition"]) == {"revised"}


def test_msa_heading_states() -> None:
    assert area_states("Memphis, TN-MS-AR M.S.A.") == "TN|MS|AR"
    assert area_states("Texarkana, TX-Texarkana, AR M.S.A.1") == "TX|AR"
    assert area_states("Washington, D.C.-MD-VA-WV M.S.A.7") == "DC|MD|VA|WV"
    assert area_states("San Juan-Carolina-Caguas, Puerto Rico M.S.A.") == "PR"
    assert area_states("Akron, OH M.S.A.2") == "OH"


# ----------------------------------------------------------------------------------------------------
# Camden County Police Department (Table 10, New Jersey)
# ----------------------------------------------------------------------------------------------------


def test_camden_county_police_department(county: pd.DataFrame) -> None:
    assert list(county["year"]) == [2013, 2014, 2015]
    assert set(county["agency"]) == {"Camden County Police Department"}
    assert set(county["state"]) == {"NJ"}
    assert set(county["source_kind"]) == {"cius_county_table"}
    assert county["population"].isna().all()
    row = one(county, 2013, "NJ", "Camden County Police Department")
    assert_counts(row, (NA, 1950, 57, 55, 732, 1106, 3260, 857, 1939, 464))
    assert row["rape_definition"] == "legacy"
    assert row["source"] == "FBI CIUS 2013 Table 10 (New Jersey)"
    assert "May 2013" in row["notes"] and "no population" in row["notes"]
    assert (
        one(county, 2014, "NJ", "Camden County Police Department")[["violent_crime", "murder"]] == [1550, 33]
    ).all()
    row_2015 = one(county, 2015, "NJ", "Camden County Police Department")
    assert (row_2015["violent_crime"], row_2015["murder"], row_2015["rape"]) == (1520, 32, 75)
    assert row_2015["rape_definition"] == "revised"
    assert "not comparable to previous years" in row_2015["notes"]  # footnote on "NEW JERSEY1"


# ----------------------------------------------------------------------------------------------------
# Blank is <NA>, never 0
# ----------------------------------------------------------------------------------------------------


def test_parse_count_blank_is_none_and_printed_zero_is_zero() -> None:
    assert parse_count("") is None
    assert parse_count("   ") is None
    assert parse_count(None) is None
    assert parse_count(0.0) == 0
    assert parse_count("0") == 0
    assert parse_count("0 ") == 0
    assert parse_count("1,234 ") == 1234
    assert parse_count(478.0) == 478
    assert parse_count("-") is None  # a dash is 0 only where the table says so
    assert parse_count("-", dash_is_zero=True) == 0


def test_blank_cells_in_a_whole_table_are_na_not_zero(city: pd.DataFrame) -> None:
    """Every blank count cell of CIUS 2015 Table 8 is <NA> in the output, every printed 0 stays 0."""
    path = next(SOURCES.glob("crime/Majorfalcon__*/Table_8_*by_State_by_City_2015.xls"))
    sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
    header = [str(v).replace("\n", " ") for v in sheet.row_values(3)]
    assert header[2] == "Population" and header[12].startswith("Motor")
    # columns 2..12 without the two rape columns (5, 6): population, violent, murder, robbery, ...
    columns = {2: "population", 3: "violent_crime", 4: "murder", 7: "robbery", 8: "aggravated_assault"}
    columns |= {9: "property_crime", 10: "burglary", 11: "larceny_theft", 12: "motor_vehicle_theft"}
    blank = dict.fromkeys(columns.values(), 0)
    zero = dict.fromkeys(columns.values(), 0)
    for r in range(4, sheet.nrows):
        row = sheet.row_values(r)
        if not str(row[1]).strip():
            continue
        for position, field in columns.items():
            blank[field] += row[position] == ""
            zero[field] += row[position] == 0.0
    parsed = city[city["source"] == "FBI CIUS 2015 Table 8"]
    assert len(parsed) == 9395
    for field in columns.values():
        assert parsed[field].isna().sum() == blank[field], field
        assert parsed[field].eq(0).sum() == zero[field], field
    assert sum(blank.values()) > 0
