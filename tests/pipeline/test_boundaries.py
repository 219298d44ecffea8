"""Display geometry for the map, built from the real Census files in ../shared/sources."""

from __future__ import annotations

import csv
import gzip
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from dashboard.pipeline.boundaries import assemble, census, simplify
from dashboard.pipeline.io import geojson_text

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOURCES = PROJECT_ROOT.parent / "shared" / "sources"
GEODATA = PROJECT_ROOT / "geodata"
PROGRAMS_CSV = GEODATA / "programs.csv"
PEP = SOURCES / census.PEP_CSV

pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="raw sources (../shared/sources) not present")


@pytest.fixture(scope="module")
def universe() -> list[str]:
    return assemble.universe_geoids(SOURCES, PROGRAMS_CSV)


@pytest.fixture(scope="module")
def cities(universe: list[str]) -> dict:
    return assemble.build_cities(SOURCES, universe)


@pytest.fixture(scope="module")
def by_geoid(cities: dict) -> dict[str, dict]:
    return {f["properties"]["geoid"]: f for f in cities["features"]}


@pytest.fixture(scope="module")
def states() -> dict:
    return assemble.build_states(SOURCES)


def _area_km2(geoms: list, crs: str = simplify.DISPLAY_CRS) -> list[float]:
    return list(gpd.GeoSeries(geoms, crs=crs).to_crs(simplify.EQUAL_AREA_CRS).area / 1e6)


def _polygons(geom) -> list[Polygon]:
    return list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]


def _pep_cell(area: str) -> int:
    """The July 2019 cell of one row of the PEP CSV, read independently of the module's parser."""
    with PEP.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) > 1 and row[1] == area:
                return int(row[13].replace(",", ""))
    raise KeyError(area)


# --- universe and identity ------------------------------------------------------------------------------


def test_every_requested_geoid_once_sorted(cities: dict, universe: list[str]) -> None:
    programs = pd.read_csv(PROGRAMS_CSV, dtype={"geoid": str})
    places = programs[programs["geoid"].str.len() == 7]  # the two county sites: test_counties.py
    assert set(places["geoid"]) <= set(universe)
    # 316 places of 100k+ plus 5 smaller program cities, plus 5 smaller PSP sites from 2018 on (issue 12):
    # Anniston AL, Oxford AL, Gary IN, Saginaw MI, Salisbury NC
    assert len(universe) == 326
    ids = [f["properties"]["geoid"] for f in cities["features"]]
    assert ids == sorted(universe)
    assert [f["id"] for f in cities["features"]] == ids


def test_all_from_cb2015(cities: dict) -> None:
    sources = {f["properties"]["boundary_source"] for f in cities["features"]}
    assert sources == {simplify.BOUNDARY_SOURCE_CB}
    assert {f["properties"]["boundary_vintage"] for f in cities["features"]} == {2015}


def test_bad_geoid_rejected() -> None:
    with pytest.raises(ValueError, match="7-digit"):
        assemble.build_cities(SOURCES, ["1714000", "17140"])


def test_tiger_fallback_when_missing_from_cb() -> None:
    tiger = census.read_tiger_places(SOURCES)
    cb = census.read_cb2015_places(SOURCES, ["1714000", "4835000"])
    cb_without_chicago = cb[cb["GEOID"] != "1714000"]
    chosen = simplify.select_display_geometry(["4835000", "1714000"], cb_without_chicago, tiger).set_index(
        "geoid"
    )
    assert chosen.loc["1714000", "boundary_source"] == simplify.BOUNDARY_SOURCE_TIGER
    assert chosen.loc["1714000", "boundary_vintage"] == 2019
    assert chosen.loc["4835000", "boundary_source"] == simplify.BOUNDARY_SOURCE_CB
    with pytest.raises(ValueError, match="no boundary"):
        simplify.select_display_geometry(["9999999"], cb, tiger)


