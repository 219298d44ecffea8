"""Figures are pure functions of the data: tested without a server."""

from __future__ import annotations

import math

import pandas as pd

from dashboard.data.measures import city_series, national_for_display, year_snapshot
from dashboard.data.queries import ranked_cities
from dashboard.data.ranking import ranking_frame, streak_above
from dashboard.data.state import ViewState
from dashboard.figures import map as map_fig
from dashboard.figures.trends import announcement_x, grid_shape
from dashboard.views.map import map_snapshot
from dashboard.views.ranking import ranking_summary_text, sustained_table
from dashboard.views.trends import trends_figure


def test_map_colours_missing_cities_grey_never_zero(dataset) -> None:
    snapshot = year_snapshot(dataset, 2010, "violent_crime")
    values = map_fig.map_values(snapshot, "ratio", "Violent crime", 2010)
    index = snapshot.index[snapshot["geoid"] == "0107000"][0]  # Birmingham 2010: no data anywhere
    assert values["no_data_z"][index] == 0
    assert values["no_data_hover"][index] is None  # hover reads "no data" (the template's fallback)
    assert values["no_data_flags"][index] == ""  # and no flag line
    program = snapshot[snapshot["is_program"]].reset_index(drop=True)
    position = program.index[program["geoid"] == "0107000"][0]
    assert values["program_z"][position] is None  # not coloured as a value...
    assert values["program_marker_colour"][position] == map_fig.NO_DATA_MARKER_COLOUR  # ...marker grey
    memphis = program.index[program["geoid"] == "4748000"][0]
    ratio = float(program.at[memphis, "ratio"])
    assert values["program_z"][memphis] == round(min(2.0, math.log2(ratio)), 1)
    assert values["program_hover"][memphis][2] == round(ratio, 2)
    assert values["no_data_z"][snapshot.index[snapshot["geoid"] == "4748000"][0]] is None


def test_map_traces_keep_fixed_city_lists_across_years(dataset) -> None:
    """Patches replace values only, so every year must list the same cities in the same order."""
    first = year_snapshot(dataset, 1975, "murder")["geoid"].tolist()
    assert first == year_snapshot(dataset, 2019, "violent_crime")["geoid"].tolist()
    fig = map_snapshot(dataset, 2015, "violent_crime", "ratio")[0]
    assert len(fig["context_z"]) + len(fig["program_z"]) == len(first) == len(fig["no_data_z"])


def test_hover_shows_published_figures(dataset) -> None:
    values, _title = map_snapshot(dataset, 2015, "violent_crime", "rate")
    program = year_snapshot(dataset, 2015, "violent_crime").query("is_program").reset_index(drop=True)
    memphis = program.index[program["geoid"] == "4748000"][0]
    rate, count, ratio, rank, streak = values["program_hover"][memphis]
    assert values["program_flags"][memphis] == ""
    assert (rate, count) == (round(float(program.at[memphis, "rate"]), 1), int(program.at[memphis, "count"]))
    assert ratio == round(float(program.at[memphis, "ratio"]), 2)
    # issue 18: rank and years in a row at or above the threshold, as the ranking chart has them
    ranked = ranked_cities(dataset, "psp-2017", "violent_crime", 2015, 1.5).set_index("geoid")
    assert (rank, streak) == (int(ranked.at["4748000", "rank"]), int(ranked.at["4748000", "streak"]))
    assert "customdata[0]:,.1f" in map_fig.HOVER_TEMPLATE and map_fig.HOVER_FALLBACK == "no data"


def test_ratio_scale_is_diverging_and_centred_on_one(dataset) -> None:
    axis = map_fig.coloraxis_for(year_snapshot(dataset, 2015, "murder"), "ratio")
    assert axis["cmid"] == 0 and axis["cmin"] == -axis["cmax"]
    assert isinstance(axis["colorscale"], list)  # explicit stops: patched figures bypass plotly.py
    assert "1× (US)" in axis["colorbar"]["ticktext"]


