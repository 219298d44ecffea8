"""WSGI entry point for production: ``gunicorn -c gunicorn.conf.py dashboard.wsgi:server``.

The dataset is loaded at import, so with ``--preload`` it is read and validated once in the
master process and shared copy-on-write by the workers; bad data stops start-up.
"""

from __future__ import annotations

import logging

from .server import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = create_app()
server = app.server
