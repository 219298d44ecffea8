"""Views: from a view state to each chart's figure, summary and table (``registry``)."""
