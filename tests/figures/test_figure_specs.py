"""The trends and ranking figures are built as plain JSON and wrapped without plotly's validation.

These tests pin that shortcut to what plotly itself would build: the subplot grid against
``make_subplots``, and every spec against a fully validated ``go.Figure`` of the same JSON.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from dashboard.data.measures import city_series
from dashboard.data.notes import city_notes
from dashboard.data.ranking import streak_above
from dashboard.data.state import ViewState, cohort_members
from dashboard.figures import trends as trends_fig
from dashboard.views.ranking import ranking_figure
from dashboard.views.trends import trends_figure


@pytest.mark.parametrize("panels", [1, 2, 3, 4, 5, 7, 9, 10, 12, 13, 17, 28, 40])
def test_subplot_grid_matches_make_subplots(panels: int) -> None:
    rows, cols = trends_fig.grid_shape(panels)
    titles = [f"City {i}" for i in range(panels)]
    spacing = min(0.12, 0.35 / rows)
    expected = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes="all",
        shared_yaxes="all",
        subplot_titles=titles,
        vertical_spacing=spacing,
        horizontal_spacing=trends_fig.HORIZONTAL_SPACING,
    ).to_plotly_json()["layout"]
    expected.pop("template")
    for annotation in expected["annotations"]:
        annotation["font"] = dict(trends_fig.TITLE_FONT)  # the chart enlarges plotly's 16 px titles
    got = trends_fig.subplot_grid(rows, cols, titles, spacing, trends_fig.HORIZONTAL_SPACING)
    assert got == expected  # exact floats: same arithmetic as plotly


def _validated(fig: go.Figure) -> dict:
    """The same JSON passed through plotly's validation (raises on any invalid property)."""
    return go.Figure(fig.to_plotly_json()).to_plotly_json()


@pytest.mark.parametrize(
    ("cohort", "offence", "measure", "years"),
    [
        ("one", "violent_crime", "rate", (1985, 2019)),
        ("psp-2017", "rape", "ratio", (2005, 2016)),
        ("all-programs", "murder", "count", (2014, 2019)),
        ("none", "robbery", "rate", (1985, 2019)),
    ],
)
def test_trends_spec_is_what_plotly_validates(dataset, cohort, offence, measure, years) -> None:
    geoids = {"one": ["0107000"], "none": []}.get(cohort) or cohort_members(dataset, cohort)
    fig = trends_figure(dataset, geoids, offence, measure, *years)
    assert fig.to_plotly_json() == _validated(fig)


def test_trends_panels_show_shapes_and_markers(dataset) -> None:
    psp = cohort_members(dataset, "psp-2017")
    fig = trends_figure(dataset, psp, "rape", "rate", 2010, 2019)
    layout = fig.layout
    assert len([t for t in fig.data if t.legendgroup == "city"]) == len(psp)
    assert [t.showlegend for t in fig.data if t.legendgroup == "break"][:2] == [True, False]
    # each panel: the program announcement and the 2013 rape definition change; Kansas City (PSP 2018) and
    # Baton Rouge (PSP 2019) were announced twice, so their panels carry a second announcement line
    assert len(layout.shapes) == 2 * len(psp) + 2
    assert {s.xref for s in layout.shapes} == {"x" if i == 1 else f"x{i}" for i in range(1, len(psp) + 1)}
    assert layout.yaxis.title.text == "Rate per 100,000 residents"


@pytest.mark.parametrize(
    ("cohort", "year", "threshold"), [("psp-2017", 2015, 1.5), ("all-cities", 1990, 2.0)]
)
def test_ranking_spec_is_what_plotly_validates(dataset, cohort, year, threshold) -> None:
    state = ViewState(cohort=cohort, offence="violent_crime", year=year, threshold=threshold)
    fig = ranking_figure(dataset, state)
    assert fig.to_plotly_json() == _validated(fig)  # bars: typed arrays, compared by value


def _streak_reference(series: pd.DataFrame, year: int, threshold: float) -> pd.Series:
    """The original per-city loop, kept as the reference for the vectorised version."""
    upto = series[series["year"] <= year].sort_values("year")
    streaks: dict[str, int] = {}
    for geoid, rows in upto.groupby("geoid"):
        by_year = dict(zip(rows["year"], rows["ratio"], strict=True))
        count, y = 0, year
        while y in by_year and pd.notna(by_year[y]) and by_year[y] >= threshold:
            count += 1
            y -= 1
        streaks[geoid] = count
    return pd.Series(streaks, name="streak", dtype=int)


@pytest.mark.parametrize(("year", "threshold"), [(2015, 1.5), (2019, 1.0), (1990, 3.0), (1900, 1.0)])
def test_vectorised_streaks_match_the_loop(dataset, year: int, threshold: float) -> None:
    series = city_series(dataset, None, "rape")
    pd.testing.assert_series_equal(
        streak_above(series, year, threshold), _streak_reference(series, year, threshold)
    )


def test_city_notes_from_the_cached_series_match(dataset) -> None:
    geoids = cohort_members(dataset, "all-programs")
    full = city_series(dataset, None, "violent_crime")
    assert city_notes(dataset, geoids, "violent_crime", 1990, 2019, series=full) == city_notes(
        dataset, geoids, "violent_crime", 1990, 2019
    )