def test_rate_scale_is_the_same_in_every_year(dataset) -> None:
    """A colour means the same rate wherever the year slider is."""
    axes = {map_snapshot(dataset, y, "robbery", "rate")[0]["coloraxis"]["cmax"] for y in (1990, 2005, 2019)}
    assert len(axes) == 1


def test_map_patch_carries_no_geometry(dataset) -> None:
    values, title = map_snapshot(dataset, 2012, "robbery", "rate")
    assert "coordinates" not in str(values)
    assert "2012" in title and "Robbery" in title


def test_trend_gaps_stay_gaps(dataset) -> None:
    fig = trends_figure(dataset, ["0107000"], "violent_crime", "rate", 2005, 2016)
    city = next(t for t in fig.data if t.name.startswith("City"))
    by_year = dict(zip(city.x, city.y, strict=True))
    assert by_year[2010] is None
    assert by_year[2011] is not None
    us = next(t for t in fig.data if t.name == "US average")
    assert all(v is not None for v in us.y)
    assert "Source: FBI Uniform Crime Reporting" in fig.layout.annotations[-1].text


def test_small_multiples_grid() -> None:
    assert grid_shape(1) == (1, 1)
    assert grid_shape(12) == (3, 4)
    assert grid_shape(28) == (7, 4)
    assert announcement_x("2017-06-20") == 2017.47
    assert announcement_x("2014") == 2014.0


def test_streak_counts_consecutive_years_and_stops_at_gaps() -> None:
    series = pd.DataFrame(
        {
            "geoid": ["a"] * 5 + ["b"] * 3,
            "year": [2011, 2012, 2013, 2014, 2015, 2013, 2014, 2015],
            "ratio": [2.0, 2.0, 1.0, 2.0, 2.0, 3.0, None, 3.0],
        }
    )
    streaks = streak_above(series, 2015, 1.5)
    assert streaks["a"] == 2 and streaks["b"] == 1


def test_ranking_highlights_only_the_chosen_cohort(dataset) -> None:
    ranked = ranking_frame(
        city_series(dataset, None, "violent_crime"), dataset.cities, 2015, 1.5, ["PSP 2017"]
    )
    highlighted = ranked[ranked["highlight"] == "PSP 2017"]
    assert len(highlighted) == 12
    assert ranked["ratio"].is_monotonic_decreasing
    state = ViewState(cohort="psp-2017", offence="violent_crime", year=2015, threshold=1.5)
    summary = ranking_summary_text(dataset, state)
    assert "In 2015" in summary and str(int(ranked["above"].sum())) in summary
    assert len(sustained_table(dataset, state).rows) == 12  # one row per highlighted city, with its streak


def test_national_display_series_uses_what_the_fbi_printed(dataset) -> None:
    national = national_for_display(dataset, "violent_crime").set_index("year")
    assert national.loc[2015, "rape_definition"] == "legacy" and national.loc[2015, "rate"] == 372.6
    assert national.loc[2018, "rape_definition"] == "revised"
    assert national.index.is_unique


def test_the_colour_scale_says_its_ends_are_caps(dataset) -> None:
    """Issue 17 item 5: murder ratios reach 12× but the legend's top said "4×"."""
    from dashboard.data.state import ViewState
    from dashboard.views.map import map_static_figure

    snapshot = year_snapshot(dataset, 2015, "murder")
    assert float(snapshot["ratio"].max()) > 4  # cities beyond the top colour exist
    ratio = map_fig.coloraxis_for(snapshot, "ratio")["colorbar"]["ticktext"]
    assert ratio[0] == "≤ ¼×" and ratio[-1] == "≥ 4×"
    rate = map_fig.coloraxis_for(snapshot, "rate")
    top = rate["colorbar"]["ticktext"][-1]
    assert top == f"≥ {rate['cmax']:,.0f}" and rate["colorbar"]["tickvals"][-1] == rate["cmax"]
    assert rate["cmax"] >= float(snapshot["rate"].quantile(0.95))
    exported = map_static_figure(dataset, ViewState(offence="murder", year=2015), 1200, 720)
    assert exported["layout"]["coloraxis"]["colorbar"]["ticktext"][-1] == "≥ 4×"