def test_jackson_tn_and_ms_are_distinct(by_geoid: dict) -> None:
    tn, ms = by_geoid["4737640"], by_geoid["2836000"]
    assert (tn["properties"]["state"], tn["properties"]["label"]) == ("TN", "Jackson, TN")
    assert (ms["properties"]["state"], ms["properties"]["label"]) == ("MS", "Jackson, MS")
    assert not shape(tn["geometry"]).intersects(shape(ms["geometry"]))
    assert tn["properties"]["population"] == _pep_cell("Jackson city, Tennessee") == 67191
    assert ms["properties"]["population"] == _pep_cell("Jackson city, Mississippi") == 160628


def test_display_names(by_geoid: dict) -> None:
    expected = {
        "1836003": ("Indianapolis", "Indianapolis city (balance)", "Indianapolis, IN"),
        "4752006": ("Nashville", "Nashville-Davidson metropolitan government (balance)", "Nashville, TN"),
        "2148006": ("Louisville", "Louisville/Jefferson County metro government (balance)", "Louisville, KY"),
        "1714000": ("Chicago", "Chicago city", "Chicago, IL"),
    }
    for geoid, (name, census_name, label) in expected.items():
        p = by_geoid[geoid]["properties"]
        assert (p["name"], p["census_name"], p["label"]) == (name, census_name, label)
    assert set(census.DISPLAY_NAMES) <= set(by_geoid)


# --- geometry -------------------------------------------------------------------------------------------


def test_geometries_valid_and_ccw(cities: dict) -> None:
    for f in cities["features"]:
        geom = shape(f["geometry"])
        assert geom.is_valid and not geom.is_empty, f["id"]
        assert geom.geom_type in ("Polygon", "MultiPolygon")
        for poly in _polygons(geom):
            assert poly.exterior.is_ccw, f["id"]
            assert all(not ring.is_ccw for ring in poly.interiors), f["id"]


def _on_grid(coords, grid: float) -> bool:
    return bool((abs(coords / grid - (coords / grid).round()) < 1e-6).all())


def test_coordinates_rounded(cities: dict) -> None:
    """Every city sits on the 0.0001 deg grid; most (tolerance >= 200 m) on the 0.001 deg grid."""
    per_feature = [shapely.get_coordinates(shape(f["geometry"])) for f in cities["features"]]
    coords = shapely.get_coordinates([shape(f["geometry"]) for f in cities["features"]])
    assert _on_grid(coords, simplify.CITY_FINE_GRID_DEG)
    assert sum(_on_grid(c, simplify.CITY_COARSE_GRID_DEG) for c in per_feature) > 0.9 * len(per_feature)
    assert ((coords[:, 0] > -180) & (coords[:, 0] < -60) & (coords[:, 1] > 15) & (coords[:, 1] < 72)).all()


def test_shoreline_clipped(by_geoid: dict) -> None:
    tiger = census.read_tiger_places(SOURCES).set_index("GEOID")
    limits = {"3611000": 115, "0660620": 90, "0653000": 160}  # Buffalo, Richmond CA, Oakland (km²)
    for geoid, limit in limits.items():
        area = _area_km2([shape(by_geoid[geoid]["geometry"])])[0]
        legal = (tiger.loc[geoid, "ALAND"] + tiger.loc[geoid, "AWATER"]) / 1e6
        assert area < limit < legal, geoid


def test_simplified_area_within_documented_tolerance(cities: dict, universe: list[str]) -> None:
    cb = census.read_cb2015_places(SOURCES, universe).set_index("GEOID")
    ids = [f["id"] for f in cities["features"]]
    simplified = _area_km2([shape(f["geometry"]) for f in cities["features"]])
    original = _area_km2(list(cb.loc[ids].geometry), crs=census.SOURCE_CRS)
    changes = [abs(s / o - 1) for s, o in zip(simplified, original, strict=True)]
    assert simplify.CITY_MAX_AREA_CHANGE == 0.01  # the bound SOURCES.md states
    assert max(changes) <= simplify.CITY_MAX_AREA_CHANGE + 1e-9
    assert sum(changes) / len(changes) < 0.005  # mean 0.45% when measured


def test_city_files_fit_the_first_load_budget(cities: dict) -> None:
    """Issue 5: geometry + data <= 300 KB gzipped; the city polygons get 200 KB of it, the states 30 KB."""
    built = gzip.compress(geojson_text(cities).encode(), 6)
    committed = gzip.compress((GEODATA / "cities.geojson").read_bytes(), 6)
    assert len(built) <= 200_000
    assert len(committed) <= 200_000
    assert len(gzip.compress((GEODATA / "states.geojson").read_bytes(), 6)) <= 30_000


