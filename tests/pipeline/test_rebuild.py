"""The committed geodata/ files are exactly what the pipeline builds from ../shared/sources."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dashboard.pipeline.build import build
from tests.conftest import GEODATA, PROJECT_ROOT, SOURCES

pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="raw sources (../shared/sources) not present")


@pytest.fixture(scope="session")
def rebuilt():
    """The pipeline built once in this process (shared by the tests below)."""
    return build(SOURCES, GEODATA)


def test_rebuild_matches_committed_files_byte_for_byte(rebuilt) -> None:
    assert set(rebuilt.files) == {
        "cities.geojson",
        "states.geojson",
        "crime_city_year.csv",
        "crime_national_year.csv",
        "peer_groups_year.csv",
        "unmatched_places.csv",
        "places_year.csv",
        "places.csv",
        "outcomes.csv",
        "COVERAGE.md",
        "SCREENING.md",
    }
    for name, text in rebuilt.files.items():
        committed = (GEODATA / name).read_text(encoding="utf-8")
        assert committed == text, f"geodata/{name} differs from a fresh build: rerun the pipeline"


def test_build_is_deterministic_across_processes(rebuilt) -> None:
    """A fresh interpreter (no module-level cache shared with the build above) builds the same bytes:
    ``--check`` exits 0 only when every file it builds equals the committed one, as ``rebuilt`` does."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.pipeline",
            "build",
            "--sources",
            str(SOURCES),
            "--out",
            str(GEODATA),
            "--check",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"geodata is up to date ({len(rebuilt.files)} files)" in result.stderr


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