def test_counts_get_one_scale_per_panel_rates_share_one(dataset) -> None:
    """Issue 17 item 10: in count mode Jackson, Lansing and Springfield sat flat at zero beside Houston."""
    geoids = ["4835000", "4737640", "2646000", "1772000"]  # Houston, Jackson TN, Lansing, Springfield IL
    counts = trends_figure(dataset, geoids, "violent_crime", "count", 1995, 2019).to_plotly_json()["layout"]
    tops = [counts[f"yaxis{i if i > 1 else ''}"]["range"][1] for i in range(1, 5)]
    assert tops[0] > 10 * max(tops[1:])  # Houston's scale is not the small cities'
    assert all("matches" not in counts[f"yaxis{i}"] for i in range(2, 5))
    assert any("own scale" in str(a.get("text")) for a in counts["annotations"])
    rates = trends_figure(dataset, geoids, "violent_crime", "rate", 1995, 2019).to_plotly_json()["layout"]
    assert [rates[k].get("matches") for k in ("yaxis", "yaxis2", "yaxis4")] == ["y3", "y3", "y3"]  # shared


def test_a_city_inset_is_outlined_in_its_own_colour(dataset) -> None:
    """Issue 17 item 7: Birmingham's narrow annexation strips were drawn as a thick black outline with no
    visible fill; the outline is now a thin line in the fill colour, so a strip reads as part of the city."""
    from dashboard.figures.inset import city_inset_spec, fill_colour

    snapshot = year_snapshot(dataset, 2015, "violent_crime")
    axis = map_fig.coloraxis_for(snapshot, "ratio")
    feature = next(f for f in dataset.city_geojson["features"] if f["properties"]["geoid"] == "0107000")
    value = float(map_fig.colour_values(snapshot, "ratio")[snapshot["geoid"] == "0107000"].iloc[0])
    line = city_inset_spec(feature, colour=value, coloraxis=axis)["data"][0]["marker"]["line"]
    assert line["width"] <= 1 and line["color"] == fill_colour(value, axis) != "#000000"


def test_program_places_are_ringed_at_national_zoom(dataset) -> None:
    """Issue 17 item 6: the title says "program cities outlined", but a 2 px polygon outline is invisible
    at national zoom. Each program city's marker sits on a dark ring drawn just below it."""
    from dashboard.views.map import map_figure

    figure = map_figure(dataset, 2015, "violent_crime", "ratio", []).to_plotly_json()
    names = [t.get("name") for t in figure["data"]]
    ring = figure["data"][names.index("Program city ring")]
    markers = figure["data"][names.index("Program city marker")]
    ring_index = names.index("Program city ring")
    assert ring_index == map_fig.TRACE_PROGRAM_RINGS == map_fig.TRACE_PROGRAM_MARKERS - 1
    assert list(ring["lon"]) == list(markers["lon"])
    assert len(ring["lon"]) == int(dataset.cities["is_program"].sum())
    assert ring["marker"]["size"] >= markers["marker"]["size"] + 4
    assert ring["marker"]["color"] == "#111111" and ring["hoverinfo"] == "skip"


def test_a_city_whose_figures_cover_another_area_says_so_in_its_hover(dataset) -> None:
    """Issue 16: Las Vegas figures are the Las Vegas Metropolitan Police area (1.67 million people in
    2019) against a 651,000-person city outline; the map hover says so, and the data notes explain."""
    from dashboard.views.map import map_figure

    figure = map_figure(dataset, 2015, "violent_crime", "ratio", []).to_plotly_json()
    hovered = [
        t for trace in figure["data"] for t in (trace.get("text") or []) if str(t).startswith("Las Vegas, NV")
    ]
    assert hovered and all("another area than drawn" in t for t in hovered)
    assert not any(
        "another area" in str(t)
        for trace in figure["data"]
        for t in (trace.get("text") or [])
        if str(t).startswith("Memphis, TN")
    )
