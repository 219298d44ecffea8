"""Every place of the FBI city tables (issue 13): the series, the ranking among peers, its CSV, the map layer.

Figures are checked against the committed geodata files (themselves checked against the FBI tables by the
pipeline tests), never against typed numbers: a test reads the row it expects and compares.
"""

from __future__ import annotations

import csv
import gzip
import io
import json

import pandas as pd
import pytest

from dashboard.data.places import place_series, table_years, within
from dashboard.data.queries import ranked_view
from dashboard.data.state import parse_query
from dashboard.figures import ranking_profile
from dashboard.publish.exports.ranking_csv import RANKING_COLUMNS, ranking_csv
from dashboard.views import ranking as ranking_view
from dashboard.views.headline import headline

WEST_MEMPHIS = "0574540"
PEERS_2022 = "?cohort=all-psp&cities=0574540&year=2022&threshold=2&minpop=10k&band=10k-25k"


@pytest.fixture(scope="module")
def violent(dataset) -> pd.DataFrame:
    return place_series(dataset, "violent_crime")


def test_files_hold_thousands_of_places_a_year(dataset) -> None:
    rows = dataset.places_year
    per_year = rows.groupby("year").size()
    assert table_years(dataset) == tuple(sorted(per_year.index))
    assert {2010, 2019, 2022} <= set(per_year.index)
    assert per_year.min() > 5_000  # the tables list ~8-9,500 places; 2021 had fewer reporting
    assert set(rows["place_kind"]) <= {
        "census place",
        "county subdivision",
        "unmatched: ambiguous name",
        "unmatched: not in the 2010 gazetteer",
        "several jurisdictions",
        "not a city police",
    }
    placed = rows[rows["geoid"] != ""]
    # a point from the 2010 gazetteer, or an outline in cities.geojson (places renamed since: Macon-Bibb GA)
    assert set(placed["geoid"]) <= set(dataset.place_points.index) | set(dataset.cities.index)


def test_a_small_place_has_the_table_figures_and_a_rate(dataset, violent) -> None:
    """A place outside crime_city_year.csv (not a program site, under 100,000) keeps the table's count
    and population, and its rate is derived from them."""
    rows = dataset.places_year
    small = rows[(rows["geoid"] != "") & ~rows["geoid"].isin(dataset.crime["geoid"]) & (rows["year"] == 2019)]
    row = small[small["population"] > 20_000].iloc[0]
    mine = violent[(violent["geoid"] == row["geoid"]) & (violent["year"] == 2019)].iloc[0]
    assert int(mine["count"]) == int(row["violent_crime"])
    assert int(mine["population"]) == int(row["population"])
    assert float(mine["rate"]) == pytest.approx(round(row["violent_crime"] * 1e5 / row["population"], 1))
    assert mine["peer_group"] == ("25k-50k" if row["population"] >= 25_000 else "10k-25k")
    assert float(mine["ratio_to_peer"]) == pytest.approx(mine["rate"] / mine["peer_rate"], abs=0.006)


def test_crime_city_year_wins_where_a_place_has_it(dataset, violent) -> None:
    """A program site keeps the screened figures the rest of the atlas shows: one value per place-year."""
    assert not violent.duplicated(["geoid", "year"]).any()
    shown = dataset.crime[dataset.crime["geoid"] == WEST_MEMPHIS].set_index("year")["violent_crime"]
    mine = violent[violent["geoid"] == WEST_MEMPHIS].set_index("year")["count"]
    common = shown.dropna().index.intersection(mine.dropna().index)
    assert len(common) > 5 and (mine[common] == shown[common]).all()


def test_county_subdivisions_are_ranked_but_never_drawn(violent) -> None:
    towns = violent[violent["place_kind"] == "county subdivision"]
    assert len(towns) > 1_000
    assert not towns["on_map"].any()
    assert towns["label"].str.endswith("(county subdivision)").all()
    assert towns["geoid"].str.contains(": ").all()  # "NJ: Aberdeen Township", never a made-up GEOID


def test_population_floor_and_band(violent) -> None:
    year = violent[violent["year"] == 2022]
    floor = within(year, 2022, 25_000)
    assert (year.loc[floor, "population"] >= 25_000).all()
    assert (year.loc[~floor, "population"].fillna(0) < 25_000).all()
    band = within(year, 2022, 100_000, "10k-25k")  # a band ignores the floor
    assert year.loc[band, "population"].between(10_000, 24_999).all()


