"""The Dash page: element ids, layout, callbacks and HTML fragments."""
