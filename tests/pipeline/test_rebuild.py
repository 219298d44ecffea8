"""The committed geodata/ files are exactly what the pipeline builds from ../shared/sources."""

from __future__ import annotations

import pytest

from dashboard.pipeline.build import build
from tests.conftest import GEODATA, SOURCES

pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="raw sources (../shared/sources) not present")


@pytest.fixture(scope="module")
def rebuilt():
    return build(SOURCES, GEODATA)


def test_rebuild_matches_committed_files_byte_for_byte(rebuilt) -> None:
    assert set(rebuilt.files) == {
        "cities.geojson",
        "states.geojson",
        "crime_city_year.csv",
        "crime_national_year.csv",
        "COVERAGE.md",
    }
    for name, text in rebuilt.files.items():
        committed = (GEODATA / name).read_text(encoding="utf-8")
        assert committed == text, f"geodata/{name} differs from a fresh build: rerun the pipeline"


def test_build_is_deterministic(rebuilt) -> None:
    again = build(SOURCES, GEODATA)
    assert again.files == rebuilt.files


def test_every_program_city_is_in_the_map_and_unmatched_rows_are_reported(rebuilt) -> None:
    import json

    import pandas as pd

    programs = pd.read_csv(GEODATA / "programs.csv", dtype=str)
    geoids = {f["properties"]["geoid"] for f in json.loads(rebuilt.files["cities.geojson"])["features"]}
    assert set(programs["geoid"]) <= geoids
    unmatched = rebuilt.unmatched
    # Township and county agencies are not Census places: they must be listed, not dropped silently.
    assert (unmatched["agency"].str.contains("Township")).any()
    assert "FBI rows of 100,000+ people that matched no Census place" in rebuilt.files["COVERAGE.md"]
