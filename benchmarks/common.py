"""Shared helpers: statistics, machine info, and starting/stopping the servers under test.

All servers (the atlas, the floor and the naive baseline) are started the same way, as real
processes on free loopback ports, so every comparison is like for like.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger("benchmarks")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SOURCES_DIR = PROJECT_ROOT.parent / "shared" / "sources"

# What each server kind is: a gunicorn target (module:variable) and a dev-server command.
APPS = {
    "atlas": {"wsgi": "dashboard.wsgi:server", "dev": ["app.py"]},
    "floor": {"wsgi": "benchmarks.apps.floor_app:server", "dev": ["-m", "benchmarks.apps.floor_app"]},
    "naive": {"wsgi": "benchmarks.apps.naive_app:server", "dev": ["-m", "benchmarks.apps.naive_app"]},
}


def summarize(values: Iterable[float], scale: float = 1.0) -> dict:
    """n, p50, p95, p99, mean, min, max (multiplied by ``scale``, e.g. 1000 for s -> ms)."""
    data = np.asarray([float(v) for v in values], dtype=float) * scale
    if data.size == 0:
        return {"n": 0}
    pct = np.percentile(data, [50, 95, 99])
    return {
        "n": int(data.size),
        "p50": round(float(pct[0]), 4),
        "p95": round(float(pct[1]), 4),
        "p99": round(float(pct[2]), 4),
        "mean": round(float(data.mean()), 4),
        "min": round(float(data.min()), 4),
        "max": round(float(data.max()), 4),
    }


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b rounded, or None when either is missing or b is 0."""
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def machine_info() -> dict:
    """Enough to tell whether two result files are comparable."""
    packages = ["dash", "plotly", "flask", "flask-compress", "flask-caching", "gunicorn", "kaleido"]
    packages += ["pandas", "geopandas", "numpy", "playwright", "psutil", "matplotlib"]
    chromium = None
    for path in ("/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if Path(path).exists():
            try:
                chromium = subprocess.run(
                    [path, "--version"], capture_output=True, text=True, timeout=20
                ).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                chromium = path
            break
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in packages},
        "chromium": chromium,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(dirty),
    }


def wait_for_health(url: str, timeout: float, process: subprocess.Popen | None = None) -> float:
    """Poll ``url`` every 20 ms until it answers 200; return the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"server did not answer {url} within {timeout:.0f} s")


@dataclass
class Server:
    """One app served as a real process (gunicorn with the project's config, or the dev server)."""

    app: str  # key of APPS
    mode: str = "gunicorn"  # or "dev"
    workers: int = 2
    threads: int = 4
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    ready_at: float = 0.0
    log_path: Path | None = None
    warm_requests: int = 8

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        spec = APPS[self.app]
        if self.mode == "gunicorn":
            return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", spec["wsgi"]]
        return [sys.executable, *spec["dev"], "--port", str(self.port)]

    def start(self, timeout: float = 120.0) -> Server:
        self.port = self.port or free_port()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "ATLAS_BIND": f"127.0.0.1:{self.port}",
            "ATLAS_WORKERS": str(self.workers),
            "ATLAS_THREADS": str(self.threads),
            "PORT": str(self.port),
            **self.env,
        }
        handle, name = tempfile.mkstemp(prefix=f"bench-{self.app}-{self.mode}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        with open(self.log_path, "w") as out:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                self.command(), cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            self.ready_at = wait_for_health(f"{self.url}/healthz", timeout, self.process)
        except RuntimeError as exc:
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"{self.app} ({self.mode}) did not start: {exc}\n{tail}") from exc
        log.info("%s (%s) ready on %s in %.2f s", self.app, self.mode, self.url, self.startup_s)
        self.warm()
        return self

    def warm(self) -> None:
        """A few one-at-a-time requests on fresh connections, so that every worker most likely has
        run Dash's first-request set-up before the benchmark sends it concurrent requests (Dash 4
        marks the set-up done before finishing it, so a fresh gthread worker answers parallel asset
        requests with 500s: "dash is not a registered library")."""
        for _ in range(self.warm_requests):
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/healthz", timeout=30):
                pass

    @property
    def startup_s(self) -> float:
        return self.ready_at - self.started_at

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_lines(self) -> list[str]:
        """The server's output so far (gunicorn's access log goes there: one line per request)."""
        if not self.log_path or not self.log_path.exists():
            return []
        return self.log_path.read_text(errors="replace").splitlines()

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master), or the dev server itself."""
        if self.process is None:
            return []
        if self.mode != "gunicorn":
            return [self.process.pid]
        return child_pids(self.process.pid)

    def stop(self) -> None:
        """Terminate our own process (gunicorn's master stops its workers), then clean up."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # our own session, started above
                self.process.wait(timeout=10)
        self.process = None
        if self.log_path and self.log_path.exists():
            self.log_path.unlink()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def child_pids(pid: int) -> list[int]:
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children()]
    except ImportError:
        pass
    except Exception:  # the process is gone
        return []
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def rss_bytes(pid: int) -> int | None:
    """Resident set size of one process (psutil when installed, else /proc)."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except ImportError:
        pass
    except Exception:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=False, default=str) + "\n")
