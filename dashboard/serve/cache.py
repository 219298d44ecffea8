"""Serving caches: export results (flask-caching) and compressed HTTP responses (flask-compress).

Export results (chart images, briefing PDFs, CSVs) are deterministic for a dataset version,
a code version and a normalised view, so they are computed once and shared:

* ``REDIS_URL`` set: a Redis cache shared by every worker and machine behind a load balancer;
* otherwise a filesystem cache in ``ATLAS_CACHE_DIR``, by default a folder under the system
  temp dir named with the dataset version (and the id of the process that built the app: with
  gunicorn's ``preload_app`` that is the master, so its workers share it while a restart, a new
  deployment or a test run never reads a previous run's files);
* ``ATLAS_CACHE=off`` (or ``null``, ``none``, ``0``, ``false``) disables it.

The cache is an optimisation only: when the backend fails (Redis down), results are computed
as if uncached, one warning is logged and the backend is retried after a pause.

Responses are compressed (zstd, br, gzip) when the client accepts it: JSON, JS, CSS, HTML,
GeoJSON, CSV, SVG; never PNG or PDF. Immutable files (Dash's component suites, /assets/,
/data/) are compressed once per process and kept in a small in-memory LRU.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import flask
from flask_caching import Cache

from dashboard.data.dataset import Dataset
from dashboard.data.state import ViewState
from dashboard.settings import Settings, get_settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "atlas_cache"
RESULT_TTL = 7 * 24 * 3600  # s: keys carry the data and code versions, so this only frees space
REDIS_SOCKET_TIMEOUT = 2.0  # s: a hung Redis must not hold an export for long
BACKEND_RETRY_AFTER = 30.0  # s without trying the backend again after it failed
CACHE_HEADER = "X-Atlas-Cache"
WORKER_HEADER = "X-Atlas-Worker"


# ---------------------------------------------------------------------------------------------
# Versions


def code_version() -> str:
    """Hash of the package's code and config plus the plotly and kaleido versions.

    Part of every key, so a shared Redis never serves a result drawn by an older release
    (a rolling deployment runs two versions side by side).
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv", ".json", ".css", ".js"}:
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    for name in ("plotly", "kaleido"):
        with contextlib.suppress(PackageNotFoundError):
            digest.update(f"{name}={version(name)}".encode())
    return digest.hexdigest()[:10]


_CODE_VERSION: str | None = None


def _code_version() -> str:
    global _CODE_VERSION
    if _CODE_VERSION is None:
        _CODE_VERSION = code_version()
    return _CODE_VERSION


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


# ---------------------------------------------------------------------------------------------
# Result cache


@dataclass
class ResultCache:
    """Export results keyed by data version, code version, route, variant and normalised view."""

    kind: str  # "redis", "filesystem" or "off"
    namespace: str  # "atlas:<data version>:<code version>"
    backend: Any = None  # a cachelib/flask-caching backend; None when off
    location: str = ""  # the directory or the Redis URL without credentials, for logs
    _down_until: float = field(default=0.0, repr=False)
    _warned: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def key(
        self,
        route: str,
        variant: str,
        state: ViewState,
        width: int | None = None,
        height: int | None = None,
    ) -> str:
        """One key per distinct result; equivalent URLs (same ``state.to_query()``) share it.

        The notices (what the link asked for that was ignored) are part of the key because the
        CSV lists them.
        """
        key = f"{self.namespace}:{route}:{variant}:{state.to_query()}:w={width or ''}:h={height or ''}"
        if state.notices:
            key += ":n=" + hashlib.sha256("\n".join(state.notices).encode()).hexdigest()[:12]
        return key

    def fetch(self, key: str, compute: Callable[[], bytes]) -> tuple[bytes, bool]:
        """The cached bytes for ``key`` (hit=True) or ``compute()``'s, stored when it succeeds.

        Exceptions of ``compute`` propagate (nothing is stored); backend errors never do.
        """
        cached = self._call("get", key)
        if isinstance(cached, bytes):
            return cached, True
        body = compute()
        self._call("set", key, body, timeout=RESULT_TTL)
        return body, False

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.backend is None or time.monotonic() < self._down_until:
            return None
        try:
            result = getattr(self.backend, method)(*args, **kwargs)
        except Exception as exc:  # the cache is an optimisation: never fail a request for it
            with self._lock:
                self._down_until = time.monotonic() + BACKEND_RETRY_AFTER
                first = not self._warned
                self._warned = True
            if first:
                log.warning(
                    "%s cache at %s unavailable (%s: %s); computing results uncached, retrying every %d s",
                    self.kind,
                    self.location,
                    type(exc).__name__,
                    exc,
                    BACKEND_RETRY_AFTER,
                )
            return None
        if self._warned:
            with self._lock:
                if self._warned:
                    self._warned = False
                    log.info("%s cache at %s is back", self.kind, self.location)
        return result


def default_cache_dir(dataset: Dataset) -> Path:
    """``<tmp>/safety-atlas-cache/<data version>-<code version>-p<pid>``; dead runs' folders are removed."""
    root = Path(tempfile.gettempdir()) / "safety-atlas-cache"
    _remove_dead_runs(root)
    return root / f"{_slug(dataset.version)}-{_code_version()}-p{os.getpid()}"


def _remove_dead_runs(root: Path) -> None:
    """Delete the folders of app processes that have exited (their entries can never be read)."""
    if not root.is_dir():
        return
    for folder in root.iterdir():
        match = re.search(r"-p(\d+)$", folder.name)
        if not match or not folder.is_dir() or _alive(int(match[1])):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _redacted(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)


def build_result_cache(server: flask.Flask, dataset: Dataset, settings: Settings) -> ResultCache:
    """The result cache the settings ask for (see the module docstring)."""
    namespace = f"atlas:{_slug(dataset.version)}:{_code_version()}"
    if not settings.cache_enabled:
        return ResultCache("off", namespace)
    redis_url = settings.redis_url
    if redis_url:
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_DEFAULT_TIMEOUT": RESULT_TTL,
            "CACHE_OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
        kind, location = "redis", _redacted(redis_url)
    else:
        folder = settings.cache_dir or default_cache_dir(dataset)
        config = {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": str(folder),
            "CACHE_THRESHOLD": settings.cache_threshold,
            "CACHE_DEFAULT_TIMEOUT": RESULT_TTL,
        }
        kind, location = "filesystem", str(folder)
    cache = Cache(config=config)
    try:
        cache.init_app(server)
    except OSError as exc:  # e.g. a cache folder another user owns: serve uncached, say why
        log.warning("export cache disabled: cannot use %s (%s)", location, exc)
        return ResultCache("off", namespace)
    backend = server.extensions["cache"][cache]
    log.info("export results cached in %s (%s)", location, kind)
    return ResultCache(kind, namespace, backend, location)


def init_cache(server: flask.Flask, dataset: Dataset, settings: Settings | None = None) -> ResultCache:
    """Configure the export result cache of ``server`` from the settings (once per app)."""
    cache = build_result_cache(server, dataset, settings or get_settings())
    server.extensions[EXTENSION_KEY] = cache
    return cache


def get_cache(server: flask.Flask, dataset: Dataset) -> ResultCache:
    """The app's result cache, configured from the environment on first use."""
    cache = server.extensions.get(EXTENSION_KEY)
    return cache if isinstance(cache, ResultCache) else init_cache(server, dataset)


def worker_id() -> str:
    return str(os.getpid())