def _square(x: float, y: float, cells: int) -> list[tuple[float, float]]:
    """A square of ``cells`` x 0.001 deg (at 35 N one cell is ~111 m x 91 m, ~0.01 km2)."""
    side = cells * 0.001
    return [(x, y), (x + side, y), (x + side, y + side), (x, y + side)]


def test_drop_small_rings() -> None:
    """Holes and islands under the limit go (areas reported); the largest part always stays."""
    main = Polygon(_square(-90, 35, 100), [_square(-89.99, 35.01, 1), _square(-89.97, 35.01, 5)])
    island = Polygon(_square(-89.8, 35, 1))
    out, holes, parts = simplify._drop_small_rings(MultiPolygon([main, island]), 0.02, 0.02)
    assert isinstance(out, Polygon) and len(out.interiors) == 1  # the 5 x 5 hole (~0.25 km2) stays
    assert len(holes) == 1 and 0.005 < holes[0] < 0.02
    assert len(parts) == 1 and 0.005 < parts[0] < 0.02
    alone, _, parts = simplify._drop_small_rings(island, 0.02, 0.02)
    assert alone.equals(island) and parts == []


@pytest.mark.parametrize("geoid", ["0107000", "3611000", "4835000"])  # Birmingham (holes), Buffalo, Houston
def test_simplify_city_follows_its_rules(geoid: str) -> None:
    raw = census.read_cb2015_places(SOURCES, [geoid]).to_crs(simplify.DISPLAY_CRS).geometry.iloc[0]
    city = simplify.simplify_city(raw, geoid)
    area = simplify.equal_area_km2(raw)
    assert city.tolerance_m in simplify.CITY_TOLERANCE_STEPS_M
    assert city.tolerance_m <= min(
        simplify.CITY_MAX_TOLERANCE_M, simplify.CITY_TOLERANCE_PER_SIZE * area**0.5 * 1000
    )
    assert abs(city.area_change) <= simplify.CITY_MAX_AREA_CHANGE
    assert city.area_change == pytest.approx(simplify.equal_area_km2(city.geometry) / area - 1)
    assert city.geometry.is_valid
    assert _on_grid(shapely.get_coordinates(city.geometry), city.grid_deg)
    assert all(a < simplify.CITY_MIN_HOLE_KM2 for a in city.dropped_holes_km2)
    assert all(a < simplify.CITY_MIN_PART_KM2 for a in city.dropped_parts_km2)
    assert shapely.get_num_coordinates(city.geometry) < shapely.get_num_coordinates(raw)


def test_representative_point_inside(cities: dict) -> None:
    for f in cities["features"]:
        p = f["properties"]
        assert shape(f["geometry"]).contains(Point(p["lon"], p["lat"])), f["id"]
        decimals = assemble.CITY_MARKER_DECIMALS
        assert round(p["lon"], decimals) == p["lon"] and round(p["lat"], decimals) == p["lat"]


# --- attributes -----------------------------------------------------------------------------------------


def test_land_area_from_tiger_2019(by_geoid: dict) -> None:
    assert by_geoid["1714000"]["properties"]["land_km2"] == pytest.approx(588.9, abs=0.05)
    assert by_geoid["4835000"]["properties"]["land_km2"] == pytest.approx(1658.1, abs=0.05)
    assert by_geoid["0660620"]["properties"]["water_km2"] == pytest.approx(58.2, abs=0.05)
    assert by_geoid["1714000"]["properties"]["area_source"] == assemble.AREA_SOURCE_TIGER
    # Burbank CA and Mesquite TX have only CB 2015 attributes in the sources.
    assert by_geoid["0608954"]["properties"]["area_source"] == assemble.AREA_SOURCE_CB
    assert by_geoid["4847892"]["properties"]["area_source"] == assemble.AREA_SOURCE_CB


