"""Soak test (issue 6 part 6): mixed traffic, bad requests, memory per worker, a worker killed mid-run.

    python -m benchmarks.soak                  # 10 minutes, 6 clients, 2 gunicorn workers
    python -m benchmarks.soak --seconds 5      # smoke run of the script itself

Not run in CI. Starts ``gunicorn -c gunicorn.conf.py dashboard.wsgi:server`` (the production
entry point and config, preloaded, gthread) with 2 workers on a free loopback port and drives
it with N closed-loop clients for ``--seconds``:

* good traffic: page loads (``/`` plus two of the page's own script assets), ``/_dash-layout``
  and ``/_dash-dependencies``, ``/_dash-update-component`` posts for year and offence changes
  (bodies built at run time from ``/_dash-dependencies`` and the layout, so they follow the
  current callback signatures), ``/data/cities.geojson``, CSV exports, embeds, briefing mode,
  ``/healthz`` and a few image exports;
* about 20% bad requests: fuzzed query parameters, path traversal, unknown routes, wrong
  methods and malformed callback bodies (invalid JSON, wrong shapes, unknown outputs, values of
  the wrong type). None of them may get a 5xx or leak a file.

Every 5 s the resident memory (RSS) of each worker is sampled, with and without its children
(the Chromium that kaleido starts for image exports). At the middle of the run one worker is
killed with SIGKILL; clients retry connection errors (every request here is idempotent: GETs and
Dash callbacks, which are pure functions of their inputs), and the script records when gunicorn
spawned the replacement and when that replacement served its first request (gunicorn's access
log carries the worker pid; keep-alive clients stay on the surviving worker, so page loads open
new connections and a probe on a fresh connection every 0.25 s stands in for new visitors).
"RSS with children" adds kaleido's Chromium processes; summing RSS over them counts shared
pages more than once, so it is an upper bound. Worker recycling (``max_requests``) is switched
off by default so that memory growth is measured on long-lived workers; ``--recycle`` keeps the
production setting.

Output: ``benchmarks/results/soak.json`` and a short text summary. The machine may be shared:
the load average at start and end is recorded, and latencies are only indicative.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import re
import signal
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from benchmarks.common import RESULTS_DIR, Server, child_pids, machine_info, rss_bytes, summarize, write_json
from benchmarks.dash_client import DashClient

log = logging.getLogger("benchmarks.soak")

MB = 1024 * 1024
# Connection-level failures that a client may retry: the request never got an HTTP answer.
RETRYABLE = (
    ConnectionError,  # reset, refused, aborted, broken pipe
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    http.client.BadStatusLine,
    socket.timeout,
)
MAX_ATTEMPTS = 6
IDLE_RECONNECT_S = 4.0  # gunicorn.conf.py keepalive is 5 s
COHORTS = ("psp-2017", "vrn-2014", "vrn-2015", "vrn-2016", "all-programs", "all-cities")
MEASURES = ("rate", "ratio", "count")
# Text that must never come back from a traversal attempt (app.py, /etc/passwd, gunicorn.conf.py).
LEAK_MARKERS = (b"import argparse", b"root:x:0:0", b"preload_app", b"def main(")


# ----------------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------------


@dataclass
class Record:
    t: float  # seconds since the traffic started (request start)
    kind: str
    bad: bool  # a deliberately bad request
    status: int  # HTTP status, 0 when no answer after every retry
    seconds: float
    attempts: int
    leak: bool = False
    error: str = ""  # the last connection error when a request was retried or failed
    detail: str = ""  # for bad requests: which variant (path or body kind)


@dataclass
class Shared:
    """What the client threads share: the stop flag, the records and a few page facts."""

    base: str
    years: tuple[int, int]
    offences: list[str]
    assets: list[str]
    stop: threading.Event = field(default_factory=threading.Event)
    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = 0.0

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)


# ----------------------------------------------------------------------------------------------------
# One virtual user
# ----------------------------------------------------------------------------------------------------


class Client:
    """A keep-alive HTTP user with the Dash callback map loaded; retries connection errors."""

    def __init__(self, shared: Shared, rng: random.Random, timeout: float) -> None:
        self.shared = shared
        self.rng = rng
        self.timeout = timeout
        self.port = int(shared.base.rsplit(":", 1)[1])
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.dash = DashClient(shared.base, timeout=timeout)
        self._load_dash()

    def _load_dash(self) -> None:
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.dash.load(f"?{self.view_query()}")
                return
            except (*RETRYABLE, RuntimeError):
                self.dash.close()
                time.sleep(0.1 * 2**attempt)
        raise RuntimeError("could not read /_dash-layout and /_dash-dependencies")

    # -- transport ----------------------------------------------------------------------------
    def send(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, int, str]:
        """(status, body, attempts, last error); status 0 when every attempt failed."""
        error = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self.conn is not None and time.monotonic() - self.last_used > IDLE_RECONNECT_S:
                self.close()  # gunicorn closes idle keep-alive connections: do not count that as a retry
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(
                    method, path, body=body, headers={"Accept-Encoding": "gzip", **(headers or {})}
                )
                response = self.conn.getresponse()
                data = response.read()
                self.last_used = time.monotonic()
                if (response.getheader("Connection") or "").lower() == "close":
                    self.close()
                return response.status, data, attempt, error
            except RETRYABLE as exc:
                error = type(exc).__name__
                self.close()
                if attempt < MAX_ATTEMPTS:
                    time.sleep(min(0.05 * 2 ** (attempt - 1), 1.0))
        return 0, b"", MAX_ATTEMPTS, error

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- random but valid views ---------------------------------------------------------------
    def view_query(self) -> str:
        rng = self.rng
        low, high = self.shared.years
        start = rng.randint(low, high - 5)
        params = {
            "cohort": rng.choice(COHORTS),
            "offence": rng.choice(self.shared.offences),
            "measure": rng.choice(MEASURES),
            "year": rng.randint(low, high),
            "from": start,
            "to": rng.randint(start + 1, high),
        }
        keep = rng.sample(sorted(params), rng.randint(1, len(params)))
        return urlencode({k: params[k] for k in keep})

    # -- the mix ------------------------------------------------------------------------------
    def step(self, weights: list[tuple[str, float]]) -> None:
        kinds, ws = zip(*weights, strict=True)
        kind = self.rng.choices(kinds, ws)[0]
        getattr(self, f"do_{kind.replace('-', '_')}")(kind)

    def record(self, kind: str, method: str, path: str, body: bytes | None = None, **kw: Any) -> bytes:
        headers = kw.pop("headers", None)
        detail = kw.pop("detail", "")
        bad = kind.startswith("bad-")
        start = time.monotonic()
        status, data, attempts, error = self.send(method, path, body, headers)
        seconds = time.monotonic() - start
        leak = bad and any(marker in data for marker in LEAK_MARKERS)
        self.shared.add(
            Record(
                start - self.shared.started,
                kind,
                bad,
                status,
                seconds,
                attempts,
                leak,
                error,
                (detail or f"{method} {path}"[:100]) if bad else "",
            )
        )
        return data

    def do_page(self, kind: str) -> None:
        self.close()  # a page load is a new visitor: a new connection, which any worker may accept
        self.record(kind, "GET", f"/?{self.view_query()}")
        for asset in self.rng.sample(self.shared.assets, min(2, len(self.shared.assets))):
            self.record("asset", "GET", asset)

    def do_layout(self, kind: str) -> None:
        page = f"{self.shared.base}/?{self.view_query()}"
        self.record(kind, "GET", "/_dash-layout", headers={"Referer": page})

    def do_dependencies(self, kind: str) -> None:
        self.record(kind, "GET", "/_dash-dependencies")

    def _callback_bodies(self, comp_id: str, value: Any) -> list[bytes]:
        self.dash.values[(comp_id, "value")] = value
        listeners = self.dash.listeners({(comp_id, "value")})
        return [json.dumps(self.dash.body(cb, [f"{comp_id}.value"])).encode() for cb in listeners]

    def _post_callbacks(self, kind: str, bodies: list[bytes]) -> None:
        for body in bodies:
            self.record(
                kind, "POST", "/_dash-update-component", body, headers={"Content-Type": "application/json"}
            )

    def do_callback_year(self, kind: str) -> None:
        low, high = self.shared.years
        self._post_callbacks(kind, self._callback_bodies("year", self.rng.randint(low, high)))

    def do_callback_offence(self, kind: str) -> None:
        self._post_callbacks(kind, self._callback_bodies("offence", self.rng.choice(self.shared.offences)))

    def do_geojson(self, kind: str) -> None:
        self.record(kind, "GET", "/data/cities.geojson")

    def do_csv_export(self, kind: str) -> None:
        self.record(kind, "GET", f"/export/data.csv?{self.view_query()}")

    def do_image_export(self, kind: str) -> None:
        chart = self.rng.choice(("map", "trends", "ranking"))
        fmt = self.rng.choice(("png", "svg", "pdf"))
        self.record(kind, "GET", f"/export/{chart}.{fmt}?{self.view_query()}")

    def do_embed(self, kind: str) -> None:
        self.record(
            kind, "GET", f"/embed/{self.rng.choice(('map', 'trends', 'ranking'))}?{self.view_query()}"
        )

    def do_present(self, kind: str) -> None:
        self.record(kind, "GET", f"/?present=1&{self.view_query()}")

    def do_healthz(self, kind: str) -> None:
        self.record(kind, "GET", "/healthz")

    # -- bad requests -------------------------------------------------------------------------
    def do_bad_params(self, kind: str) -> None:
        junk = self.rng.choice(
            [
                "year=abc",
                "year=99999999999999999999",
                "offence=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                "cities=1,2,notanumber," + "9" * 40,
                "threshold=1e999&from=9999&to=-1",
                "measure=" + quote("' OR 1=1 --"),
                "cohort=" + "x" * 3000,
                "year=%00%ff%fe",
                "from=2019&to=1960&year=1900",
                "cities=" + ",".join(str(self.rng.randint(10**6, 10**7 - 1)) for _ in range(200)),
            ]
        )
        target = self.rng.choice(["/", "/export/data.csv", "/embed/trends", "/?present=1&"])
        sep = "" if target.endswith("&") else "?"
        self.record(kind, "GET", f"{target}{sep}{junk}")

    def do_bad_export(self, kind: str) -> None:
        path = self.rng.choice(
            [
                "/export/map.gif",
                "/export/trends.png?width=99999",
                "/export/ranking.svg?width=abc&height=-1",
                "/export/nothing.csv",
                "/export/briefing.pdf?cities=" + "0" * 7 * 50,
                "/embed/nope",
            ]
        )
        self.record(kind, "GET", path)

    def do_bad_traversal(self, kind: str) -> None:
        path = self.rng.choice(
            [
                "/data/../app.py",
                "/data/..%2fapp.py",
                "/data/%2e%2e/%2e%2e/etc/passwd",
                "/data/..%2f..%2f..%2fetc%2fpasswd",
                "/assets/../../app.py",
                "/assets/..%2f..%2fgunicorn.conf.py",
                "/_dash-component-suites/../../../etc/passwd",
                "/_dash-component-suites/dash/..%2f..%2f..%2fapp.py",
                "/data/.env",
                "/export/..%2f..%2fapp.py",
                "/../../../../etc/passwd",
            ]
        )
        self.record(kind, "GET", path)

    def do_bad_route(self, kind: str) -> None:
        method, path = self.rng.choice(
            [
                ("GET", "/nope"),
                ("GET", "/wp-login.php"),
                ("POST", "/healthz"),
                ("DELETE", "/"),
                ("PUT", "/data/cities.geojson"),
                ("GET", "/_dash-update-component"),
            ]
        )
        self.record(kind, method, path, b"" if method in ("POST", "PUT") else None)

    def do_bad_callback(self, kind: str) -> None:
        bodies = self._callback_bodies("year", self.rng.randint(*self.shared.years))
        valid = json.loads(bodies[0]) if bodies else {"output": "map.figure"}
        broken = dict(valid)
        choice = self.rng.randrange(8)
        names = ("cut-json", "empty-object", "list", "unknown-output", "inputs-not-list", "year-text")
        names += ("nested-values", "not-utf8")
        if choice == 0:
            payload = b'{"output": "map.figure", "inputs": ['  # cut JSON
        elif choice == 1:
            payload = b"{}"
        elif choice == 2:
            payload = b"[]"
        elif choice == 3:
            broken["output"] = "no-such-component.children"
            broken["outputs"] = {"id": "no-such-component", "property": "children"}
            payload = json.dumps(broken).encode()
        elif choice == 4:
            broken["inputs"] = "not a list"
            payload = json.dumps(broken).encode()
        elif choice == 5:
            for dep in broken.get("inputs", []):
                if dep.get("id") == "year":
                    dep["value"] = "nineteen ninety"
            payload = json.dumps(broken).encode()
        elif choice == 6:
            for dep in broken.get("inputs", []):
                dep["value"] = {"nested": [1, 2, {"deep": None}]}
            payload = json.dumps(broken).encode()
        else:
            payload = b"\xff\xfe not json at all"
        self.record(
            kind,
            "POST",
            "/_dash-update-component",
            payload,
            headers={"Content-Type": "application/json"},
            detail=f"callback body: {names[choice]}",
        )


GOOD_WEIGHTS: list[tuple[str, float]] = [
    ("page", 8),
    ("layout", 8),
    ("dependencies", 3),
    ("callback-year", 16),
    ("callback-offence", 14),
    ("geojson", 5),
    ("csv-export", 8),
    ("image-export", 1.2),
    ("embed", 4),
    ("present", 3),
    ("healthz", 4),
]
BAD_WEIGHTS: list[tuple[str, float]] = [  # per step; good steps send 1-4 requests, so ~20% of requests
    ("bad-params", 11),
    ("bad-export", 6),
    ("bad-traversal", 11),
    ("bad-route", 6),
    ("bad-callback", 13),
]


def client_loop(shared: Shared, seed: int, think: float, timeout: float) -> None:
    rng = random.Random(seed)
    try:
        client = Client(shared, rng, timeout)
    except RuntimeError as exc:
        log.error("client %d could not start: %s", seed, exc)
        return
    weights = GOOD_WEIGHTS + BAD_WEIGHTS
    while not shared.stop.is_set():
        try:
            client.step(weights)
        except Exception:  # a bug in the load generator must not end the soak silently
            log.exception("client %d step failed", seed)
        if think:
            time.sleep(rng.expovariate(1 / think))
    client.close()
    client.dash.close()


# ----------------------------------------------------------------------------------------------------
# Memory sampling and the worker kill
# ----------------------------------------------------------------------------------------------------


def tree_rss(pid: int) -> int | None:
    """RSS of a worker plus its descendants (kaleido's Chromium), via psutil."""
    try:
        import psutil

        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return int(total)
    except Exception:
        return None


class Sampler(threading.Thread):
    """Every ``every`` seconds: RSS of each worker, kept in stable slots across replacements."""

    def __init__(self, master: int, every: float, started: float) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.every = every
        self.started = started
        self.slots: dict[int, int] = {}  # slot -> current pid
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def assign(self) -> dict[int, int]:
        pids = set(child_pids(self.master))
        gone = [slot for slot, pid in self.slots.items() if pid not in pids]
        fresh = sorted(pids - set(self.slots.values()))
        for slot in gone:
            if fresh:
                self.slots[slot] = fresh.pop(0)
            else:
                del self.slots[slot]
        for pid in fresh:
            self.slots[len(self.slots)] = pid
        return dict(self.slots)

    def sample(self) -> None:
        t = round(time.monotonic() - self.started, 2)
        for slot, pid in sorted(self.assign().items()):
            rss, tree = rss_bytes(pid), tree_rss(pid)
            if rss:  # None: gone; 0: a killed worker not yet reaped (zombie)
                self.samples.append({"t": t, "slot": slot, "pid": pid, "rss": rss, "tree_rss": tree})
        master = rss_bytes(self.master)
        if master is not None:
            self.samples.append(
                {"t": t, "slot": "master", "pid": self.master, "rss": master, "tree_rss": None}
            )

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.every)


