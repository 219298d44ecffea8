"""Part-year figures (issue 16): kept with their months in tables and the CSV, never drawn as full years."""

from __future__ import annotations

import csv
import io

import pandas as pd

from dashboard.data.measures import city_series, year_snapshot
from dashboard.data.state import parse_query
from dashboard.figures import map as map_fig
from dashboard.publish.exports.csv import view_csv
from dashboard.views.registry import get_chart

NEW_ORLEANS, HOUSTON, CHICAGO = "2255000", "4835000", "1714000"


def test_months_come_from_the_source_row_whose_counts_are_shown(dataset) -> None:
    crime = dataset.crime.set_index(["geoid", "year"])
    # The Marshall Project file: New Orleans 2005 6 of 12 months (Katrina); Houston 1980 10, 1981 9
    assert crime.at[(NEW_ORLEANS, 2005), "months_reported"] == 6
    assert [crime.at[(HOUSTON, y), "months_reported"] for y in (1980, 1981, 1982)] == [10, 9, 12]
    # Chicago 1984: the file has a count but 0 months (a state-supplied total): months not stated
    assert pd.isna(crime.at[(CHICAGO, 1984), "months_reported"])
    # A CIUS table states no months: empty, never a guessed 12
    assert pd.isna(crime.at[(CHICAGO, 2019), "months_reported"])
    assert set(crime["months_reported"].dropna().astype(int)) <= set(range(1, 13))


def test_new_orleans_2006_keeps_its_counts_but_not_the_pre_katrina_population(dataset) -> None:
    """A rate must not divide a post-Katrina count by a pre-Katrina population (issue 16's audit)."""
    series = city_series(dataset, [NEW_ORLEANS], "violent_crime").set_index("year")
    assert series.at[2006, "count"] == 2255 and pd.isna(series.at[2006, "population"])  # CIUS 2006 Table 6
    assert pd.isna(series.at[2006, "rate"]) and "pre-Katrina" in series.at[2006, "notes"]
    assert series.at[2007, "rate"] > 1500  # 3,451 / 220,614: the first post-Katrina FBI population


def test_a_part_year_has_its_count_but_no_rate_or_ratio(dataset) -> None:
    series = city_series(dataset, [NEW_ORLEANS], "violent_crime").set_index("year")
    assert series.at[2005, "part_year"] and series.at[2005, "count"] == 2090
    assert pd.isna(series.at[2005, "rate"]) and pd.isna(series.at[2005, "ratio"])
    assert not series.at[2004, "part_year"] and series.at[2004, "rate"] > 0


def test_part_years_are_gaps_on_the_trends_and_map_but_not_in_table_or_csv(dataset) -> None:
    state = parse_query(f"cities={HOUSTON}&from=1978&to=1983&measure=count", dataset)
    chart = get_chart("trends")
    figure = chart.figure(dataset, state)
    line = next(t for t in figure.data if t.legendgroup == "city")
    drawn = dict(zip(line.x, line.y, strict=True))
    assert drawn[1980] is None and drawn[1981] is None and drawn[1979] > 0 and drawn[1982] > 0
    table = chart.table(dataset, state)
    cells = {row[0]: row for row in table.rows}
    flag = table.headers.index("Review flag")  # Caution follows it (issue 18)
    assert cells["Houston, TX 1980"][1] == "13,499 (part year: 10 of 12 months)"
    assert cells["Houston, TX 1980"][flag].startswith("Flag: Houston, TX: the FBI file")  # the review flag
    assert cells["Houston, TX 1982"][flag] == ""
    table = list(csv.DictReader(io.StringIO("\n".join(
        line for line in view_csv(dataset, state).splitlines() if not line.startswith("#")
    ))))  # fmt: skip
    by_year = {int(r["year"]): r for r in table}
    assert by_year[1981]["count"] == "10274" and by_year[1981]["months_reported"] == "9"
    assert by_year[1981]["rate_per_100k"] == "" and "fewer than 12 months" not in by_year[1981]["flags"]
    assert by_year[1981]["flags"].startswith("Flag: Houston, TX: the FBI file")
    assert by_year[1982]["months_reported"] == "12" and by_year[1982]["flags"] == ""
    snapshot = year_snapshot(dataset, 2005, "violent_crime").set_index("geoid")
    assert pd.isna(snapshot.at[NEW_ORLEANS, "count"]) and snapshot.at[NEW_ORLEANS, "part_year"]
    new_orleans = next(snapshot.loc[[NEW_ORLEANS]].itertuples())
    assert "part year (6 of 12 months)" in map_fig.hover_flag(new_orleans)


