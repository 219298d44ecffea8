"""Production serving: the export result cache, compression, cache headers, two gunicorn workers.

The unit tests use the Flask test client with a filesystem cache in a temporary folder; the
integration test starts a real ``redis-server`` and ``gunicorn`` with two workers and shows a
result computed by one worker served from the shared cache by the other.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dashboard import errors
from dashboard.data.state import parse_query
from dashboard.publish.exports import charts as export_charts
from dashboard.publish.exports import csv as export_csv
from dashboard.publish.exports import metadata as export_metadata
from dashboard.serve import cache as atlas_cache
from dashboard.serve.app import create_app
from dashboard.serve.cache import CACHE_HEADER, WORKER_HEADER, ResultCache
from dashboard.web import ids

PROJECT_ROOT = Path(__file__).resolve().parents[2]
QUERY = "?cities=4748000,4737640&offence=murder&from=2010&to=2016"
# The same view: other parameter order, defaults spelled out, a repeated parameter (the last wins).
EQUIVALENT = (
    "?to=2016&from=2010&measure=ratio&offence=rape&offence=murder&cities=4748000,4737640&threshold=1.50"
)
CACHE_ENV = ("REDIS_URL", "ATLAS_CACHE", "ATLAS_CACHE_DIR", "ATLAS_CACHE_THRESHOLD")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_client(dataset, monkeypatch, tmp_path):
    """A test client whose app reads the cache settings given (the others removed)."""

    def build(**env: str):
        for name in CACHE_ENV:
            monkeypatch.delenv(name, raising=False)
        env.setdefault("ATLAS_CACHE_DIR", str(tmp_path / "cache"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return create_app(dataset).server.test_client()

    return build


def cache_files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


# --------------------------------------------------------------------------------------------
# Cache keys


def test_equivalent_queries_share_one_key(dataset) -> None:
    cache = ResultCache("off", "atlas:test")
    one = cache.key("export", "trends.png", parse_query(QUERY, dataset), 800, 500)
    other = cache.key("export", "trends.png", parse_query(EQUIVALENT, dataset), 800, 500)
    assert one == other
    assert one != cache.key("export", "trends.png", parse_query(QUERY, dataset), 900, 500)
    assert one != cache.key("export", "trends.png", parse_query(QUERY, dataset), 800, 600)
    assert one != cache.key("export", "trends.svg", parse_query(QUERY, dataset), 800, 500)
    assert one != cache.key("export", "trends.png", parse_query(QUERY + "&measure=rate", dataset), 800, 500)


def test_ignored_parameters_get_their_own_entry(dataset) -> None:
    """The CSV lists what the link asked for that was ignored, so that is part of the key."""
    cache = ResultCache("off", "atlas:test")
    clean = cache.key("export", "data.csv", parse_query(QUERY, dataset))
    noisy = cache.key("export", "data.csv", parse_query(QUERY + "&measure=nonsense", dataset))
    assert clean != noisy


def test_keys_carry_the_dataset_and_code_versions(make_client, dataset) -> None:
    client = make_client()
    cache = client.application.extensions[atlas_cache.EXTENSION_KEY]
    key = cache.key("export", "data.csv", parse_query(QUERY, dataset))
    version = dataset.version.split()[-1]
    assert version in key and atlas_cache.code_version() in key


def test_the_default_folder_is_per_dataset_version_and_run(dataset, monkeypatch) -> None:
    monkeypatch.delenv("ATLAS_CACHE_DIR", raising=False)
    folder = atlas_cache.default_cache_dir(dataset)
    assert folder.parent.parent == Path(tempfile.gettempdir())
    assert dataset.version.split()[-1] in folder.name and folder.name.endswith(f"-p{os.getpid()}")


# --------------------------------------------------------------------------------------------
# Filesystem cache through the routes


def test_csv_is_computed_once_then_served_from_the_cache(make_client, tmp_path) -> None:
    client = make_client()
    first = client.get("/export/data.csv" + QUERY)
    assert first.status_code == 200 and first.headers[CACHE_HEADER] == "miss"
    again = client.get("/export/data.csv" + EQUIVALENT)
    assert again.status_code == 200 and again.headers[CACHE_HEADER] == "hit"
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    entries = len(cache_files(tmp_path / "cache"))
    assert client.get("/export/data.csv" + QUERY + "&measure=rate").headers[CACHE_HEADER] == "miss"
    assert len(cache_files(tmp_path / "cache")) == entries + 1  # one entry per distinct view
    assert "public" in first.headers["Cache-Control"] and "max-age=3600" in first.headers["Cache-Control"]
    assert first.headers[WORKER_HEADER] == str(os.getpid())
    revalidated = client.get("/export/data.csv" + QUERY, headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.data == b""


def test_a_new_app_on_the_same_folder_reuses_the_entries(make_client) -> None:
    """What several workers of one machine do: another process, the same folder."""
    assert make_client().get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "miss"
    assert make_client().get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "hit"


def test_failures_are_not_cached_and_map_to_400_503_500(make_client, monkeypatch, caplog) -> None:
    client = make_client()
    real = export_csv.view_csv
    for error, status, words in (
        (errors.RequestError("Bad view: say why."), 400, "Bad view"),
        (errors.ExportError("browser gone"), 503, "try again"),
        (KeyError("bug"), 500, "server error"),
        # An internal ValueError is a bug, not a bad request: 500, and its text stays in the log.
        (ValueError("internal detail 42"), 500, "server error"),
    ):

        def broken(*_args, error=error):
            raise error

        monkeypatch.setattr(export_csv, "view_csv", broken)
        with caplog.at_level(logging.WARNING, logger="dashboard.serve.export_routes"):
            response = client.get("/export/data.csv" + QUERY)
        assert response.status_code == status
        assert response.mimetype == "text/plain" and words in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)
        assert "internal detail" not in response.get_data(as_text=True)
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.ERROR)  # the 500 is logged
    monkeypatch.setattr(export_csv, "view_csv", real)
    assert client.get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "miss"


def test_bad_sizes_are_still_400_before_any_cache_lookup(make_client) -> None:
    response = make_client().get("/export/trends.png?width=abc")
    assert response.status_code == 400 and "width" in response.get_data(as_text=True)


def test_cache_off_always_computes(make_client, tmp_path) -> None:
    client = make_client(ATLAS_CACHE="off")
    for _ in range(2):
        assert client.get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "miss"
    assert not (tmp_path / "cache").exists()


def test_an_unusable_cache_folder_means_no_cache_not_a_crash(make_client, tmp_path, caplog) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="dashboard.serve.cache"):
        client = make_client(ATLAS_CACHE_DIR=str(blocker / "cache"))
    assert client.get("/export/data.csv" + QUERY).status_code == 200
    assert any("export cache disabled" in r.getMessage() for r in caplog.records)


def test_redis_down_still_answers_and_warns_once(make_client, caplog) -> None:
    client = make_client(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="dashboard.serve.cache"):
        responses = [client.get("/export/data.csv" + QUERY) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert {r.headers[CACHE_HEADER] for r in responses} == {"miss"}
    assert len({r.data for r in responses}) == 1
    warnings = [
        r for r in caplog.records if r.name == "dashboard.serve.cache" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1 and "uncached" in warnings[0].getMessage()


def test_a_broken_backend_recovers_after_the_pause(make_client, monkeypatch) -> None:
    client = make_client()
    cache = client.application.extensions[atlas_cache.EXTENSION_KEY]
    real_get = cache.backend.get

    def down(*_args, **_kwargs):
        raise ConnectionError("simulated outage")

    calls = []
    monkeypatch.setattr(cache.backend, "get", down)
    assert client.get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "miss"
    monkeypatch.setattr(cache.backend, "get", lambda key: calls.append(key) or real_get(key))
    assert client.get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "miss"
    assert calls == []  # paused: the backend is left alone, no timeout paid per request
    cache._down_until = 0.0  # the pause is over
    assert client.get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "miss"  # stored again
    assert client.get("/export/data.csv" + QUERY).headers[CACHE_HEADER] == "hit"


# --------------------------------------------------------------------------------------------
# Compression and cache headers


def test_geometry_is_gzipped_and_revalidates(make_client, geodata_dir) -> None:
    client = make_client()
    response = client.get("/data/cities.geojson", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "application/geo+json"
    assert "Accept-Encoding" in response.headers["Vary"]
    raw = (geodata_dir / "cities.geojson").read_bytes()
    assert gzip.decompress(response.data) == raw and len(response.data) < len(raw) / 2
    assert "max-age=86400" in response.headers["Cache-Control"]
    again = client.get(
        "/data/cities.geojson",
        headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/data/cities.geojson")  # no Accept-Encoding: the file as is
    assert "Content-Encoding" not in plain.headers and plain.data == raw


def test_callback_responses_are_gzipped(make_client) -> None:
    client = make_client()
    client.get("/")
    dependency = next(
        d for d in client.get("/_dash-dependencies").get_json() if d["output"] == "trends.figure"
    )
    values = {
        ids.CITIES: ["4748000", "4737640"],
        ids.OFFENCE: "murder",
        ids.MEASURE: "rate",
        ids.YEAR_RANGE: [2000, 2016],
        ids.ALIGN: "calendar",
        ids.COHORT: "psp-2017",
        ids.TREND_BASE: None,  # issue 18: change since, scale, rolling average
        ids.TREND_SCALE: "linear",
        ids.TREND_SMOOTH: 1,
    }
    body = {
        "output": dependency["output"],
        "outputs": {"id": ids.TRENDS, "property": "figure"},
        "inputs": [{**item, "value": values[item["id"]]} for item in dependency["inputs"]],
        "state": [{**item, "value": values[item["id"]]} for item in dependency.get("state", [])],
        "changedPropIds": [f"{ids.CITIES}.value"],
    }
    response = client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["response"][ids.TRENDS]["figure"]["data"]


def test_images_are_not_recompressed(make_client, monkeypatch) -> None:
    png = export_metadata.PNG_SIGNATURE + os.urandom(4000)
    monkeypatch.setattr(export_charts, "render_chart", lambda *args, **kwargs: png)
    response = make_client().get("/export/trends.png" + QUERY, headers={"Accept-Encoding": "gzip, br, zstd"})
    assert response.status_code == 200 and response.data == png
    assert "Content-Encoding" not in response.headers


def test_csv_and_page_are_compressed(make_client) -> None:
    client = make_client()
    csv = client.get("/export/data.csv" + QUERY, headers={"Accept-Encoding": "gzip"})
    assert csv.headers["Content-Encoding"] == "gzip" and gzip.decompress(csv.data).startswith(b"#")
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip" and b"<html" in gzip.decompress(page.data).lower()


def test_static_files_have_long_lived_cache_headers(make_client) -> None:
    """Dash fingerprints its bundles and /assets/ URLs, so a second visit downloads nothing."""

    client = make_client()
    page = client.get("/").get_data(as_text=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    styles = re.findall(r'href="(/assets/[^"]+\?m=[^"]+)"', page)
    assert scripts and styles
    for url in (scripts[0], styles[0]):
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip", url
        assert "max-age=31536000" in response.headers["Cache-Control"], url
    repeat = client.get(scripts[0], headers={"Accept-Encoding": "gzip"})
    assert repeat.data == client.get(scripts[0], headers={"Accept-Encoding": "gzip"}).data


# --------------------------------------------------------------------------------------------
# Integration: redis-server + two gunicorn workers


def _wait_until(check, timeout: float, what: str, log_file: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = log_file.read_text(errors="replace")[-3000:] if log_file and log_file.exists() else ""
    pytest.fail(f"{what} did not come up within {timeout:.0f} s\n{tail}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `apt-get install redis-server` (scripts/test.sh does it)")
    import redis

    port = free_port()
    log_file = tmp_path_factory.mktemp("redis") / "redis.log"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with log_file.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        _wait_until(ready, 20, "redis-server", log_file)
        yield url
    finally:
        client.close()
        _stop(process)


@pytest.fixture(scope="module")
def gunicorn_url(redis_url, tmp_path_factory):
    port = free_port()
    log_file = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if k not in CACHE_ENV}
    env.update(
        REDIS_URL=redis_url,
        ATLAS_BIND=f"127.0.0.1:{port}",
        ATLAS_WORKERS="2",
        ATLAS_THREADS="2",
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "dashboard.wsgi:server"]
    with log_file.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}\n{log_file.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    try:
        _wait_until(ready, 120, "gunicorn", log_file)
        yield url
    finally:
        _stop(process)


def _get(url: str) -> tuple[str, str, bytes]:
    request = urllib.request.Request(url, headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return response.headers[WORKER_HEADER], response.headers[CACHE_HEADER], response.read()


def _until_two_workers(url: str, first_pid: str, timeout: float = 60) -> list[tuple[str, str, bytes]]:
    """Ask in parallel bursts until a worker other than ``first_pid`` answered."""
    answers: list[tuple[str, str, bytes]] = []
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=4) as pool:
        while time.monotonic() < deadline:
            answers += pool.map(_get, [url] * 4)
            if any(pid != first_pid for pid, _, _ in answers):
                return answers
    pytest.fail(f"every response came from worker {first_pid} in {timeout:.0f} s")


@pytest.mark.parametrize("path", ["/export/data.csv" + QUERY, "/export/trends.png" + QUERY])
def test_a_result_computed_by_one_worker_is_served_by_the_other(gunicorn_url, path: str) -> None:
    first_pid, status, body = _get(gunicorn_url + path)
    assert status == "miss"
    answers = _until_two_workers(gunicorn_url + path, first_pid)
    other = [(pid, hit, data) for pid, hit, data in answers if pid != first_pid]
    assert other, "the second worker never answered"
    for _pid, hit, data in other:
        assert hit == "hit" and data == body
    assert {hit for _, hit, _ in answers} == {"hit"}


def test_dash_set_up_is_done_before_the_first_request(dataset) -> None:
    """Dash 4 flags its one-time set-up done before doing it, so concurrent first requests on a new
    worker could meet a half-set-up app (500 "dash is not a registered library", seen under load in
    the benchmarks). create_app finishes that set-up itself, before gunicorn forks."""
    app = create_app(dataset)
    assert app._got_first_request["setup_server"] is True
    assert app.server.test_client().get("/_dash-dependencies").status_code == 200