def first_served(log_path: Path, pid: int, offset: int) -> tuple[bool, int]:
    """Whether gunicorn's access log (format with ``<pid>`` first) has a line from ``pid``."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except OSError:
        return False, offset
    marker = f"<{pid}> ".encode()
    found = any(line.startswith(marker) for line in chunk.splitlines())
    return found, offset + len(chunk)


def kill_and_watch(server: Server, sampler: Sampler, started: float, result: dict, probe: str) -> None:
    """SIGKILL one worker and time its replacement: spawned, then first request served."""
    victims = server.worker_pids()
    if not victims:
        result["error"] = "no worker to kill"
        return
    victim = victims[0]
    log_path = server.log_path
    offset = log_path.stat().st_size if log_path and log_path.exists() else 0
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)  # a worker of the gunicorn this script started
    result.update({"victim_pid": victim, "killed_at_s": round(killed - started, 2)})
    sampler.sample()
    replacement = None
    deadline = killed + 120
    while time.monotonic() < deadline and replacement is None:
        fresh = set(child_pids(server.process.pid)) - set(victims)
        if fresh:
            replacement = min(fresh)
            result["replacement_pid"] = replacement
            result["spawned_after_s"] = round(time.monotonic() - killed, 3)
        else:
            time.sleep(0.02)
    if replacement is None:
        result["error"] = "no replacement worker within 120 s"
        return
    served = False
    while time.monotonic() < deadline and not served:
        served, offset = first_served(log_path, replacement, offset)
        if served:
            result["first_request_after_s"] = round(time.monotonic() - killed, 3)
            break
        # Keep-alive clients stay on the surviving worker; a probe on a fresh connection every
        # 0.25 s (as new visitors would arrive) gives the replacement the chance to accept one.
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                sock.sendall(f"GET {probe} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
                sock.recv(1024)
            result["probes"] = result.get("probes", 0) + 1
        except OSError:
            result["probe_errors"] = result.get("probe_errors", 0) + 1
        time.sleep(0.25)
    if not served:
        result["error"] = "the replacement served no request within 120 s"


# ----------------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------------


def status_class(status: int) -> str:
    return "failed" if status == 0 else f"{status // 100}xx"


def memory_report(samples: list[dict]) -> dict:
    """Per worker slot and per worker pid: RSS start, peak, end and growth (MB and %)."""

    def growth(rows: list[dict], key: str) -> dict:
        values = [r[key] for r in rows if r[key] is not None]
        if not values:
            return {}
        start, peak, end = values[0], max(values), values[-1]
        report = {
            "start_mb": round(start / MB, 1),
            "peak_mb": round(peak / MB, 1),
            "end_mb": round(end / MB, 1),
            "growth_mb": round((end - start) / MB, 1),
            "growth_pct": round(100 * (end - start) / start, 1) if start else None,
            "samples": len(values),
        }
        half = [r for r in rows if r[key] is not None][len(values) // 2 :]
        if len(half) >= 3:
            ts = [r["t"] for r in half]
            vs = [r[key] / MB for r in half]
            mean_t, mean_v = sum(ts) / len(ts), sum(vs) / len(vs)
            var = sum((t - mean_t) ** 2 for t in ts)
            if var:
                slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(ts, vs, strict=True)) / var
                report["second_half_slope_mb_per_min"] = round(slope * 60, 2)
        return report

    by_slot: dict[str, list[dict]] = defaultdict(list)
    by_pid: dict[int, list[dict]] = defaultdict(list)
    for row in samples:
        by_slot[str(row["slot"])].append(row)
        by_pid[row["pid"]].append(row)
    slots = {}
    for slot, rows in sorted(by_slot.items()):
        slots[slot] = {
            "pids": list(dict.fromkeys(r["pid"] for r in rows)),
            "rss": growth(rows, "rss"),
            "rss_with_children": growth(rows, "tree_rss") if slot != "master" else {},
        }
    workers = {
        str(pid): {
            "slot": rows[0]["slot"],
            "first_t": rows[0]["t"],
            "last_t": rows[-1]["t"],
            "rss": growth(rows, "rss"),
            "rss_with_children": growth(rows, "tree_rss"),
        }
        for pid, rows in by_pid.items()
        if rows[0]["slot"] != "master"
    }
    return {"slots": slots, "workers": workers}


def traffic_report(records: list[Record], killed_at: float | None, seconds: float) -> dict:
    total = len(records)
    classes = Counter(status_class(r.status) for r in records)
    five = [r for r in records if r.status >= 500]
    failed = [r for r in records if r.status == 0]
    by_kind: dict[str, dict] = {}
    for kind in sorted({r.kind for r in records}):
        rows = [r for r in records if r.kind == kind]
        by_kind[kind] = {
            "requests": len(rows),
            "statuses": dict(sorted(Counter(str(r.status) for r in rows).items())),
            "latency_ms": summarize([r.seconds for r in rows if r.status], 1000),
            "retried": sum(r.attempts > 1 for r in rows),
        }
    good_unexpected = [r for r in records if not r.bad and r.status and not 200 <= r.status < 400]
    phases = {}
    if killed_at is not None:
        for name, low, high in (("before_kill", 0, killed_at), ("after_kill", killed_at, seconds + 3600)):
            rows = [r for r in records if low <= r.t < high]
            phases[name] = {
                "requests": len(rows),
                "5xx": sum(r.status >= 500 for r in rows),
                "failed": sum(r.status == 0 for r in rows),
                "retried": sum(r.attempts > 1 for r in rows),
                "retry_errors": dict(Counter(r.error for r in rows if r.attempts > 1)),
            }
        window = [r for r in records if killed_at <= r.t < killed_at + 30]
        phases["first_30_s_after_kill"] = {
            "requests": len(window),
            "5xx": sum(r.status >= 500 for r in window),
            "max_latency_ms": round(1000 * max((r.seconds for r in window), default=0), 1),
            "retried": sum(r.attempts > 1 for r in window),
        }
    return {
        "requests": total,
        "requests_per_s": round(total / seconds, 1) if seconds else None,
        "bad_request_share": round(sum(r.bad for r in records) / total, 3) if total else None,
        "by_status_class": dict(sorted(classes.items())),
        "5xx": len(five),
        "failed_after_retries": len(failed),
        "error_rate": round((len(five) + len(failed)) / total, 5) if total else None,
        "good_requests_not_2xx_3xx": len(good_unexpected),
        "leaks": sum(r.leak for r in records),
        "retried_requests": sum(r.attempts > 1 for r in records),
        "5xx_by_request": dict(Counter(f"{r.kind} {r.detail} -> {r.status}" for r in five).most_common(30)),
        "retry_errors": dict(Counter(r.error for r in records if r.attempts > 1)),
        "by_kind": by_kind,
        "phases": phases,
    }


def text_summary(report: dict) -> str:
    t = report["traffic"]
    lines = [
        f"soak: {report['config']['seconds']} s, {report['config']['clients']} clients, "
        f"{report['config']['workers']} workers; load average {report['machine']['load_average']} at start, "
        f"{report['load_average_end']} at end",
        f"requests {t['requests']} ({t['requests_per_s']}/s), "
        f"bad {100 * (t['bad_request_share'] or 0):.0f}%: {t['by_status_class']}",
        f"5xx {t['5xx']}, failed after retries {t['failed_after_retries']}, error rate {t['error_rate']}, "
        f"good requests not 2xx/3xx {t['good_requests_not_2xx_3xx']}, leaks {t['leaks']}, "
        f"retried {t['retried_requests']}",
    ]
    for request, count in t["5xx_by_request"].items():
        lines.append(f"  5xx x{count}: {request}")
    for slot, data in report["memory"]["slots"].items():
        rss = data["rss"]
        if rss:
            lines.append(
                f"RSS slot {slot} (pids {data['pids']}): start {rss['start_mb']} MB, "
                f"peak {rss['peak_mb']} MB, end {rss['end_mb']} MB"
            )
    for pid, data in report["memory"]["workers"].items():
        rss, tree = data["rss"], data["rss_with_children"]
        slope = rss.get("second_half_slope_mb_per_min")
        lines.append(
            f"worker {pid} (slot {data['slot']}, {data['first_t']}-{data['last_t']} s): "
            f"RSS {rss['start_mb']} -> {rss['end_mb']} MB "
            f"(growth {rss['growth_mb']} MB, {rss['growth_pct']}%, peak {rss['peak_mb']})"
            + (f", 2nd-half slope {slope} MB/min" if slope is not None else "")
            + (f"; with children {tree['start_mb']} -> {tree['end_mb']} MB" if tree else "")
        )
    kill = report["kill"]
    if kill:
        lines.append(
            f"kill: pid {kill.get('victim_pid')} at {kill.get('killed_at_s')} s; replacement "
            f"{kill.get('replacement_pid')} spawned after {kill.get('spawned_after_s')} s, first request "
            f"served after {kill.get('first_request_after_s')} s; after the kill: "
            f"{t['phases'].get('after_kill')}" + (f"; ERROR {kill['error']}" if kill.get("error") else "")
        )
    lines.append(f"verdict: {report['verdict']}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------------


def page_facts(base: str) -> tuple[tuple[int, int], list[str], list[str]]:
    """Year range, offence values and the page's script assets, read from the running app."""
    client = DashClient(base)
    try:
        health = client.get("/healthz").json()
        years = (int(health["years"][0]), int(health["years"][1]))
        client.load()
        options = client.value("offence", "options") or []
        offences = [o["value"] if isinstance(o, dict) else o for o in options]
        index = client.get("/").body.decode("utf-8", "replace")
    finally:
        client.close()
    assets = re.findall(r'<script src="(/_dash-component-suites/[^"]+)"', index)
    return years, offences, assets


