"""Serving: the app factory, plain routes, security, caches, compression and the WSGI entry point."""
