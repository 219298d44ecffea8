"""WSGI entry point for production: ``gunicorn -c gunicorn.conf.py dashboard.wsgi:server``.

The dataset is loaded at import, so with ``--preload`` it is read and validated once in the
master process and shared copy-on-write by the workers; bad data stops start-up.

A data file problem is reported as one log line naming the file, line and problem, and the
process exits with status 4, gunicorn's own "App failed to load" code: the master stops at
once with ``--preload``, and without it the arbiter halts instead of respawning workers that
can never boot. No traceback: the message is the whole story.
"""

from __future__ import annotations

import logging

from dashboard.errors import DataFileError
from dashboard.serve.app import create_app

APP_LOAD_ERROR = 4  # gunicorn.arbiter.Arbiter.APP_LOAD_ERROR

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

try:
    app = create_app()
except DataFileError as exc:
    logging.getLogger("atlas").critical("cannot start: data file problem: %s", exc)
    raise SystemExit(APP_LOAD_ERROR) from None
server = app.server