def test_population_equals_pep_cell(by_geoid: dict) -> None:
    cells = {
        "1714000": "Chicago city, Illinois",
        "4835000": "Houston city, Texas",
        "1836003": "Indianapolis city (balance), Indiana",
        "4752006": "Nashville-Davidson metropolitan government (balance), Tennessee",
        "3410000": "Camden city, New Jersey",
        "1077580": "Wilmington city, Delaware",
    }
    for geoid, area in cells.items():
        p = by_geoid[geoid]["properties"]
        assert p["population"] == _pep_cell(area), geoid
        assert p["population_year"] == 2019
        assert p["population_source"] == assemble.POPULATION_SOURCE


def test_population_agrees_with_independent_join(by_geoid: dict) -> None:
    """places_pop100k.geojson carries POPEST2019 from its own (provenance script) join of the same table."""
    tiger = gpd.read_file(SOURCES / "boundaries" / "places_pop100k.geojson", ignore_geometry=True)
    for row in tiger.itertuples(index=False):
        assert by_geoid[row.GEOID]["properties"]["population"] == row.POPEST2019, row.GEOID


def test_population_null_outside_pep_table(by_geoid: dict) -> None:
    missing = sorted(g for g, f in by_geoid.items() if f["properties"]["population"] is None)
    # West Memphis AR, Anniston AL, Oxford AL, Salisbury NC: under 50,000
    assert missing == ["0101852", "0157576", "0574540", "3758860"]
    p = by_geoid["0574540"]["properties"]
    assert p["population_year"] is None and p["population_source"] is None


def test_pep_parser() -> None:
    pep = census.read_pep_2019(SOURCES)
    assert len(pep) == 788
    ranks = pep["rank_2019"].tolist()
    assert ranks[0] == 1 and ranks == sorted(ranks) and ranks[-1] == 788  # ties share a rank
    ny = pep.iloc[0]
    assert (ny["namelsad"], ny["statefp"], ny["pop_2019"]) == ("New York city", "36", 8336817)
    jurupa = pep[pep["namelsad"] == "Jurupa Valley city"].iloc[0]
    assert pd.isna(jurupa["census_2010"])  # "(X)": incorporated after 2010


def test_pep_match_is_exact(caplog: pytest.LogCaptureFixture) -> None:
    pep = pd.DataFrame(
        {
            "statefp": ["47", "12", "28"],
            "namelsad": ["Jackson city", "Jacksonville city", "Jackson city"],
            "pop_2019": [67191, 911507, 160628],
        }
    )
    places = pd.DataFrame(
        {
            "geoid": ["4737640", "1235000", "0136448", "4700001"],
            "statefp": ["47", "12", "01", "47"],
            "namelsad": ["Jackson city", "Jacksonville city", "Jacksonville city", "Jackson town"],
        }
    )
    with caplog.at_level(logging.WARNING, logger=census.__name__):
        got = census.match_pep_population(places, pep)
    assert got == {"4737640": 67191, "1235000": 911507}
    assert "0136448" in caplog.text and "4700001" in caplog.text
    with pytest.raises(ValueError, match="ambiguous"):
        census.match_pep_population(pd.concat([places, places.iloc[:1].assign(geoid="4799999")]), pep)


# --- states and output ----------------------------------------------------------------------------------


def test_states(states: dict) -> None:
    feats = states["features"]
    assert len(feats) >= 51
    usps = {f["properties"]["state"] for f in feats}
    assert {"DC", "AK", "HI", "PR"} <= usps
    assert [f["properties"]["statefp"] for f in feats] == sorted(f["properties"]["statefp"] for f in feats)
    for f in feats:
        geom = shape(f["geometry"])
        assert geom.is_valid and not geom.is_empty, f["id"]
        assert all(p.exterior.is_ccw for p in _polygons(geom))
    text = geojson_text(states).encode()
    assert len(text) < 150_000 and len(gzip.compress(text, 6)) <= 30_000


def test_write_is_deterministic(tmp_path: Path, universe: list[str], cities: dict, states: dict) -> None:
    """A second, independent build (via the writer) gives the same bytes as the fixture's build."""
    assemble.write_boundaries(SOURCES, tmp_path, universe)
    for name, built in (("cities.geojson", cities), ("states.geojson", states)):
        assert (tmp_path / name).read_bytes() == geojson_text(built).encode()
