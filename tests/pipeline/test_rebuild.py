"""The committed geodata/ files are exactly what the pipeline builds from ../shared/sources."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import GEODATA, PROJECT_ROOT, SOURCES

pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="raw sources (../shared/sources) not present")


BUILT_FILES = {
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


@pytest.fixture(scope="session")
def fresh_check() -> subprocess.CompletedProcess:
    """One build of every file in a fresh interpreter (``build --check``: it writes nothing and exits 0 only
    when each file it builds equals the committed one, byte for byte). One build serves every test here: a
    second, in-process build cost ~25 s of the suite and proved nothing this one does not (the committed
    bytes were built by another process, with another hash seed)."""
    return subprocess.run(
        [sys.executable, "-m", "dashboard.pipeline", "build",
         "--sources", str(SOURCES), "--out", str(GEODATA), "--check"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip


def test_a_fresh_build_matches_the_committed_files_byte_for_byte(fresh_check) -> None:
    assert fresh_check.returncode == 0, fresh_check.stderr[-2000:]
    assert f"geodata is up to date ({len(BUILT_FILES)} files)" in fresh_check.stderr
    assert all((GEODATA / name).is_file() for name in BUILT_FILES)


def test_every_program_city_is_in_the_map_and_unmatched_rows_are_reported(fresh_check) -> None:
    import json

    import pandas as pd

    programs = pd.read_csv(GEODATA / "programs.csv", dtype=str)
    assert fresh_check.returncode == 0  # so the committed files below are what the build makes
    cities = json.loads((GEODATA / "cities.geojson").read_text(encoding="utf-8"))
    geoids = {f["properties"]["geoid"] for f in cities["features"]}
    assert set(programs["geoid"]) <= geoids
    coverage = (GEODATA / "COVERAGE.md").read_text(encoding="utf-8")
    section = coverage.split("## FBI rows of 100,000+ people that matched no Census place", 1)[1]
    # Township and county agencies are not Census places: they must be listed, not dropped silently.
    assert "Township" in section.split("\n## ", 1)[0]
