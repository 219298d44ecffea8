"""FBI figures after 2019 (issue 12) against values read by hand from the raw files, and their gaps.

The 2021 and 2022 city tables, the 2022 county table and the CDE national estimates to 2023.

Values below were read from the raw .xlsx/.csv files in ../shared/sources/crime with openpyxl/csv (the row
number of each is given), not from our parsers.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from dashboard.data.measures import city_series, national_series, year_snapshot
from dashboard.pipeline.sources import cde_national
from dashboard.pipeline.sources.xlsx import read_xlsx_rows
from dashboard.schema import OFFENCES
from tests.conftest import SOURCES

COLUMNS = ("population", *OFFENCES)
MEMPHIS, HOUSTON, TOLEDO, CHICAGO, BALTIMORE = "4748000", "4835000", "3977000", "1714000", "2404000"
ALBUQUERQUE, ANNISTON, SAGINAW, SALISBURY, PHILADELPHIA = (
    "3502000",
    "0101852",
    "2670520",
    "3758860",
    "4260000",
)
PHOENIX, BIRMINGHAM, NEW_ORLEANS, HARRIS, DEKALB = "0455000", "0107000", "2255000", "48201", "13089"

# (geoid, year): population, violent, murder, rape, robbery, agg. assault, property, burglary, larceny, MVT
TABLE_8 = {
    (MEMPHIS, 2021): (649444, 15785, 306, 403, 2056, 13020, 34284, 5294, 24020, 4970),  # 2021 row 4577
    (MEMPHIS, 2022): (624944, 15129, 269, 397, 2324, 12139, 44783, 6022, 27837, 10924),  # 2022 row 6476
    (HOUSTON, 2021): (2339252, 28325, 464, 1173, 7729, 18959, 96048, 14749, 65729, 15570),  # row 4879
    (HOUSTON, 2022): (2276533, 25987, 433, 1140, 6955, 17459, 104304, 14939, 72021, 17344),  # row 6794
    (TOLEDO, 2021): (269941, 2908, 66, 191, 447, 2204, 7579, 1405, 5046, 1128),  # row 3876
    (TOLEDO, 2022): (266984, 3105, 61, 227, 494, 2323, 8225, 1505, 5564, 1156),  # row 5608
    (ALBUQUERQUE, 2021): (564147, 7831, 120, 497, 1689, 5525, 24551, 4328, 15340, 4883),  # row 3291
    (ALBUQUERQUE, 2022): (560557, 7737, 125, 344, 1651, 5617, 26883, 4555, 16431, 5897),  # row 4659
    (ANNISTON, 2021): (20913, 162, 7, 7, 30, 118, 1094, 229, 708, 157),  # row 10
    (ANNISTON, 2022): (21007, 177, 4, 11, 17, 145, 1152, 246, 766, 140),  # row 12
    (SAGINAW, 2022): (43651, 925, 20, 46, 48, 811, 895, 262, 498, 135),  # row 3285
    (SALISBURY, 2021): (33856, 315, 13, 10, 42, 250, 1335, 165, 1064, 106),  # row 3533
    (CHICAGO, 2022): (2652124, 14321, 604, 1374, 8948, 3395, 83090, 7626, 54273, 21191),  # row 1645
    (BALTIMORE, 2022): (570546, 8861, 287, 259, 3172, 5143, 18699, 3333, 11940, 3426),  # row 2635
    (PHILADELPHIA, 2022): (1555812, 16202, 514, 785, 5763, 9140, 67233, 6485, 48067, 12681),  # row 6112
}
# Table 10 2022 (county agencies, no population): Texas "Harris" row 1878; Georgia "DeKalb County Police
# Department" row 292 (the sheriff's "DeKalb" row 291 is not the site's agency).
TABLE_10 = {
    (HARRIS, 2022): (None, 9199, 141, 1069, 1716, 6273, 50747, 6826, 36516, 7405),
    (DEKALB, 2022): (None, 4618, 128, 229, 789, 3472, 17815, 2475, 12016, 3324),
}
# Measured absent from the 2021 table (crime/PROVENANCE.md section 7): a gap, never zero.
NOT_REPORTED_2021 = (CHICAGO, BALTIMORE, PHILADELPHIA, PHOENIX, BIRMINGHAM, NEW_ORLEANS)


@pytest.mark.parametrize(("key", "values"), sorted({**TABLE_8, **TABLE_10}.items()))
def test_committed_values_equal_the_published_tables(dataset, key, values) -> None:
    geoid, year = key
    rows = dataset.crime[(dataset.crime["geoid"] == geoid) & (dataset.crime["year"] == year)]
    assert len(rows) == 1, key
    row = rows.iloc[0]
    got = tuple(None if pd.isna(row[c]) else int(row[c]) for c in COLUMNS)
    assert got == values
    table = "Table 10 (county agencies)" if len(geoid) == 5 else "Table 8"
    assert row["source"] == f"FBI CIUS {year} {table}"
    assert row["rape_definition"] == "revised"


def test_memphis_2022_straight_from_the_workbook(dataset) -> None:
    """One row read with openpyxl directly (no project code) against the committed file."""
    path = next((SOURCES / "crime").rglob("Table_8_*_2022.xlsx"))
    rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    state, found = None, None
    for cells in rows:
        state = cells[0] or state
        if state == "TENNESSEE" and cells[1] == "Memphis":
            found = cells[2:12]
    assert found is not None
    row = dataset.crime[(dataset.crime["geoid"] == MEMPHIS) & (dataset.crime["year"] == 2022)].iloc[0]
    assert tuple(int(row[c]) for c in COLUMNS) == tuple(found)


@pytest.mark.parametrize("geoid", NOT_REPORTED_2021)
def test_an_agency_that_did_not_report_is_a_gap_not_zero(dataset, geoid) -> None:
    assert dataset.crime[(dataset.crime["geoid"] == geoid) & (dataset.crime["year"] == 2021)].empty
    series = city_series(dataset, [geoid], "violent_crime")
    assert 2021 not in set(series["year"])  # the trends chart reindexes every year: a gap
    snapshot = year_snapshot(dataset, 2021, "violent_crime").set_index("geoid")
    assert pd.isna(snapshot.at[geoid, "rate"]) and pd.isna(snapshot.at[geoid, "count"])  # grey on the map


def test_no_city_figures_for_2020_or_2023(dataset) -> None:
    assert not set(dataset.crime["year"]) & {2020, 2023}
    assert max(dataset.crime["year"]) == 2022


def test_county_rows_have_no_population_and_say_so(dataset) -> None:
    rows = dataset.crime[dataset.crime["geoid"].isin([HARRIS, DEKALB])]
    assert set(rows["year"]) == {2022}
    assert rows["population"].isna().all()
    assert rows["notes"].str.contains("prints no population: counts only").all()
    assert rows["notes"].str.contains("Harris County Sheriff's Office|DeKalb County Police Department").all()
    assert city_series(dataset, [HARRIS], "violent_crime")["rate"].isna().all()  # never a rate of 0


def test_national_2020_is_derived_from_the_states_and_labelled() -> None:
    frame = national_series_from_file()
    us_2020 = frame.loc[2020]
    assert round(us_2020["violent_crime"] * 1e5 / us_2020["population"], 1) == 398.5
    assert (us_2020["violent_crime"], us_2020["population"]) == (1313105, 329484123)
    assert "derived" in us_2020["source"] and us_2020["notes"].startswith("derived:")


def test_national_2021_to_2023_show_the_later_vintage_and_say_so() -> None:
    frame = national_series_from_file()
    rates = {
        y: round(frame.at[y, "violent_crime"] * 1e5 / frame.at[y, "population"], 1)
        for y in (2021, 2022, 2023)
    }
    assert rates == {2021: 387.0, 2022: 388.7, 2023: 374.4}  # crime/PROVENANCE.md section 7
    assert frame.at[2022, "violent_crime"] == 1295605  # 2023 vintage; the 2022 vintage printed 1,268,880
    assert "1,268,880 → 1,295,605" in frame.at[2022, "notes"]
    assert set(frame.loc[2021:2023, "source"]) == {"FBI Crime Data Explorer, estimated crimes 1979-2023"}
    for year in (2021, 2022, 2023):
        assert "partial reporting" in frame.at[year, "notes"]


def test_every_city_year_has_its_national_figure(dataset) -> None:
    series = city_series(dataset, None, "violent_crime")
    assert series.loc[series["year"] >= 2021, "national_rate"].notna().all()
    national = national_series(dataset, "violent_crime").set_index("year")
    assert national.at[2022, "rate"] == 388.7


def test_the_state_sum_check_refuses_a_sum_that_differs() -> None:
    frame = cde_national.read_vintage(SOURCES, 2023)
    assert cde_national.check_states_sum(frame, 2023) == [2021, 2023]  # 2022: one state row mislabelled "NC"
    broken = frame.copy()
    broken.loc[(broken["year"] == 2021) & (broken["state_abbr"] == "TX"), "violent_crime"] += 1
    with pytest.raises(ValueError, match="cannot be derived"):
        cde_national.check_states_sum(broken, 2023)


def test_xlsx_rows_read_like_xls_rows(tmp_path) -> None:
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Table 8"])
    sheet.append(["State", "City", "Population"])
    sheet.append(["ALABAMA", "Abbeville", 2539])
    sheet.append([None, "Alabaster", None])
    book.save(path)
    assert read_xlsx_rows(path) == [
        ["Table 8", "", ""],
        ["State", "City", "Population"],
        ["ALABAMA", "Abbeville", 2539.0],
        ["", "Alabaster", ""],
    ]


def national_series_from_file() -> pd.DataFrame:
    from tests.conftest import GEODATA

    frame = pd.read_csv(GEODATA / "crime_national_year.csv", keep_default_na=False)
    return frame[frame["rape_definition"] == "revised"].set_index("year")
