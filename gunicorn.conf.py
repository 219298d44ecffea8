"""Production serving defaults: ``gunicorn -c gunicorn.conf.py dashboard.wsgi:server``.

Every value can be overridden by the environment variables below, GUNICORN_CMD_ARGS or flags.
Workers are stateless (the dataset is read-only and export results live in the shared cache,
see dashboard/cache.py), so any request can land on any worker or machine.
"""

import os

# PORT is what most platforms set; ATLAS_BIND wins when both are given.
bind = os.environ.get("ATLAS_BIND", f"0.0.0.0:{os.environ.get('PORT', '8050')}")

# One worker per CPU core: callbacks and figure building are CPU-bound Python (the GIL), and each
# worker starts its own headless Chromium (~200 MB) on its first image/PDF export.
workers = int(os.environ.get("ATLAS_WORKERS", "2"))

# Threads overlap the waiting parts: the export browser, Redis, slow clients. Four per worker keep
# a briefing PDF (seconds of rendering) from blocking the page's callbacks on the same worker.
worker_class = "gthread"
threads = int(os.environ.get("ATLAS_THREADS", "4"))

# Load and validate the dataset once in the master and fork: workers share it copy-on-write,
# bad data stops start-up before any worker runs, and the default filesystem cache folder
# (named after the master's pid) is shared by all workers of this machine.
preload_app = True

# A gthread worker's main loop keeps signalling while its threads render, so this restarts a worker
# whose loop is stuck, not one that is busy. A slow export is stopped by its own limit instead
# (ATLAS_EXPORT_TIMEOUT, 45 s per chart; ATLAS_BRIEFING_TIMEOUT, 180 s per briefing: answered 504).
timeout = int(os.environ.get("ATLAS_TIMEOUT", "120"))
graceful_timeout = 30  # finish in-flight exports on restart
keepalive = 5  # behind a load balancer, keep this below the balancer's idle timeout

# Recycle workers periodically to bound memory growth (plotly figures, the browser); the jitter
# keeps all workers from restarting at once.
max_requests = 2000
max_requests_jitter = 200

# Heartbeat files in memory: a slow or full disk in a container must not get workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

accesslog = "-"
errorlog = "-"
