"""Query-string state: valid links restore a view; bad values are dropped with a notice."""

from __future__ import annotations

from dashboard.data.state import ViewState, cohort_members, cohort_options, highlight_cohorts, parse_query


def test_default_view_is_the_psp_cohort(dataset) -> None:
    state = parse_query("", dataset)
    assert state.cohort == "psp-2017"
    assert len(state.cities) == 12
    assert state.year == 2015 and state.measure == "ratio" and state.offence == "violent_crime"
    assert state.notices == ()


def test_round_trip(dataset) -> None:
    state = ViewState(
        cohort="vrn-2015",
        cities=("4737640", "2836000"),
        offence="murder",
        measure="rate",
        year=2012,
        year_from=1990,
        year_to=2016,
        threshold=2.0,
    )
    assert parse_query(state.to_query(), dataset) == state


def test_invalid_values_are_dropped_with_notices(dataset) -> None:
    state = parse_query(
        "cities=4737640,9999999,<script>&offence=arson&measure=x&year=1800&threshold=abc&cohort=nope", dataset
    )
    assert state.cities == ("4737640",)
    assert state.offence == "violent_crime" and state.measure == "ratio" and state.year == 2015
    text = " ".join(state.notices)
    for fragment in ("9999999", "arson", "measure", "1800", "abc", "nope"):
        assert fragment in text


def test_cohorts_come_from_programs_csv(dataset) -> None:
    options = cohort_options(dataset)
    assert {"psp-2017", "vrn-2014", "vrn-2015", "vrn-2016", "all-programs", "all-cities"} <= set(options)
    assert len(cohort_members(dataset, "all-programs")) == 68  # 28 before issue 12
    assert "4737640" in cohort_members(dataset, "psp-2017")  # Jackson, TN
    assert "2836000" not in cohort_members(dataset, "psp-2017")  # not Jackson, MS


def test_unicode_digits_are_refused_with_a_notice_not_a_crash(dataset) -> None:
    """"²".isdigit() is True but int("²") fails: such a year must be ignored, not raise."""
    state = parse_query("year=%C2%B2&from=%D9%A3", dataset)
    assert state.year == ViewState().year
    assert any("²" in n for n in state.notices) and any("٣" in n for n in state.notices)


def test_url_values_are_read_in_any_case_and_the_notice_says_which_value_is_used(dataset) -> None:
    """Issue 17 item 4: ``offence=Murder`` and ``measure=RATE`` were refused."""
    state = parse_query("offence=Murder&measure=RATE&cohort=VRN-2016", dataset)
    assert (state.offence, state.measure, state.cohort) == ("murder", "rate", "vrn-2016")
    assert "Offence “Murder” read as “murder”." in state.notices
    assert "Measure “RATE” read as “rate”." in state.notices
    unknown = parse_query("offence=arson&measure=perc", dataset)
    assert (unknown.offence, unknown.measure) == ("violent_crime", "ratio")
    assert any("arson" in n and "showing “violent_crime”" in n for n in unknown.notices)
    assert any("perc" in n and "showing “ratio”" in n for n in unknown.notices)
    exact = parse_query("offence=murder&measure=rate", dataset)
    assert exact.notices == ()


def test_every_psp_cohort_and_all_psp_are_url_values(dataset) -> None:
    """Issue 12: psp-2017 ... psp-2024 and all-psp; psp-2017 keeps its 12 cities (old links unchanged)."""
    options = cohort_options(dataset)
    for year in (2017, 2018, 2019, 2021, 2022, 2023, 2024):
        assert f"psp-{year}" in options and parse_query(f"cohort=psp-{year}", dataset).notices == ()
    assert len(cohort_members(dataset, "psp-2017")) == 12
    assert "48201" in cohort_members(dataset, "psp-2019")  # Harris County, TX
    members = cohort_members(dataset, "all-psp")
    assert len(members) == 63 and "13089" in members and "5553000" in members  # DeKalb County; Milwaukee
    assert "2622000" not in members  # Detroit: VRN only
    assert options["psp-2022"] == "PSP 2022 (4 of 6 unconfirmed)"  # the marker a reader sees
    assert set(highlight_cohorts(dataset, "all-psp")) == set(
        dataset.programs.loc[dataset.programs["program"] == "PSP", "cohort"]
    )
    assert highlight_cohorts(dataset, "psp-2021") == ["PSP 2021"]
    state = parse_query("cohort=all-psp", dataset)
    assert len(state.cities) == 40  # MAX_CITIES for the trends, and said: the map and ranking show all
    assert state.notices == ("Only the first 40 of the cohort's 63 cities are shown.",)


def test_issue_18_parameters_round_trip_and_bad_values_say_so(dataset) -> None:
    state = parse_query("tables=Ranking,trends&small=EXCLUDE&base=2010&scale=log&smooth=3", dataset)
    assert state.tables == ("trends", "ranking") and state.small == "exclude"
    assert (state.base, state.scale, state.smooth) == (2010, "log", 3)
    assert parse_query(state.to_query(), dataset) == state
    assert "tables" not in ViewState().to_query() and "smooth" not in ViewState().to_query()
    bad = parse_query("tables=pie&small=maybe&base=1066&scale=sqrt&smooth=2", dataset)
    assert (bad.tables, bad.small, bad.base, bad.scale, bad.smooth) == ((), "show", None, "linear", 1)
    text = " ".join(bad.notices)
    for fragment in ("pie", "maybe", "1066", "sqrt", "smooth"):
        assert fragment in text
