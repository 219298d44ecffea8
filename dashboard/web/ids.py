"""Element ids: a public contract (tests, links and embeds rely on them). Extend, never rename."""

from __future__ import annotations

from dashboard.views.registry import CHARTS as CHARTS  # re-exported: one id set per registry chart

URL = "url"
COHORT = "cohort"
CITIES = "cities"
OFFENCE = "offence"
MEASURE = "measure"
YEAR = "year"
YEAR_RANGE = "year-range"
THRESHOLD = "threshold"
ALIGN = "align"  # trends x axis: calendar years or years since joining (issue 12)
MAP = "map"
TRENDS = "trends"
RANKING = "ranking"
DATA_NOTES = "data-notes"
URL_NOTICE = "url-notice"
RANKING_SUMMARY = "ranking-summary"
OUTCOMES = "outcomes"  # issue 14: each PSP site against places not chosen (views/outcomes.py)
OUTCOMES_SUMMARY = "outcomes-summary"  # the panel's plain-words summary sentence

DOWNLOAD_CSV = "download-csv"
PRESENT_LINK = "present-link"
EXPORT_FORMATS = ("png", "svg", "pdf")
CSV_CHARTS = ("outcomes",)  # charts with their own /export/<chart>.csv link (id export_link(chart, "csv"))


def export_link(chart: str, fmt: str) -> str:
    return f"export-{chart}-{fmt}"


def chart_summary(chart: str) -> str:
    """Visually hidden plain-language description of a chart (its alt text)."""
    return f"{chart}-description"


def table_toggle(chart: str) -> str:
    return f"{chart}-table-toggle"


def table(chart: str) -> str:
    return f"{chart}-table"


def embed_code(chart: str) -> str:
    return f"{chart}-embed-code"
