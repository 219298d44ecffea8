"""Exports of a view: CSV (``csv``), chart images (``charts``, drawn by ``renderer`` in ``browser``),
file metadata (``metadata``) and the briefing PDF (``briefing``)."""
