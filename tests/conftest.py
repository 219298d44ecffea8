"""Shared fixtures: paths to the raw sources and the committed geodata."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GEODATA = PROJECT_ROOT / "geodata"
SOURCES = PROJECT_ROOT.parent / "shared" / "sources"


# Modules that take more than a few seconds each (measured with --durations): the fast local loop is
# ``pytest -m "not slow and not browser and not exports"``.
SLOW_MODULES = {
    "tests/pipeline/test_rebuild.py",
    "tests/pipeline/test_boundaries.py",
    "tests/pipeline/test_source_faults.py",
    "tests/serve/test_serving.py",
    "tests/data/test_data_faults.py",
    "tests/benchmarks/test_benchmarks_smoke.py",
}


def pytest_collection_modifyitems(config, items) -> None:
    """Markers by what a test needs: the export browser, the raw sources, or time."""
    for item in items:
        path = Path(str(item.fspath)).resolve().relative_to(PROJECT_ROOT).as_posix()
        if "renderer" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.exports)
        if path.startswith("tests/pipeline/"):
            item.add_marker(pytest.mark.sources)
        if path in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def renderer():
    """One warm export browser for the whole run, recording every URL its pages request."""
    from dashboard.publish.exports import renderer as export_renderer

    warm = export_renderer.ChartRenderer(tabs=1, record_requests=True)  # one tab starts faster
    previous = export_renderer.set_renderer(warm)
    yield warm
    warm.stop()
    export_renderer.set_renderer(previous)


@pytest.fixture(scope="session")
def app(dataset, export_cache_in_a_temporary_folder):
    """The app, built once for the run, with its export cache off: every export request really renders
    (the cache has its own tests, in serve/test_serving.py, on apps of their own)."""
    from dataclasses import replace

    from dashboard.serve.app import create_app
    from dashboard.settings import load_settings

    return create_app(dataset, settings=replace(load_settings(), cache_enabled=False))


@pytest.fixture(scope="session")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="session")
def uncached_export_client(client, renderer):
    """The shared client, with the shared warm export browser running behind it."""
    return client


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
