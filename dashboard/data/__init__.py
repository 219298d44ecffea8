"""Data: the loaded dataset, derived measures, cached queries, the view state and the validators.

Kept free of imports so that ``dashboard.data.validate`` can be used by the pipeline without
loading the app's dataset code.
"""
