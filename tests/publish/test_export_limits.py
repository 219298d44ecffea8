"""Export resource limits (issue 6): bounded parameters, a time limit, recovery from a crashed browser.

Real renders in the system Chromium (one browser for the module, restarted by the tests that
kill it); no timing goals are asserted, only that limits hold and the next export works.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from dashboard import errors
from dashboard.data.state import MAX_CITIES, parse_query
from dashboard.figures import map_static
from dashboard.publish.exports import briefing as export_briefing
from dashboard.publish.exports import browser as export_browser
from dashboard.publish.exports import charts as export_charts
from dashboard.publish.exports import metadata as export_metadata
from dashboard.publish.exports import renderer as export_renderer
from dashboard.settings import DEFAULT_BRIEFING_TIMEOUT, DEFAULT_CHART_TIMEOUT, load_settings

QUERY = "?cities=4748000,4737640&offence=murder&from=2010&to=2016"


def _tiny_job(fmt: str = "png") -> export_renderer.RenderJob:
    figure = {"data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], "layout": {}}
    return export_renderer.RenderJob(figure, fmt, 600, 400, 2 if fmt == "png" else 1)


def _big_map_job(dataset) -> export_renderer.RenderJob:
    state = parse_query("?cohort=all-programs", dataset)
    figure, width, height = export_briefing.chart_figure(dataset, state, "map", 3000, 3000)
    return export_renderer.RenderJob(figure, "png", width, height, 2)


def _group_pids(pgid: int, kind: str | None = None) -> list[int]:
    """Live processes of the browser's process group; ``kind`` filters on Chromium's ``--type=``.

    A killed child whose parent died first stays a zombie until PID 1 reaps it, and a container's PID 1
    may never do so: zombies hold no memory and run nothing, so they are not counted."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if int(fields[2]) != pgid or fields[0] == "Z":  # a zombie is gone: it only waits to be reaped
            continue
        if kind is None or (f"--type={kind}" in command and "--top-chrome-webui" not in command):
            found.append(int(entry))
    return found


def _gone(pgid: int, within: float = 5.0) -> bool:
    """Whether every process of the group has ended within ``within`` seconds: SIGKILL to a group is
    delivered at once, but each child takes its own moment to exit."""
    deadline = time.monotonic() + within
    while _group_pids(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _kill_tabs(pgid: int) -> list[int]:
    """Kill the browser's page renderers (its tabs crash; the browser process lives on)."""
    victims = _group_pids(pgid, "renderer")
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    return victims


def _kaleido_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "kaleido-loop" and t.is_alive())


# --------------------------------------------------------------------------------------------
# Parameters are bounded before any work (no browser needed)


def test_trends_export_refuses_more_cities_than_the_limit(client, dataset) -> None:
    too_many = ",".join(dataset.cities.index[: MAX_CITIES + 1])
    response = client.get(f"/export/trends.png?cities={too_many}")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/plain" and len(body) < 200
    assert f"at most {export_charts.MAX_CHART_CITIES} cities" in body and "Traceback" not in body


def test_briefing_refuses_a_link_with_more_cities_than_a_view_takes(client, dataset) -> None:
    too_many = ",".join(dataset.cities.index[: MAX_CITIES + 5])
    response = client.get(f"/export/briefing.pdf?cities={too_many}")
    assert response.status_code == 400
    assert f"at most {export_briefing.MAX_BRIEFING_CITIES} cities" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("width=3001", "width must be a whole number of pixels from 600 to 3000"),
        ("height=100000", "height must be a whole number of pixels from 400 to 3000"),
        ("width=1e4", "width must be a whole number of pixels from 600 to 3000"),
    ],
)
def test_size_limits_say_what_is_allowed(client, query: str, words: str) -> None:
    response = client.get(f"/export/map.png?{query}")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_export_timeouts_come_from_the_environment(change_settings) -> None:
    defaults = load_settings({})
    assert defaults.export_timeout == DEFAULT_CHART_TIMEOUT == 45
    assert defaults.briefing_timeout == DEFAULT_BRIEFING_TIMEOUT == 180
    custom = load_settings({"ATLAS_EXPORT_TIMEOUT": "12.5", "ATLAS_BRIEFING_TIMEOUT": "90"})
    assert (custom.export_timeout, custom.briefing_timeout) == (12.5, 90)
    for bad in ("soon", "-1", "0", "99999"):
        assert load_settings({"ATLAS_EXPORT_TIMEOUT": bad}).export_timeout == DEFAULT_CHART_TIMEOUT
    change_settings(export_timeout=12.5, briefing_timeout=90)  # what the renderer reads per export
    assert export_renderer.export_timeout() == 12.5 and export_renderer.export_timeout("briefing") == 90