def test_trends_panels_say_what_their_line_does_not(dataset) -> None:
    """Las Vegas's figures are the Metro Police area's; Harris County has no rate; Houston part years."""
    from dashboard.data.caveats import panel_caveats

    notes = panel_caveats(dataset, ["3240000", "48201", HOUSTON, CHICAGO], "ratio", 1975, 2022)
    agency = int(dataset.crime.query("geoid == '3240000' and year == 2022")["population"].iloc[0])
    assert notes["3240000"].startswith(f"FBI figures cover the police agency's wider area: {agency:,} people")
    assert notes["48201"].startswith("County table: no population")
    assert notes[HOUSTON] == "Part year, not drawn: 1980-1981" and CHICAGO not in notes
    assert "48201" not in panel_caveats(dataset, ["48201"], "count", 2015, 2022)
    state = parse_query("cities=3240000,48201&from=2015&to=2022", dataset)
    texts = [a.text for a in get_chart("trends").figure(dataset, state).layout.annotations]
    assert any(t.startswith("FBI figures cover the police agency") for t in texts)
    assert any(t.startswith("County table: no population") for t in texts)  # centred in an empty panel


def test_a_number_missing_beside_others_is_blank_in_the_hover_never_zero(dataset) -> None:
    """plotly prints a null inside a customdata row as 0; Harris County has a count but no rate."""
    snapshot = year_snapshot(dataset, 2022, "violent_crime")
    values = map_fig.map_values(snapshot, "count", "Violent crime", 2022)
    program = snapshot[snapshot["is_program"]].reset_index(drop=True)
    harris = program.index[program["geoid"] == "48201"][0]
    rate, count, ratio = values["program_hover"][harris]
    assert (rate, ratio) == ("", "") and count == int(program.at[harris, "count"]) > 0
    assert values["program_flags"][harris] == map_fig.NO_RATE_HOVER
    assert "%{hovertext}" in map_fig.HOVER_TEMPLATE


def test_each_city_year_has_its_peer_group_and_peer_rate(dataset) -> None:
    """Memphis is judged against places of 250,000+ (FBI Group I), West Memphis against 25,000-49,999."""
    series = city_series(dataset, ["4748000", "0574540"], "violent_crime").set_index(["geoid", "year"])
    memphis = series.loc[("4748000", 2015)]
    assert memphis["peer_group"] == "250k+" and memphis["peer_rate"] == 734.2  # = FBI CIUS 2015 Table 16
    assert memphis["ratio_to_peer"] == round(memphis["rate"] / 734.2, 2)
    assert series.loc[("0574540", 2015), "peer_group"] == "25k-50k"
    assert pd.isna(series.loc[("4748000", 2012), "peer_rate"])  # no city table for 2012: no peer rate
    rate_state = parse_query("cities=4748000&measure=rate&from=2010&to=2019", dataset)
    names = {t.name for t in get_chart("trends").figure(dataset, rate_state).data}
    assert "Places of its size (FBI population group)" in names
    ratio_state = parse_query("cities=4748000&measure=ratio&from=2010&to=2019", dataset)
    assert "Places of its size (FBI population group)" not in {
        t.name for t in get_chart("trends").figure(dataset, ratio_state).data
    }


def test_the_data_notes_explain_the_peer_comparison(dataset) -> None:
    from dashboard.data.notes import general_notes

    notes = " ".join(general_notes(dataset, "violent_crime", 2010, 2019))
    assert "Places of its size" in notes and "2010, 2013-2019, 2021-2022" in notes
