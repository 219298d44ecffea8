"""Production serving defaults (override any of them with GUNICORN_CMD_ARGS or flags).

gunicorn -c gunicorn.conf.py dashboard.wsgi:server
"""

import os

bind = os.environ.get("ATLAS_BIND", f"0.0.0.0:{os.environ.get('PORT', '8050')}")
workers = int(os.environ.get("ATLAS_WORKERS", "2"))
threads = int(os.environ.get("ATLAS_THREADS", "4"))
worker_class = "gthread"
preload_app = True  # load and validate the dataset once, before forking
timeout = int(os.environ.get("ATLAS_TIMEOUT", "120"))  # a 30-city briefing PDF takes up to ~60 s under load
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers periodically to bound memory growth
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
