"""Production entry point for ``gunicorn ... dashboard.wsgi:server`` (the code is in ``serve/wsgi.py``)."""

from dashboard.serve.wsgi import app, server

__all__ = ["app", "server"]