def run(args: argparse.Namespace) -> dict:
    gunicorn_args = "--access-logformat '%(p)s %(s)s %(m)s %(U)s %(L)s'"  # %(p)s prints <pid>
    if not args.recycle:
        gunicorn_args += " --max-requests 0"
    server = Server(
        "atlas",
        mode="gunicorn",
        workers=args.workers,
        threads=args.threads,
        env={"GUNICORN_CMD_ARGS": gunicorn_args},
    )
    machine = machine_info()
    with server:
        years, offences, assets = page_facts(server.url)
        shared = Shared(server.url, years, offences, assets)
        shared.started = time.monotonic()
        sampler = Sampler(server.process.pid, args.sample_every, shared.started)
        sampler.start()
        threads = [
            threading.Thread(
                target=client_loop, args=(shared, args.seed + i, args.think, args.timeout), daemon=True
            )
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        kill: dict = {}
        kill_at = shared.started + args.seconds * args.kill_at
        watcher: threading.Thread | None = None
        end = shared.started + args.seconds
        while time.monotonic() < end:
            if args.kill_at and watcher is None and time.monotonic() >= kill_at:
                watcher = threading.Thread(
                    target=kill_and_watch,
                    args=(server, sampler, shared.started, kill, "/healthz"),
                    daemon=True,
                )
                watcher.start()
            time.sleep(0.05)
        shared.stop.set()
        for thread in threads:
            thread.join(timeout=args.timeout + 10)
        elapsed = time.monotonic() - shared.started
        sampler.stop.set()
        sampler.sample()
        if watcher is not None:
            watcher.join(timeout=130)
        alive = len(server.worker_pids())
    records = sorted(shared.records, key=lambda r: r.t)
    traffic = traffic_report(records, kill.get("killed_at_s"), args.seconds)
    memory = memory_report(sampler.samples)
    problems = []
    if traffic["5xx"]:
        problems.append(f"{traffic['5xx']} responses with 5xx")
    if traffic["failed_after_retries"]:
        problems.append(f"{traffic['failed_after_retries']} requests failed after retries")
    if traffic["leaks"]:
        problems.append(f"{traffic['leaks']} traversal responses leaked file content")
    if kill.get("error"):
        problems.append(kill["error"])
    if alive != args.workers:
        problems.append(f"{alive} workers alive at the end, expected {args.workers}")
    return {
        "config": {
            "seconds": args.seconds,
            "clients": args.clients,
            "workers": args.workers,
            "threads": args.threads,
            "think_s": args.think,
            "kill_at_fraction": args.kill_at,
            "sample_every_s": args.sample_every,
            "recycle": args.recycle,
            "seed": args.seed,
            "weights": dict(GOOD_WEIGHTS + BAD_WEIGHTS),
        },
        "machine": machine,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "elapsed_s": round(elapsed, 1),
        "traffic": traffic,
        "memory": memory,
        "kill": kill,
        "workers_alive_at_end": alive,
        "verdict": "PASS" if not problems else "FAIL: " + "; ".join(problems),
        "samples": sampler.samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="traffic duration (default 600)")
    parser.add_argument("--clients", type=int, default=6, help="concurrent closed-loop clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.1, help="mean think time between steps, s")
    parser.add_argument("--timeout", type=float, default=180.0, help="per-request timeout, s")
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the run; 0 = no kill")
    parser.add_argument("--sample-every", type=float, default=5.0, help="RSS sampling period, s")
    parser.add_argument("--recycle", action="store_true", help="keep gunicorn.conf.py's max_requests")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "soak.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    report = run(args)
    write_json(args.out, report)
    print(text_summary(report))
    print(f"written: {args.out}")
    return 0 if report["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