# --------------------------------------------------------------------------------------------
# Time limit


def test_a_render_past_the_time_limit_is_stopped_and_the_next_one_works(dataset, renderer) -> None:
    renderer.render(_tiny_job())  # warm: the limit applies to rendering, not to starting Chromium
    job = _big_map_job(dataset)
    old_pid, threads = renderer.pid, _kaleido_threads()
    started = time.monotonic()
    with pytest.raises(errors.ExportTimeout, match=r"longer than 0\.2 s"):
        renderer.render(job, timeout=0.2)
    assert time.monotonic() - started < 10  # the caller is released: kill, not a graceful wait
    assert not renderer.is_alive()
    assert _gone(old_pid)  # the whole browser is gone
    assert _kaleido_threads() == threads - 1  # and its event-loop thread ended
    assert renderer.render(_tiny_job()).startswith(export_metadata.PNG_SIGNATURE)
    assert renderer.pid != old_pid


def test_the_route_answers_a_plain_error_on_timeout_and_keeps_serving(
    client, renderer, change_settings
) -> None:
    renderer.start()
    change_settings(export_timeout=0.05)
    response = client.get("/export/map.png?cohort=all-programs&width=3000&height=3000")
    assert response.status_code in (503, 504)  # 504 once export_routes maps ExportTimeout
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/plain" and "Traceback" not in body and len(body) < 200
    change_settings(export_timeout=DEFAULT_CHART_TIMEOUT)
    assert client.get("/export/ranking.svg" + QUERY).status_code == 200


def test_waiting_for_a_busy_renderer_is_bounded_too(renderer) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with renderer._lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(5)
        started = time.monotonic()
        with pytest.raises(errors.ExportTimeout, match="busy"):
            renderer.render(_tiny_job(), timeout=0.3)
        assert time.monotonic() - started < 2
    finally:
        release.set()
        holder.join(10)


def test_a_briefing_has_its_own_longer_limit(dataset, renderer, monkeypatch, change_settings) -> None:
    seen = []
    real = renderer.render_many

    def spy(jobs, *, timeout=None):
        seen.append(timeout)
        return real(jobs, timeout=timeout)

    monkeypatch.setattr(renderer, "render_many", spy)
    change_settings(export_timeout=5.0, briefing_timeout=240.0)
    export_briefing.briefing_pdf(dataset, parse_query("?cities=4748000&from=2010&to=2015", dataset))
    assert seen == [240.0]


# --------------------------------------------------------------------------------------------
# Crashed browser


def test_a_browser_killed_between_renders_is_restarted(renderer) -> None:
    renderer.render(_tiny_job())
    starts = renderer.starts
    os.killpg(renderer.pid, signal.SIGKILL)
    time.sleep(0.2)
    assert renderer.render(_tiny_job("svg")).lstrip().startswith(b"<svg")
    assert renderer.starts == starts + 1


def test_a_crashed_tab_between_renders_is_noticed(renderer) -> None:
    renderer.render(_tiny_job())
    starts = renderer.starts
    assert _kill_tabs(renderer.pid)
    deadline = time.monotonic() + 5
    while renderer.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not renderer.is_alive()  # Inspector.targetCrashed marked the browser lost
    assert renderer.render(_tiny_job()).startswith(export_metadata.PNG_SIGNATURE)
    assert renderer.starts == starts + 1


def _kill_during_waits(renderer, monkeypatch, how: str, times: int) -> list[int]:
    """Kill the browser (``group``) or its tab (``tab``) right after a job went to it."""
    killed: list[int] = []
    real_wait = renderer._wait

    def wait_then_kill(future, deadline, limit):
        if len(killed) < times:
            pid = renderer.pid
            if how == "group":
                os.killpg(pid, signal.SIGKILL)
                killed.append(pid)
            else:
                killed.extend(_kill_tabs(pid))
        return real_wait(future, deadline, limit)

    monkeypatch.setattr(renderer, "_wait", wait_then_kill)
    return killed


