"""Benchmarks for the Safety Partnership Atlas (issue 5): ``python -m benchmarks run [--smoke]``.

Every figure is measured against two references served the same way on the same machine:
the *floor* (an empty Dash page with one no-op callback, ``apps/floor_app.py``) and the
*naive baseline* (the same controls with one callback that rebuilds a full ``px.choropleth_map``
figure on every change, ``apps/naive_app.py``). See ``benchmarks/README.md``.
"""
