"""Years since joining and per-year reporting (issue 12): what align=joined and the trends note rest on."""

from __future__ import annotations

from dashboard.data.joined import joined_years
from dashboard.data.notes import city_notes, general_notes
from dashboard.data.queries import all_series
from dashboard.data.reporting import national_estimate_line, reporting_line
from dashboard.data.state import ViewState, parse_query

KANSAS_CITY, DETROIT, CHICAGO, MEMPHIS, TUCSON, BOISE = (
    "2938000",
    "2622000",
    "1714000",
    "4748000",
    "0477000",
    "1608830",
)


def test_a_site_in_two_cohorts_counts_from_the_cohort_viewed(dataset) -> None:
    assert joined_years(dataset, [KANSAS_CITY], "psp-2018") == {KANSAS_CITY: 2018}
    assert joined_years(dataset, [KANSAS_CITY], "psp-2017") == {KANSAS_CITY: 2017}
    assert joined_years(dataset, [KANSAS_CITY], "all-psp") == {KANSAS_CITY: 2017}  # its first PSP year


def test_vrn_only_and_non_program_cities(dataset) -> None:
    assert joined_years(dataset, [DETROIT], "all-programs") == {DETROIT: 2014}
    assert joined_years(dataset, [BOISE], "all-cities") == {BOISE: None}
    assert joined_years(dataset, [CHICAGO], "all-psp") == {CHICAGO: 2017}  # PSP 2017 pilot, unconfirmed


def test_align_is_a_url_value_written_only_when_joined(dataset) -> None:
    state = parse_query("cohort=psp-2021&align=Joined", dataset)
    assert state.align == "joined" and "align=joined" in state.to_query()
    assert "align" not in ViewState().to_query()  # every older link reads and writes as before
    refused = parse_query("align=sideways", dataset)
    assert refused.align == "calendar" and any("sideways" in n for n in refused.notices)


def test_reporting_line_counts_the_cities_with_a_figure_each_year(dataset) -> None:
    series = all_series(dataset, "violent_crime")
    line = reporting_line(dataset, series, [CHICAGO, MEMPHIS], "rate", 2015, 2022)
    assert line == (
        "Cities with a figure: 2017 2 of 2 · 2018 2 of 2 · 2019 2 of 2 · 2020 none (no FBI city table)"
        "<br>2021 1 of 2 · 2022 2 of 2"
    )
    assert reporting_line(dataset, series, [CHICAGO], "rate", 1990, 2010) == ""  # before PSP: no line
    # one city: its own gaps say which years it lacks; the line only names the years no table covers
    assert reporting_line(dataset, series, [CHICAGO], "rate", 2015, 2022) == "No FBI city table for 2020"


def test_the_us_estimate_is_labelled_for_the_years_shown(dataset) -> None:
    line = national_estimate_line(dataset, "violent_crime", 2010, 2022)
    assert "US 2021–2022: FBI estimate from partial reporting" in line and "US 2020: derived" in line
    assert national_estimate_line(dataset, "violent_crime", 2010, 2019) == ""
    notes = " ".join(general_notes(dataset, "violent_crime", 2015, 2022))
    assert "derived: the file has no national row for 2020" in notes and "1,268,880" in notes


def test_city_notes_cite_the_membership_and_flag_an_unconfirmed_one(dataset) -> None:
    tucson, kansas_city = city_notes(dataset, [TUCSON, KANSAS_CITY], "violent_crime", 2015, 2022)
    assert tucson.items[0].startswith("Membership UNCONFIRMED — PSP 2022 site, announced 2022-10-14")
    assert kansas_city.items[0].startswith("PSP 2017 site, announced 2017-06-20 (diagnostic site)")
    assert kansas_city.items[1].startswith("PSP 2018 site, announced 2018-08-20 (operations site)")
    assert "https://www.bja.gov/Events/national-psp-symposium-2018.html" in kansas_city.items[1]
    assert any("2020: no FBI city table in the sources" in i for i in kansas_city.items)


def test_the_data_notes_describe_the_years_after_2019_only_when_shown(dataset) -> None:
    from dashboard.data.notes import AFTER_2019_NOTE

    assert AFTER_2019_NOTE in general_notes(dataset, "violent_crime", 2015, 2022)
    assert AFTER_2019_NOTE not in general_notes(dataset, "violent_crime", 2010, 2019)
    assert "Real-Time Crime Index" in AFTER_2019_NOTE  # left out, and said why
