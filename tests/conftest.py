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
    from dashboard.data import load_dataset

    return load_dataset(GEODATA)
