"""Shared fixtures: paths to the raw sources and the committed geodata."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GEODATA = PROJECT_ROOT / "geodata"
SOURCES = PROJECT_ROOT.parent / "shared" / "sources"


@pytest.fixture(scope="session")
def geodata_dir() -> Path:
    return GEODATA


@pytest.fixture(scope="session")
def dataset():
    from dashboard.data.dataset import load_dataset

    return load_dataset(GEODATA)


@pytest.fixture(scope="session", autouse=True)
def export_cache_in_a_temporary_folder(tmp_path_factory):
    """Test runs never write into (or read from) the machine's shared export cache folder.

    Set before any app is built, and inherited by the servers the browser tests start.
    """
    import os

    folder = tmp_path_factory.mktemp("export-cache")
    previous = os.environ.get("ATLAS_CACHE_DIR")
    os.environ["ATLAS_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("ATLAS_CACHE_DIR", None)
    else:
        os.environ["ATLAS_CACHE_DIR"] = previous


@pytest.fixture(scope="module")
def uncached_export_client(dataset, renderer):
    """The app with its result cache off, so every export request really renders, on the module's
    own ``renderer`` fixture (each export test module defines one: a warm export browser)."""
    from dashboard.serve.app import create_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATLAS_CACHE", "off")
        yield create_app(dataset).server.test_client()


@pytest.fixture
def change_settings():
    """Change the process's settings for one test, as a restart with other environment values would;
    the previous settings come back afterwards."""
    from dataclasses import replace

    from dashboard.settings import get_settings, use_settings

    previous = get_settings()

    def change(**values):
        use_settings(replace(previous, **values))

    yield change
    use_settings(previous)