def test_west_memphis_ranked_among_places_of_its_size(dataset) -> None:
    state = parse_query(PEERS_2022, dataset)
    ranked = ranked_view(
        dataset, state.cohort, state.offence, state.year, state.threshold, state.minpop, state.band
    )
    assert ranked["population"].between(10_000, 24_999).all()
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["ratio"].is_monotonic_decreasing
    mine = ranked[ranked["geoid"] == WEST_MEMPHIS].iloc[0]
    above = int((ranked["ratio"] >= 2).sum())
    text = ranking_view.ranking_summary_text(dataset, state)
    assert f"Among the {len(ranked):,} places of 10,000 to 24,999 people with a figure for 2022" in text
    assert f"{above:,} had a violent crime rate at least 2×" in text
    assert f"West Memphis, AR ranked {ranking_view._ordinal(int(mine['rank']))} of {len(ranked):,}" in text
    assert (
        f"with {mine['rate']:,.1f} per 100,000: {mine['ratio']:.2f}× the national rate "
        f"({mine['national_rate']:,.1f}) and {mine['ratio_to_peer']:.2f}× places of its size "
        f"({mine['peer_rate']:,.1f})"
    ) in text
    assert "places of 10,000 to 24,999 people with data" in headline(dataset, state)


def test_default_links_rank_as_before(dataset) -> None:
    """minpop defaults to 100k: an old link ranks the cities of crime_city_year.csv only, as bars."""
    state = parse_query("?cohort=psp-2017&year=2015", dataset)
    assert state.minpop == 100_000 and "minpop" not in state.to_query()
    ranked = ranking_view._ranked(dataset, state)
    assert set(ranked["geoid"]) <= set(dataset.crime["geoid"])
    assert ranking_view.ranking_figure(dataset, state).data[0].type == "bar"


def test_thousands_of_places_draw_a_curve_of_bounded_size(dataset) -> None:
    state = parse_query("?cohort=all-psp&cities=0574540&year=2019&minpop=0", dataset)
    ranked = ranking_view._ranked(dataset, state)
    assert len(ranked) > 7_000
    fig = ranking_view.ranking_figure(dataset, state)
    curve = fig.data[0]
    assert curve.type == "scatter" and len(curve.x) <= ranking_profile.MAX_POINTS
    assert list(curve.x[:5]) == [1, 2, 3, 4, 5] and curve.x[-1] == len(ranked)
    selected = next(t for t in fig.data if t.name == "Selected")
    assert list(selected.x) == [int(ranked.loc[ranked["geoid"] == WEST_MEMPHIS, "rank"].iloc[0])]
    table = ranking_view.ranking_table(dataset, state)
    assert ranking_view.MAX_TABLE_ROWS < len(table.rows) < ranking_view.MAX_TABLE_ROWS + 80
    assert "the ranking CSV lists every place" in table.caption


def test_ranking_csv_lists_every_ranked_place(dataset, client) -> None:
    state = parse_query(PEERS_2022, dataset)
    text = ranking_csv(dataset, state)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(body))))
    assert tuple(rows[0]) == RANKING_COLUMNS
    assert len(rows) == len(ranking_view._ranked(dataset, state))
    first = rows[0]
    assert first["peer_group"] == "10k-25k" and float(first["ratio_to_peer"]) > 0
    response = client.get("/export/ranking.csv" + PEERS_2022)
    assert response.status_code == 200 and response.get_data(as_text=True).count("\n") == text.count("\n")


def test_layer_file_is_compact_and_consistent(dataset, client) -> None:
    response = client.get(f"/data/places/violent_crime.json?v={dataset.version}")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    raw = response.get_data()
    assert len(gzip.compress(raw)) < 1_500_000  # issue 13: geometry and values <= 1.5 MB compressed
    layer = json.loads(raw)
    assert len(layer["names"]) > 8_000
    drawn = set(dataset.cities["name"] + ", " + dataset.cities["state"])
    assert not drawn & set(layer["names"])  # the city polygons are not drawn twice
    values = layer["values"]["2022"]
    k = values["i"].index(
        layer["names"].index(next(n for n in layer["names"] if n.startswith("Lumberton, NC")))
    )
    rows = dataset.places_year
    row = rows[(rows["year"] == 2022) & (rows["agency"] == "Lumberton") & (rows["state"] == "NC")].iloc[0]
    assert values["c"][k] == int(row["violent_crime"]) and values["p"][k] == int(row["population"])
    assert client.get("/data/places/nonsense.json").status_code == 404
