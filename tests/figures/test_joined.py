"""align=joined (issue 12): each panel shifted by its site's joined year, one relative range for all."""

from __future__ import annotations

from dashboard.data.state import ViewState
from dashboard.figures.joined import align_spec
from dashboard.views.trends import trends_view_figure

TULSA, ALBUQUERQUE, BOISE = "4075000", "3502000", "1608830"


def spec() -> dict:
    return {
        "data": [
            {"x": [2017, 2018], "y": [1, 2], "xaxis": "x", "hovertemplate": "%{x}: %{y}"},
            {"x": [2017, 2018], "y": [3, 4], "xaxis": "x2"},
        ],
        "layout": {
            "xaxis": {"range": [2016.5, 2018.5]},
            "xaxis2": {"range": [2016.5, 2018.5], "matches": "x"},
            "shapes": [{"type": "line", "x0": 2017.5, "x1": 2017.5, "xref": "x"}],
            "annotations": [
                {"text": "PSP", "x": 2017.5, "xref": "x"},
                {"text": "Tulsa", "x": 0.1, "xref": "paper"},
            ],
            "title": {"text": "Violent crime"},
        },
    }


def test_panels_shift_by_their_joined_year() -> None:
    out = align_spec(spec(), ["a", "b"], {"a": 2017, "b": None}, 2017, 2018)
    assert out["data"][0]["x"] == [0, 1] and "year %{x} from 2017" in out["data"][0]["hovertemplate"]
    assert out["data"][1]["x"] == [] and out["data"][1]["y"] == []  # no joined year: emptied, and said
    assert any("not a program site" in a["text"] for a in out["layout"]["annotations"])
    assert out["layout"]["shapes"][0]["x0"] == 0.5  # the announcement line sits inside year 0
    assert out["layout"]["annotations"][0]["x"] == 0.5 and out["layout"]["annotations"][1]["x"] == 0.1
    assert out["layout"]["xaxis"]["range"] == out["layout"]["xaxis2"]["range"] == [-0.5, 1.5]
    assert out["layout"]["title"]["text"].endswith("years since joining (0 = announced)")
    assert spec()["data"][0]["x"] == [2017, 2018]  # the input is not changed


def test_cohorts_of_different_years_share_one_relative_axis(dataset) -> None:
    state = ViewState(cities=(TULSA, ALBUQUERQUE, BOISE), year_from=2010, year_to=2022, align="joined")
    fig = trends_view_figure(dataset, state).to_plotly_json()
    city = [t for t in fig["data"] if t.get("legendgroup") == "city"]
    assert min(city[0]["x"]) == 2010 - 2018 and max(city[0]["x"]) == 2022 - 2018  # Tulsa: PSP 2018
    assert min(city[1]["x"]) == 2010 - 2022 and max(city[1]["x"]) == 0  # Albuquerque: PSP 2022
    assert list(city[2]["x"]) == []  # Boise: in no program
    assert fig["layout"]["xaxis"]["range"] == [2010 - 2022 - 0.5, 2022 - 2018 + 0.5]
    calendar = trends_view_figure(dataset, ViewState(cities=(TULSA,), year_from=2010, year_to=2022))
    assert min(calendar.data[0].x) == 2010


def test_a_cohort_without_a_theme_colour_still_gets_its_bars(dataset) -> None:
    """A cohort added to programs.csv before theme.json: its highlighted bars must not vanish."""
    from dashboard.data.queries import ranked_cities
    from dashboard.figures.ranking import UNLISTED_COHORT_COLOUR, ranking_spec

    ranked = ranked_cities(dataset, "psp-2019", "violent_crime", 2019, 1.5)
    ranked = ranked.assign(highlight=ranked["highlight"].replace({"PSP 2019": "PSP 2099"}))
    spec = ranking_spec(ranked, year=2019, threshold=1.5, offence_label="Violent crime", version="v")
    bars = [t for t in spec["data"] if t["name"] == "PSP 2099"]
    assert len(bars) == 1 and len(bars[0]["x"]) == 7 and bars[0]["marker"]["color"] == UNLISTED_COHORT_COLOUR


def test_every_cohort_has_a_theme_colour(dataset) -> None:
    from dashboard.figures.common import theme

    assert set(dataset.programs["cohort"]) <= set(theme()["cohort_colours"])


def test_ranking_bars_are_one_rank_wide_whatever_the_cohort(dataset) -> None:
    """A cohort of a few cities far apart in the ranking (PSP 2024) drew bars dozens of ranks wide."""
    from dashboard.data.queries import ranked_cities
    from dashboard.figures.ranking import BAR_WIDTH, ranking_spec

    ranked = ranked_cities(dataset, "all-psp", "violent_crime", 2019, 1.5)
    spec = ranking_spec(ranked, year=2019, threshold=1.5, offence_label="Violent crime", version="v")
    assert {t["width"] for t in spec["data"]} == {BAR_WIDTH} and len(spec["data"]) >= 8
