"""6. Start-up: time from process start to the first ``/healthz`` 200 (polled every 20 ms).

For ``python app.py`` (Flask dev server) and ``gunicorn -c gunicorn.conf.py dashboard.wsgi:server``
(which loads and validates the dataset once in the master, then forks two workers), with the floor
app under the same gunicorn command as the reference.
"""

from __future__ import annotations

import logging

from benchmarks.common import Server, ratio, summarize
from benchmarks.context import Context

log = logging.getLogger("benchmarks")


def measure(app: str, mode: str, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        server = Server(app, mode=mode, warm_requests=0)
        try:
            server.start(timeout=180)
            times.append(server.startup_s)
        finally:
            server.stop()
    return {"app": app, "mode": mode, "s": summarize(times)}


def run(ctx: Context) -> dict:
    repeats = ctx.n(5, 1)
    runs = [("atlas", "dev"), ("atlas", "gunicorn")]
    if not ctx.smoke:
        runs += [("floor", "gunicorn"), ("naive", "gunicorn")]
    results = {f"{app}_{mode}": measure(app, mode, repeats) for app, mode in runs}
    p50 = {key: r["s"].get("p50") for key, r in results.items()}
    return {
        "method": "subprocess start -> first /healthz 200 (20 ms polling); cwd = project root",
        "repeats": repeats,
        **results,
        "comparison": {
            "atlas_dev_s": p50["atlas_dev"],
            "atlas_gunicorn_s": p50["atlas_gunicorn"],
            "floor_gunicorn_s": p50.get("floor_gunicorn"),
            "gunicorn_vs_floor": ratio(p50["atlas_gunicorn"], p50.get("floor_gunicorn")),
        },
        "errors": 0,
    }