@pytest.mark.parametrize("how", ["group", "tab"])
def test_a_crash_during_a_render_is_retried_transparently(dataset, renderer, monkeypatch, how: str) -> None:
    renderer.render(_tiny_job())
    retries, starts = renderer.retries, renderer.starts
    state = parse_query("?cohort=psp-2017", dataset)
    figure, width, height = export_briefing.chart_figure(dataset, state, "map")  # a second or more to draw
    killed = _kill_during_waits(renderer, monkeypatch, how, times=1)
    started = time.monotonic()
    data = renderer.render(export_renderer.RenderJob(figure, "png", width, height, 2))
    assert killed and data.startswith(export_metadata.PNG_SIGNATURE)
    assert renderer.retries == retries + 1 and renderer.starts == starts + 1
    assert time.monotonic() - started < 60


def test_a_second_crash_gives_one_clean_error_and_the_next_export_works(
    client, renderer, monkeypatch
) -> None:
    renderer.render(_tiny_job())
    killed = _kill_during_waits(renderer, monkeypatch, "group", times=2)
    response = client.get("/export/ranking.png" + QUERY)
    assert len(killed) == 2
    assert response.status_code == 503 and "try again" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get("/export/ranking.png" + QUERY).status_code == 200


# --------------------------------------------------------------------------------------------
# Tabs are reused between renders (reloaded only now and then, in the background)


def test_renders_on_a_reused_tab_are_identical(dataset, renderer) -> None:
    state = parse_query(QUERY, dataset)
    figure, width, height = export_briefing.chart_figure(dataset, state, "ranking")
    job = export_renderer.RenderJob(figure, "png", width, height, 2)
    first = renderer.render(job)
    renderer.render(_tiny_job("pdf"))  # something else in between (PDF leaves page styles behind)
    assert renderer.render(job) == first


def test_a_figure_that_fails_to_build_leaves_the_browser_usable(renderer) -> None:
    renderer.render(_tiny_job())
    pid = renderer.pid

    def jobs():
        yield _tiny_job()
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        renderer.render_many(jobs())
    assert renderer.render(_tiny_job()).startswith(export_metadata.PNG_SIGNATURE) and renderer.pid == pid


# --------------------------------------------------------------------------------------------
# The export map's thinning tolerance follows the output size


def test_map_thinning_stays_under_a_pixel() -> None:
    for width, height in ((600, 400), (1200, 720), (1056, 600), (3000, 3000), (3000, 400), (600, 3000)):
        tolerance = map_static.tolerance_for(width, height)
        assert tolerance in (0.0, *map_static.TOLERANCES)
        assert tolerance * map_static.px_per_degree(width, height) < 0.5
    assert map_static.tolerance_for(3000, 3000) < map_static.tolerance_for(600, 400)


# --------------------------------------------------------------------------------------------
# Start-up under load


BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


def test_the_first_export_after_start_works_on_a_busy_machine() -> None:
    """Issue 17 item 1: on a busy machine the first export after the browser started failed with
    "ReferenceError: kaleido_scopes is not defined" (the tab's script context was taken before the
    export page had loaded). A fresh browser, started while every core is busy, exports at once."""
    busy = [
        subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=90)])
        for _ in range(2 * os.cpu_count())
    ]
    failures = []
    try:
        for _ in range(4):
            fresh = export_renderer.ChartRenderer(tabs=1)
            try:
                assert fresh.render(_tiny_job()).startswith(export_metadata.PNG_SIGNATURE)
            except errors.ExportError as exc:
                failures.append(str(exc))
            finally:
                fresh.stop()
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert failures == []


def test_a_tab_uses_the_export_pages_own_script_context(tmp_path) -> None:
    """The cause of item 1: kaleido took the first script context a tab reported as the export page's.
    When Chromium reports another one first (here an isolated world, as built-in features create),
    "kaleido_scopes is not defined". The renderer's tabs use the context where the page's scripts are."""
    import asyncio
    import concurrent.futures

    import choreographer

    index = tmp_path / "index.html"
    index.write_text(export_browser._export_page().generate_index(), encoding="utf-8")
    tab_class = export_browser._kaleido_class().tab_class

    async def kind_of_scopes() -> str:
        async with choreographer.Browser(path=export_browser.browser_path(), headless=True) as browser:
            tab = await browser.create_tab("")
            await tab.send_command("Page.enable")
            params = {"source": "1", "worldName": "another-world"}
            await tab.send_command("Page.addScriptToEvaluateOnNewDocument", params=params)
            ktab = tab_class(tab)
            await ktab.navigate(index.as_uri())
            params = {"expression": "typeof kaleido_scopes", "contextId": ktab._current_js_id}
            answer = await tab.send_command("Runtime.evaluate", params={**params, "returnByValue": True})
            return answer["result"]["result"]["value"]

    # A thread of its own: Playwright's sync API may already run an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, kind_of_scopes()).result(timeout=120) == "object"
