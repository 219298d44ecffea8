"""5. Load: the production server (gunicorn.conf.py: 2 gthread workers x 4 threads) under 32 users.

Each virtual user is a thread with its own keep-alive :class:`DashClient` and loops until the time is
up: a page load (index page, ``/_dash-layout``, ``/_dash-dependencies``, the component bundles on its
first visit only, the geometry files when its cache has no fresh copy, and every initial callback), then
a few interactions (year 60%, offence 30%, measure 10%, each posting every callback it triggers plus one
chained level), and now and then a CSV export. Caching headers are honoured as a browser does: a
``max-age`` copy is reused without a request, and every fifth page load is a reload that revalidates
(``If-None-Match``, answered 304). A sampler records each gunicorn worker's resident memory every 0.25 s.
The load generator runs on the same 2 cores as the server (loopback), which lowers the throughput it can
reach: it is a floor for the server's capacity, not a ceiling.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

from benchmarks.common import Server, rss_bytes, summarize
from benchmarks.context import Context
from benchmarks.dash_client import DashClient
from benchmarks.interaction import Script

log = logging.getLogger("benchmarks")

USERS = 32
DURATION_S = 60.0
THINK_S = (0.0, 0.3)  # short random pause between actions (desynchronises users; server stays busy)
MIX = (("year", 0.6), ("offence", 0.3), ("measure", 0.1))
CSV_EVERY = 10  # one page visit in ten downloads the CSV
RELOAD_EVERY = 5
GEOMETRY = ("/data/cities.geojson", "/data/states.geojson")  # when the page names none
GEOMETRY_URL = re.compile(r'/data/[\w.-]+\.geojson(?:\?[^"<>]*)?')
SCRIPT_SRC = re.compile(r'<script[^>]+src="([^"]+)"')


@dataclass
class Sample:
    kind: str
    status: int
    seconds: float
    wire_bytes: int
    ended: float  # time.monotonic() when the response was read


@dataclass
class Shared:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    interactions: int = 0
    page_loads: int = 0

    def add(self, kind: str, status: int, seconds: float, wire: int) -> None:
        with self.lock:
            self.samples.append(Sample(kind, status, seconds, wire, time.monotonic()))
            if status >= 400:
                self.errors.append(f"{kind}: HTTP {status}")


class User:
    def __init__(
        self, url: str, template: DashClient, geometry: list[str], shared: Shared, seed: int, deadline: float
    ) -> None:
        self.client = DashClient(url, timeout=120)
        self.client.callbacks = template.callbacks
        self.client.types = template.types
        self.template = template
        self.geometry = geometry
        self.shared = shared
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.cache: dict[str, tuple[str, float]] = {}  # path -> (etag, fresh until)
        self.visits = 0

    def _get(self, kind: str, path: str, headers: dict[str, str] | None = None):
        resp = self.client.get(path, headers=headers)
        self.shared.add(kind, resp.status, resp.seconds, resp.wire_bytes)
        return resp

    def _cached_get(self, path: str, reload: bool) -> None:
        etag, fresh_until = self.cache.get(path, ("", 0.0))
        if etag and not reload and time.monotonic() < fresh_until:
            return  # served from the browser cache: no request at all
        resp = self._get("geometry", path, {"If-None-Match": etag} if etag else None)
        if resp.status == 200:
            match = re.search(r"max-age=(\d+)", resp.headers.get("cache-control", ""))
            age = float(match.group(1)) if match else 0.0
            self.cache[path] = (resp.headers.get("etag", ""), time.monotonic() + age)

    def page_load(self) -> None:
        reload = self.visits > 0 and self.visits % RELOAD_EVERY == 0
        index = self._get("page", "/")
        if self.visits == 0:  # fingerprinted bundles: cached for a year after the first visit
            for src in SCRIPT_SRC.findall(index.body.decode("utf-8", "replace")):
                if src.startswith("/"):
                    self._get("bundle", src)
        self._get("layout", "/_dash-layout")
        self._get("dependencies", "/_dash-dependencies")
        for path in self.geometry:
            self._cached_get(path, reload)
        self.client.values = dict(self.template.values)
        for callback in self.client.callbacks:  # what the renderer fires on load
            if callback.prevent_initial_call or time.monotonic() >= self.deadline:
                continue
            record, _ = self.client.call(callback, [], 0)
            self.shared.add("callback:initial", record.status, record.seconds, record.wire_bytes)
        self.visits += 1
        with self.shared.lock:
            self.shared.page_loads += 1

    def interact(self, script: Script, step: int) -> None:
        name = self.rng.choices([m[0] for m in MIX], [m[1] for m in MIX])[0]
        for record in self.client.change(name, "value", script.next(name, step)):
            self.shared.add(f"callback:{name}", record.status, record.seconds, record.wire_bytes)
        with self.shared.lock:
            self.shared.interactions += 1

    def run(self) -> None:
        step = 0
        try:
            while time.monotonic() < self.deadline:
                self.page_load()
                script = Script(self.client)
                for i in range(self.rng.randint(3, 8)):
                    if i and time.monotonic() >= self.deadline:  # at least one interaction per visit
                        break
                    time.sleep(self.rng.uniform(*THINK_S))
                    self.interact(script, step)
                    step += 1
                if self.visits % CSV_EVERY == 1 and time.monotonic() < self.deadline:
                    query = self.client.value("url", "search") or ""
                    self._get("csv", f"/export/data.csv{query}")
        except Exception as exc:  # a dropped connection or timeout is an error, not a crash
            with self.shared.lock:
                self.shared.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        finally:
            self.client.close()


class MemorySampler(threading.Thread):
    """Peak RSS per gunicorn worker pid (recycled workers get new pids) and of the master."""

    def __init__(self, server: Server, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.every = every
        self.peaks: dict[int, int] = defaultdict(int)
        self.master_peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            for pid in self.server.worker_pids():
                self.peaks[pid] = max(self.peaks[pid], rss_bytes(pid) or 0)
            if self.server.process is not None:
                self.master_peak = max(self.master_peak, rss_bytes(self.server.process.pid) or 0)
            self.stopped.wait(self.every)


def run(ctx: Context) -> dict:
    users = 4 if ctx.smoke else USERS
    duration = 5.0 if ctx.smoke else DURATION_S
    # a fresh server, so memory and worker recycling start from zero (the smoke run reuses the shared one)
    server = ctx.server("atlas") if ctx.smoke else Server("atlas").start()
    sampler = MemorySampler(server)
    try:
        template = DashClient(server.url)
        layout, _ = template.load()
        index = template.get("/")
        template.close()
        # the geometry URLs the page really uses (e.g. versioned ``?v=``), in the layout or the index
        text = index.body.decode("utf-8", "replace") + layout.body.decode("utf-8", "replace")
        found = {quote(url, safe="/?=&%") for url in GEOMETRY_URL.findall(text)}  # as a browser encodes it
        geometry = sorted(found) or list(GEOMETRY)
        baseline = {pid: rss_bytes(pid) for pid in server.worker_pids()}
        shared = Shared()
        sampler.start()
        start = time.monotonic()
        deadline = start + duration
        threads = [
            threading.Thread(
                target=User(server.url, template, geometry, shared, seed, deadline).run, daemon=True
            )
            for seed in range(users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=duration + 300)
        elapsed = time.monotonic() - start
        sampler.stopped.set()
        sampler.join(timeout=5)
        stragglers = sum(1 for t in threads if t.is_alive())
    finally:
        sampler.stopped.set()
        if not ctx.smoke:
            server.stop()
    samples = shared.samples
    in_window = sum(1 for s in samples if s.ended <= deadline)  # throughput over the nominal duration
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    mib = 2**20
    return {
        "method": (
            f"{users} threads x keep-alive DashClient on loopback for {duration:.0f} s against "
            "gunicorn -c gunicorn.conf.py (2 gthread workers x 4 threads); think time "
            f"{THINK_S[0]}-{THINK_S[1]} s; RSS sampled every 0.25 s"
        ),
        "users": users,
        "geometry_urls": geometry,
        "duration_s": duration,
        "drain_s": round(elapsed - duration, 2),  # finishing the requests in flight at the deadline
        "requests": len(samples),
        "requests_in_window": in_window,
        "throughput_rps": round(in_window / duration, 2),
        "interactions": shared.interactions,
        "interactions_per_s": round(shared.interactions / elapsed, 2) if elapsed else None,
        "page_loads": shared.page_loads,
        "latency_ms": summarize((s.seconds for s in samples), 1000),
        "by_kind": {
            kind: {
                "requests": len(items),
                "ms": summarize((s.seconds for s in items), 1000),
                "wire_bytes_p50": summarize(s.wire_bytes for s in items).get("p50"),
                "status": dict(Counter(str(s.status) for s in items)),
            }
            for kind, items in sorted(by_kind.items())
        },
        "errors": len(shared.errors) + stragglers,
        "error_examples": sorted(Counter(shared.errors).items(), key=lambda kv: -kv[1])[:10],
        "rss_mib": {
            "workers_at_start": {str(p): round((v or 0) / mib, 1) for p, v in baseline.items()},
            "peak_per_worker": {str(p): round(v / mib, 1) for p, v in sorted(sampler.peaks.items())},
            "peak_worker": round(max(sampler.peaks.values(), default=0) / mib, 1),
            "master_peak": round(sampler.master_peak / mib, 1),
            "workers_seen": len(sampler.peaks),
        },
    }
