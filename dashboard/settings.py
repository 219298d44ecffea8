"""Settings: paths and every environment knob, read once at start-up into a checked, frozen object.

``create_app`` loads them from the environment (or takes a ``Settings`` it is given) and makes
them the process's active settings; code that needs a knob at request time reads
``get_settings()``, never ``os.environ``. A value that makes no sense falls back to its
default with one warning that names the variable, so a typo never stops a deployment.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(__file__).resolve().parent / "config"

DEFAULT_CHART_TIMEOUT = 45.0  # s a chart export may take in the browser (ATLAS_EXPORT_TIMEOUT)
DEFAULT_BRIEFING_TIMEOUT = 180.0  # s for a whole briefing (ATLAS_BRIEFING_TIMEOUT)
DEFAULT_CACHE_THRESHOLD = 500  # entries; a briefing PDF is ~1 MB, a chart PNG ~100-300 KB
CACHE_OFF_VALUES = frozenset({"off", "null", "none", "0", "false", "no"})
# A CSP source expression: a scheme, a host (optionally with scheme, wildcard and port) or *.
_CSP_SOURCE = re.compile(
    r"^(\*|'self'|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?(\*\.)?[a-z0-9.-]+(:(\d+|\*))?)$"
)


@dataclass(frozen=True)
class Settings:
    """Everything the environment may change (README, "Deploying")."""

    geodata_dir: Path = PROJECT_ROOT / "geodata"  # ATLAS_GEODATA
    cache_enabled: bool = True  # ATLAS_CACHE=off disables the export cache
    cache_dir: Path | None = None  # ATLAS_CACHE_DIR; None: a folder under the temp dir
    cache_threshold: int = DEFAULT_CACHE_THRESHOLD  # ATLAS_CACHE_THRESHOLD
    redis_url: str = ""  # REDIS_URL: a shared Redis export cache
    export_timeout: float = DEFAULT_CHART_TIMEOUT  # ATLAS_EXPORT_TIMEOUT, seconds
    briefing_timeout: float = DEFAULT_BRIEFING_TIMEOUT  # ATLAS_BRIEFING_TIMEOUT, seconds
    embed_origins: str = "*"  # ATLAS_EMBED_ORIGINS, as CSP frame-ancestors sources
    browser_path: str = ""  # BROWSER_PATH: the Chromium for exports ("" = find Debian's)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        log.warning("%s=%r is not a number of seconds from 0 to 3600; using %g", name, raw, default)
        return default
    return value


def _positive_whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    if raw:
        log.warning("%s=%r is not a positive whole number; using %d", name, raw, default)
    return default


def csp_sources(raw: str) -> str:
    """Valid CSP source expressions from a space- or comma-separated list; nothing valid means ``*``."""
    tokens = [t.rstrip("/") for t in re.split(r"[\s,]+", raw.strip()) if t]
    return " ".join(t for t in tokens if _CSP_SOURCE.match(t.lower())) or "*"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from an environment (default ``os.environ``), each value checked."""
    env = os.environ if env is None else env
    return Settings(
        geodata_dir=Path(env.get("ATLAS_GEODATA") or PROJECT_ROOT / "geodata"),
        cache_enabled=env.get("ATLAS_CACHE", "").strip().lower() not in CACHE_OFF_VALUES,
        cache_dir=Path(env["ATLAS_CACHE_DIR"]) if env.get("ATLAS_CACHE_DIR") else None,
        cache_threshold=_positive_whole(env, "ATLAS_CACHE_THRESHOLD", DEFAULT_CACHE_THRESHOLD),
        redis_url=env.get("REDIS_URL", "").strip(),
        export_timeout=_seconds(env, "ATLAS_EXPORT_TIMEOUT", DEFAULT_CHART_TIMEOUT),
        briefing_timeout=_seconds(env, "ATLAS_BRIEFING_TIMEOUT", DEFAULT_BRIEFING_TIMEOUT),
        embed_origins=csp_sources(env.get("ATLAS_EMBED_ORIGINS", "")),
        browser_path=env.get("BROWSER_PATH", "").strip(),
    )


_active: Settings | None = None


def get_settings() -> Settings:
    """The process's settings: those of the last ``create_app``, else read from the environment once."""
    global _active
    if _active is None:
        _active = load_settings()
    return _active


def use_settings(settings: Settings) -> Settings | None:
    """Make ``settings`` the process's settings (``create_app`` does); returns the previous ones."""
    global _active
    previous, _active = _active, settings
    return previous


def geodata_dir() -> Path:
    """The data folder (``ATLAS_GEODATA``; tests use it to load broken copies)."""
    return get_settings().geodata_dir
