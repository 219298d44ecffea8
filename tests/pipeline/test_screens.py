"""Plausibility screens (issue 16, first part): each screen finds a planted hit and passes a clean row;
run on the committed data they find the cases the audit named."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.pipeline import screens
from tests.conftest import GEODATA

NO_BREAKS = pd.DataFrame(columns=["geoid", "year_from", "year_to"])


def rows(*records: dict) -> pd.DataFrame:
    base = {"source": "FBI CIUS 2015 Table 8", "murder": 1, "rape": 1, "robbery": 1, "aggravated_assault": 1}
    base |= {"burglary": 1, "larceny_theft": 1, "motor_vehicle_theft": 1, "property_crime": 3}
    return pd.DataFrame([{**base, **r} for r in records])


def test_a_rate_jump_without_a_break_is_a_hit_and_a_recorded_break_explains_it() -> None:
    frame = rows(
        {"geoid": "1", "year": 2008, "population": 100_000, "violent_crime": 1000},
        {"geoid": "1", "year": 2009, "population": 100_000, "violent_crime": 4000},
        {"geoid": "2", "year": 2008, "population": 100_000, "violent_crime": 1000},
        {"geoid": "2", "year": 2009, "population": 100_000, "violent_crime": 1200},
    )
    hits = screens.rate_jumps(frame, NO_BREAKS, "violent_crime", 2.5, 0.4)
    assert hits[["geoid", "year", "value"]].values.tolist() == [["1", 2009, 4.0]]
    explained = pd.DataFrame([{"geoid": "1", "year_from": 2009, "year_to": 2009}])
    assert screens.rate_jumps(frame, explained, "violent_crime", 2.5, 0.4).empty


def test_population_changes_near_zero_violence_parts_and_mixed_sources() -> None:
    frame = rows(
        {"geoid": "1", "year": 2005, "population": 400_000, "violent_crime": 400, "source": "A"},
        {"geoid": "1", "year": 2006, "population": 200_000, "violent_crime": 0, "source": "A + B"},
        {"geoid": "2", "year": 2006, "population": 20_000, "violent_crime": 0, "source": "A"},
    )
    assert screens.population_changes(frame, NO_BREAKS, 0.25)["year"].tolist() == [2006]
    assert screens.near_zero_violence(frame, 25_000, 1.0)["year"].tolist() == [2006]  # not the small place
    assert screens.mixed_sources(frame)["year"].tolist() == [2006]
    off = rows({"geoid": "3", "year": 2010, "population": 1, "violent_crime": 100}).assign(murder=10)
    assert screens.parts_not_adding_up(off, 0.01, 5)["value"].tolist() == [100 - 13]
    assert screens.parts_not_adding_up(rows({"geoid": "4", "year": 1, "violent_crime": 4}), 0.01, 5).empty


def test_fewer_than_12_months_is_a_hit_and_an_unstated_month_count_is_not() -> None:
    frame = rows(
        {"geoid": "1", "year": 2005, "population": 1, "violent_crime": 1, "months_reported": 6},
        {"geoid": "1", "year": 2006, "population": 1, "violent_crime": 1, "months_reported": 12},
        {"geoid": "2", "year": 2006, "population": 1, "violent_crime": 1, "months_reported": pd.NA},
    ).astype({"months_reported": "Int64"})
    hits = screens.part_years(frame)
    expected = [["1", 2005, 6, "6 of 12 months reported"]]
    assert hits[["geoid", "year", "value", "why"]].values.tolist() == expected
    assert screens.part_years(frame.drop(columns="months_reported")).empty  # an older table: no months


def test_a_city_above_its_own_metro_total_is_a_hit() -> None:
    frame = rows(
        {"geoid": "1", "year": 2009, "population": 1, "violent_crime": 4730, "murder": 126},
        {"geoid": "1", "year": 2010, "population": 1, "violent_crime": 1258, "murder": 4},
        {"geoid": "2", "year": 2009, "population": 1, "violent_crime": 50, "murder": 9},
    )
    metro = pd.DataFrame(
        {
            "geoid": ["1", "1", "2"],
            "year": [2009, 2010, 2009],
            "metro_area": ["Lincoln, NE M.S.A."] * 2 + ["Small M.S.A."],
            "metro_violent_crime": pd.array([1200, 1400, pd.NA], dtype="Int64"),
            "metro_murder": pd.array([4, 5, 8], dtype="Int64"),
        }
    )
    hits = screens.above_metro_total(frame, metro)
    assert hits[["geoid", "year"]].values.tolist() == [["1", 2009], ["2", 2009]]  # murder 9 > 8 for place 2
    assert hits["why"].tolist()[1] == "murder 9 > 8 for the whole Small M.S.A."


def test_the_msa_parser_keeps_each_citys_metro_total() -> None:
    from dashboard.pipeline.sources.cius_msa import parse_msa_metro_totals
    from tests.conftest import SOURCES

    metro = parse_msa_metro_totals(SOURCES)
    lincoln = metro[(metro["year"] == 2009) & metro["agency"].str.startswith("Lincoln")].iloc[0]
    # CIUS 2009 Table 6, Lincoln, NE M.S.A.: "Total area actually reporting 100.0% 1,200 4"
    assert (lincoln["metro_violent_crime"], lincoln["metro_murder"]) == (1200, 4)


@pytest.fixture(scope="module")
def report() -> str:
    return (GEODATA / "SCREENING.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("place", "year", "screen_words"),
    [
        ("Lincoln, NE", "2009", "violent crime rate ×3.65"),  # a corrupt metro-table row
        ("Westminster, CO", "2003", "violent crime under 1 per 100,000"),  # did not report: 0
        ("New Orleans, LA", "2007", "population -49%"),  # a pre-Katrina denominator the year before
        ("Las Vegas, NV", "2019", "FBI agency population 2.56×"),  # the metropolitan police area
        ("New Orleans, LA", "2005", "6 of 12 months reported"),  # Katrina: a part year
        ("Lincoln, NE", "2009", "violent crime 4,730 > 1,200 for the whole Lincoln, NE M.S.A."),
        ("Houston, TX", "1981", "9 of 12 months reported"),
    ],
)
def test_the_committed_report_names_the_audits_cases(
    report: str, place: str, year: str, screen_words: str
) -> None:
    assert any(
        line.startswith(f"| {place} | {year} |") and screen_words in line for line in report.splitlines()
    ), f"{place} {year}: {screen_words}"


def test_new_orleans_polygon_is_reported_as_more_than_its_land(report: str) -> None:
    line = next(line for line in report.splitlines() if line.startswith("| New Orleans, LA |  |"))
    assert float(line.split("|")[3]) > 1.8  # about 900 km2 drawn for 439 km2 of land


def test_a_hit_without_a_disposition_stops_the_build_naming_place_year_screen_and_value(tmp_path) -> None:
    from dashboard.errors import DataFileError
    from dashboard.pipeline.build import screen_figures
    from dashboard.pipeline.dispositions import COLUMNS

    frame = rows(
        {"geoid": "0100001", "year": 2008, "population": 100_000, "violent_crime": 1000, "notes": ""},
        {"geoid": "0100001", "year": 2009, "population": 100_000, "violent_crime": 4000, "notes": ""},
    ).assign(murder=None)  # no parts: only the planted jump is a hit
    cities = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"geoid": "0100001", "label": "Testville, AL", "land_km2": None},
                "geometry": None,
            }
        ],
    }
    (tmp_path / "screening.csv").write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"Testville, AL 2009 rate jump \(violent crime\) = 4\.0"):
        screen_figures(frame, NO_BREAKS, cities, tmp_path)
    reason = "a planted test jump,a test"
    line = f"0100001,2009,rate jump (violent crime),withheld,all,{reason}\n"
    (tmp_path / "screening.csv").write_text(",".join(COLUMNS) + "\n" + line, encoding="utf-8")
    screened, report = screen_figures(frame, NO_BREAKS, cities, tmp_path)
    assert screened.loc[screened["year"] == 2009, "violent_crime"].isna().all()  # a gap, never a zero
    assert "Withheld after review: a planted test jump" in screened.loc[1, "notes"]
    assert "| Testville, AL | 2009 | 4.0 |" in report and report.count("| withheld |") == 1


def test_the_committed_data_carries_the_dispositions() -> None:
    data = pd.read_csv(GEODATA / "crime_city_year.csv", dtype={"geoid": str}).set_index(["geoid", "year"])
    lincoln, westminster = data.loc[("3128000", 2009)], data.loc[("0883835", 2003)]
    assert pd.isna(lincoln["violent_crime"]) and lincoln["property_crime"] == 10007  # only the corrupt part
    assert pd.isna(westminster["violent_crime"]) and pd.isna(westminster["property_crime"])
    assert "Withheld after review" in lincoln["notes"] and "Withheld after review" in westminster["notes"]
    assert "Flag:" in data.loc[("3240000", 2019), "notes"]  # Las Vegas: the metropolitan police area
