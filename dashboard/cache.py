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
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import flask
from flask_caching import Cache
from flask_compress import Compress

from dashboard.data import Dataset
from dashboard.state import ViewState

log = logging.getLogger(__name__)

EXTENSION_KEY = "atlas_cache"
CACHE_OFF_VALUES = frozenset({"off", "null", "none", "0", "false", "no"})
RESULT_TTL = 7 * 24 * 3600  # s: keys carry the data and code versions, so this only frees space
FILESYSTEM_THRESHOLD = 500  # entries; a briefing PDF is ~1 MB, a chart PNG ~100-300 KB
REDIS_SOCKET_TIMEOUT = 2.0  # s: a hung Redis must not hold an export for long
BACKEND_RETRY_AFTER = 30.0  # s without trying the backend again after it failed
CACHE_HEADER = "X-Atlas-Cache"
WORKER_HEADER = "X-Atlas-Worker"

# Everything textual the app serves; PNG/PDF are already compressed.
COMPRESS_MIMETYPES = (
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/markdown",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "image/svg+xml",
    "image/x-icon",
)
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/data/", "/_favicon.ico")
STATIC_COMPRESSED_BYTES = 48 * 1024 * 1024  # in-memory LRU of compressed immutable files
IMMUTABLE_MAX_AGE = 365 * 24 * 3600


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


def _threshold(raw: str) -> int:
    """``ATLAS_CACHE_THRESHOLD`` (entries kept on disk); a typo falls back to the default, loudly."""
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    if raw.strip():
        log.warning(
            "ATLAS_CACHE_THRESHOLD=%r is not a positive whole number; using %d", raw, FILESYSTEM_THRESHOLD
        )
    return FILESYSTEM_THRESHOLD


def build_result_cache(server: flask.Flask, dataset: Dataset, env: Mapping[str, str]) -> ResultCache:
    """The result cache the environment asks for (see the module docstring)."""
    namespace = f"atlas:{_slug(dataset.version)}:{_code_version()}"
    if env.get("ATLAS_CACHE", "").strip().lower() in CACHE_OFF_VALUES:
        return ResultCache("off", namespace)
    redis_url = env.get("REDIS_URL", "").strip()
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
        folder = Path(env["ATLAS_CACHE_DIR"]) if env.get("ATLAS_CACHE_DIR") else default_cache_dir(dataset)
        config = {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": str(folder),
            "CACHE_THRESHOLD": _threshold(env.get("ATLAS_CACHE_THRESHOLD", "")),
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


def init_cache(server: flask.Flask, dataset: Dataset, env: Mapping[str, str] | None = None) -> ResultCache:
    """Configure the export result cache of ``server`` from the environment (once per app)."""
    cache = build_result_cache(server, dataset, os.environ if env is None else env)
    server.extensions[EXTENSION_KEY] = cache
    return cache


def get_cache(server: flask.Flask, dataset: Dataset) -> ResultCache:
    """The app's result cache, configured from the environment on first use."""
    cache = server.extensions.get(EXTENSION_KEY)
    return cache if isinstance(cache, ResultCache) else init_cache(server, dataset)


def worker_id() -> str:
    return str(os.getpid())


# ---------------------------------------------------------------------------------------------
# Compression and static caching headers


class _BytesLRU:
    """A thread-safe LRU of compressed bodies, bounded in bytes (flask-compress's cache protocol)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.size += len(value) - (len(old) if old is not None else 0)
            self._items[key] = value
            while self.size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)


def _static_key(request: flask.Request) -> str:
    return flask.g.get("atlas_static_key", request.path)


def init_compression(server: flask.Flask) -> None:
    """Compress textual responses and give fingerprinted static files long-lived cache headers.

    Call right after creating the app: after_request hooks run in reverse order, so this one
    runs last and compresses what the others produced.
    """
    server.config.update(
        COMPRESS_REGISTER=False,
        COMPRESS_MIMETYPES=list(COMPRESS_MIMETYPES),
        # Brotli first, at quality 5: on our payloads it beats zstd-3 and gzip-6 (map recolour worst
        # case 3.8 KB against 4.1/4.0 KB; cities.geojson 184 KB against 222/192 KB) for ~1 ms per
        # callback; static files are compressed once per worker and kept (see below).
        COMPRESS_ALGORITHM=["br", "zstd", "gzip", "deflate"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_ZSTD_LEVEL=9,
    )
    dynamic = Compress(server)
    static = Compress(server)
    static.cache = _BytesLRU(STATIC_COMPRESSED_BYTES)
    static.cache_key = _static_key

    @server.after_request
    def compress(response: flask.Response) -> flask.Response:
        request = flask.request
        _static_cache_headers(request, response)
        if not request.path.startswith(STATIC_PREFIXES):
            return dynamic.after_request(response)
        if response.status_code != 200 or response.mimetype not in static.compress_mimetypes_set:
            return dynamic.after_request(response)
        if response.is_streamed:  # send_file: buffer it, so gzip is allowed and the bytes cached
            response.direct_passthrough = False
            response.make_sequence()
        etag, _ = response.get_etag()
        flask.g.atlas_static_key = f"{request.path}|{etag or ''}"
        return static.after_request(response)


def _static_cache_headers(request: flask.Request, response: flask.Response) -> None:
    """Assets referenced with Dash's ``?m=<mtime>`` (favicon ``?v=<dash version>``) never change."""
    fingerprinted = (request.path.startswith("/assets/") and "m" in request.args) or (
        request.path == "/_favicon.ico" and "v" in request.args
    )
    if request.path.startswith("/_dash-component-suites/") and response.cache_control.max_age:
        fingerprinted = True  # Dash set a year's max-age: the URL carries the package version
    if fingerprinted and response.status_code in (200, 304):
        response.headers["Cache-Control"] = f"public, max-age={IMMUTABLE_MAX_AGE}, immutable"
