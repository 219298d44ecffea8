"""Paths and small settings. Everything the app serves comes from the package or geodata/."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(__file__).resolve().parent / "config"


def geodata_dir() -> Path:
    """The data folder; ``ATLAS_GEODATA`` overrides it (tests use this to load broken copies)."""
    return Path(os.environ.get("ATLAS_GEODATA", PROJECT_ROOT / "geodata"))


SOURCE_CITATION = "Source: FBI Uniform Crime Reporting; Census TIGER/CB boundaries"
DEFAULT_RANKING_YEAR = 2015  # latest FBI data published when PSP was announced (June 2017)
DEFAULT_THRESHOLD = 1.5
