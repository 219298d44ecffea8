"""The committed data match the published FBI tables, for a sample read by hand from the raw files.

Values below were read directly from the raw files in ../shared/sources/crime (the file named
in each block), not from our parsers. They cover 10+ cities, 40+ city-years and five source
kinds, plus the national series.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.data.measures import city_series, national_series
from dashboard.schema import OFFENCES
from tests.conftest import GEODATA

OFFENCE_ORDER = ("population", *OFFENCES)  # the column order of the tuples below
CHICAGO, MEMPHIS, JACKSON_TN, HOUSTON, SPRINGFIELD = "1714000", "4748000", "4737640", "4835000", "1772000"
BATON_ROUGE, TOLEDO, LANSING, BIRMINGHAM, JACKSON_MS = "2205000", "3977000", "2646000", "0107000", "2836000"
FLINT, WEST_MEMPHIS = "2629000", "0574540"
_ = None  # a blank cell in the published table

# CIUS city tables: Table 8 2013 and 2015 (Majorfalcon), Table 6 2016 (cno-opa), Table 8 2018 (JohnTheodore).
# (geoid, year): population, violent, murder, rape, robbery, agg. assault, property, burglary, larceny, MVT
CITY_TABLE = {
    (CHICAGO, 2015): (2728695, 24663, 478, 1432, 9649, 13104, 80395, 13151, 57022, 10222),
    (CHICAGO, 2016): (2725153, 30126, 765, 1589, 11957, 15815, 86960, 14258, 61229, 11473),
    (CHICAGO, 2018): (2719151, 27357, 563, 1798, 9684, 15312, 86513, 11686, 64695, 10132),
    (MEMPHIS, 2013): (657691, 10894, 124, 437, 3133, 7200, 39804, 11825, 25295, 2684),
    (MEMPHIS, 2015): (657936, 11449, 135, 530, 3131, 7653, 37047, 10272, 24049, 2726),
    (MEMPHIS, 2016): (656434, 11947, 196, 534, 3188, 8029, 36988, 9150, 24604, 3234),
    (MEMPHIS, 2018): (652226, 12674, 186, 491, 3050, 8947, 41779, 8494, 28835, 4450),
    (JACKSON_TN, 2013): (67371, 925, 11, 40, 151, 723, 3455, 815, 2484, 156),
    (JACKSON_TN, 2015): (67415, 724, 8, 44, 136, 536, 3028, 736, 2169, 123),
    (JACKSON_TN, 2016): (66990, 628, 7, 36, 108, 477, 2947, 650, 2170, 127),
    (JACKSON_TN, 2018): (66848, 670, 9, 29, 102, 530, 2866, 447, 2197, 222),
    (HOUSTON, 2013): (2180606, 20993, 214, 618, 9891, 10270, 110919, 23733, 73591, 13595),
    (HOUSTON, 2015): (2275221, 21994, 303, 986, 10278, 10427, 100053, 19859, 66634, 13560),
    (HOUSTON, 2016): (2334348, 23960, 301, 1210, 9962, 12487, 100856, 18488, 69630, 12738),
    (HOUSTON, 2018): (2344966, 24062, 276, 1261, 8761, 13764, 94033, 16317, 65767, 11949),
    (SPRINGFIELD, 2013): (117351, 1191, 4, 71, 287, 829, 5905, 1300, 4439, 166),
    (SPRINGFIELD, 2015): (116875, 1251, 11, 103, 257, 880, 5321, 1131, 3997, 193),
    (SPRINGFIELD, 2016): (116563, 1301, 6, 99, 249, 947, 5158, 1250, 3681, 227),
    (SPRINGFIELD, 2018): (114623, 955, 9, 93, 216, 637, 5487, 1195, 4044, 248),
    (BATON_ROUGE, 2013): (230212, 2127, 49, 74, 974, 1030, 11418, 3264, 7648, 506),
    (BATON_ROUGE, 2015): (228727, 2001, 60, 102, 808, 1031, 10243, 2377, 7372, 494),
    (BATON_ROUGE, 2016): (228389, 2143, 47, 123, 824, 1149, 9934, 2364, 6907, 663),
    (BATON_ROUGE, 2018): (224790, 2067, 79, 74, 727, 1187, 11965, 2686, 8329, 950),
    (TOLEDO, 2015): (279552, 3156, 24, 228, 902, 2002, 12510, 4127, 7483, 900),
    (TOLEDO, 2016): (278366, 3319, 37, 316, 803, 2163, 11191, 3381, 7081, 729),
    (TOLEDO, 2018): (275023, 2333, 37, 239, 477, 1580, 10222, 2802, 6712, 708),
    (LANSING, 2013): (113907, 1204, 8, 127, 256, 813, 3960, 1268, 2329, 363),
    (LANSING, 2015): (114694, 1327, 9, 118, 265, 935, 3450, 959, 2140, 351),
    (LANSING, 2016): (115199, 1341, 9, 142, 260, 930, 3325, 897, 2053, 375),
    (LANSING, 2018): (117380, 1301, 8, 149, 182, 962, 3557, 868, 2252, 437),
    (BIRMINGHAM, 2013): (212001, 2852, 63, 178, 969, 1642, 14157, 4018, 8661, 1478),
    (BIRMINGHAM, 2015): (212291, 3707, 79, 159, 1114, 2355, 13499, 3146, 8838, 1515),
    (BIRMINGHAM, 2018): (210564, 4025, 88, 180, 941, 2816, 13295, 2555, 8988, 1752),
    (JACKSON_MS, 2013): (176039, 1631, 50, 110, 845, 626, 10284, 3366, 5864, 1054),
    (JACKSON_MS, 2015): (170508, 1571, 53, 139, 781, 598, 8621, 2395, 5222, 1004),
    (JACKSON_MS, 2016): (170070, 1451, 58, 107, 681, 605, 7884, 1948, 5064, 872),
    # Published blanks stay blank: Jackson MS 2018 (legacy rape only: no rape or violent total from 2017).
    (JACKSON_MS, 2018): (166024, _, 78, _, 476, 598, 7855, 2073, 4726, 1056),
}
# Rape definition the published row used (2013-2016 tables print both columns).
RAPE_DEFINITION = {
    (HOUSTON, 2013): "legacy",
    (JACKSON_MS, 2015): "legacy",
    (MEMPHIS, 2015): "revised",
    (CHICAGO, 2018): "revised",
    (SPRINGFIELD, 2013): "legacy",
    (LANSING, 2013): "revised",
}

# CIUS 2005 Table 6 (MSA principal-city rows, cferggie MSA05.csv): no city table that year.
MSA_2005 = {
    (FLINT, 2005): (119814, 2708, 48, 105, 566, 1989, 7709, 2634, 3492, 1583),
    (LANSING, 2005): (117036, 1407, 8, 115, 254, 1030, 4745, 1129, 3204, 412),
}
# Kaplan raw Return A extract, West Memphis 2005: violent = murder + rape + robbery + agg. assault.
KAPLAN = {
    (WEST_MEMPHIS, 2005): {
        "population": 28388,
        "murder": 11,
        "rape": 32,
        "robbery": 131,
        "aggravated_assault": 349,
        "violent_crime": 523,
        "burglary": 1045,
        "larceny_theft": 1039,
        "motor_vehicle_theft": 171,
        "property_crime": 2255,
    }
}
# UCR Data Tool (city_crime.csv), 1995 published rates per 100,000 and population.
UCRDT_RATES_1995 = {
    HOUSTON: (1734335, 1283.5, 18.2),
    MEMPHIS: (623902, 1769.3, 29.0),
    BATON_ROUGE: (229027, 2860.4, 28.4),
}


@pytest.fixture(scope="module")
def city() -> pd.DataFrame:
    frame = pd.read_csv(GEODATA / "crime_city_year.csv", dtype={"geoid": str})
    return frame.set_index(["geoid", "year"])


def _check(city: pd.DataFrame, table: dict, source_word: str) -> None:
    for key, published in table.items():
        row = city.loc[key]
        for column, expected in zip(OFFENCE_ORDER, published, strict=True):
            if expected is None:
                assert pd.isna(row[column]), f"{key} {column} should be blank"
            else:
                assert row[column] == expected, f"{key} {column}: {row[column]} != published {expected}"
        assert source_word in row["source"], f"{key} source {row['source']}"


def test_city_tables(city: pd.DataFrame) -> None:
    assert len({g for g, _ in CITY_TABLE}) >= 10
    _check(city, CITY_TABLE, "Table")


def test_rape_definition_follows_the_published_column(city: pd.DataFrame) -> None:
    for key, definition in RAPE_DEFINITION.items():
        assert city.loc[key, "rape_definition"] == definition, key


def test_msa_rows_where_no_city_table_exists(city: pd.DataFrame) -> None:
    _check(city, MSA_2005, "(MSA)")


def test_raw_agency_extract(city: pd.DataFrame) -> None:
    for key, values in KAPLAN.items():
        for column, expected in values.items():
            assert city.loc[key, column] == expected, (key, column)
        assert "Kaplan" in city.loc[key, "source"]


def test_ucr_data_tool_rates_are_reproduced(dataset) -> None:
    for geoid, (population, violent_rate, murder_rate) in UCRDT_RATES_1995.items():
        violent = city_series(dataset, [geoid], "violent_crime").set_index("year").loc[1995]
        murder = city_series(dataset, [geoid], "murder").set_index("year").loc[1995]
        assert violent["population"] == population
        assert violent["rate"] == pytest.approx(violent_rate, abs=0.051)
        assert murder["rate"] == pytest.approx(murder_rate, abs=0.051)
        assert "UCR Data Tool" in violent["source"]


def test_chicago_2013_blanks_stay_blank_except_the_marshall_violent_total(city: pd.DataFrame) -> None:
    # CIUS 2013 Table 8 prints no violent total, rape or aggravated assault for Chicago; the Marshall
    # Project file (ILCPD00, 2013) has a violent total built with CPD-supplied rape counts: 25,688.
    row = city.loc[(CHICAGO, 2013)]
    assert (row["population"], row["murder"], row["robbery"], row["property_crime"]) == (
        2720554,
        414,
        11815,
        95908,
    )
    assert pd.isna(row["rape"]) and pd.isna(row["aggravated_assault"])
    assert row["violent_crime"] == 25688
    assert row["source"].startswith("FBI CIUS 2013 Table 8 + Marshall Project")


def test_chicago_violent_total_from_marshall_before_2014(city: pd.DataFrame) -> None:
    # Marshall Project ucr_crime_1975_2015.csv, ILCPD00: 1995 violent 73,011; 2000 violent 48,522.
    assert city.loc[(CHICAGO, 1995), "violent_crime"] == 73011
    assert city.loc[(CHICAGO, 2000), "violent_crime"] == 48522
    assert "Marshall" in city.loc[(CHICAGO, 2000), "source"]


def test_national_series(dataset) -> None:
    violent = national_series(dataset, "violent_crime").set_index(["year", "rape_definition"])
    # CIUS 2015 Table 1: 1,197,704 violent crimes, population 321,418,820 -> 372.6 per 100,000.
    assert violent.loc[(2015, "legacy"), "count"] == 1197704
    assert violent.loc[(2015, "legacy"), "population"] == 321418820
    assert violent.loc[(2015, "legacy"), "rate"] == 372.6
    assert violent.loc[(2014, "legacy"), "rate"] == 361.6  # as revised in the 2015 edition
    assert violent.loc[(1991, "legacy"), "rate"] == pytest.approx(758.2, abs=0.051)
    assert violent.loc[(2016, "legacy"), "count"] == 1250162  # FBI CDE estimates
    assert violent.loc[(2016, "revised"), "count"] == 1285606
    legacy_years = set(violent.xs("legacy", level="rape_definition").dropna(subset=["count"]).index)
    assert set(range(1960, 2017)) <= legacy_years
    revised_years = set(violent.xs("revised", level="rape_definition").dropna(subset=["count"]).index)
    assert set(range(2013, 2020)) <= revised_years


def test_every_city_year_has_a_national_comparison(dataset) -> None:
    series = city_series(dataset, None, "violent_crime")
    with_rate = series.dropna(subset=["rate"])
    assert with_rate["national_rate"].notna().all()


FIRST_COHORTS = ("PSP 2017", "VRN 2014", "VRN 2015", "VRN 2016")


def test_program_cities_cover_2010_2016_except_documented_gaps(dataset) -> None:
    """The 2017 program cities (PSP 2017 and the VRN); the sites added from 2018 (issue 12) include small
    cities and counties without every year in these tables, and their gaps are shown as gaps."""
    documented_gaps = {("3410000", y) for y in range(2013, 2018)} | {("0107000", 2010), ("0615044", 2012)}
    first = dataset.programs[dataset.programs["cohort"].isin(FIRST_COHORTS)]
    series = city_series(dataset, first["geoid"].tolist(), "violent_crime").set_index(["geoid", "year"])
    missing = []
    for geoid in first["geoid"]:
        for year in range(2010, 2017):
            if (geoid, year) in documented_gaps:
                continue
            if (geoid, year) not in series.index or pd.isna(series.loc[(geoid, year), "rate"]):
                missing.append((dataset.label(geoid), year))
    assert missing == [], f"program city-years without violent crime and population: {missing}"
