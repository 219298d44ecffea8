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
# issue 18
HEADLINE = "headline"  # the sentence above the map, following the controls
MAP_REGIONS = "map-regions"  # Lower 48 / Alaska / Hawaii / Puerto Rico view buttons (clientside)
MAP_LABELS = "map-labels"  # the HTML layer that names selected and program places on the map
PLAY = "play"  # play/pause the map and ranking year
PLAY_TIMER = "play-timer"  # the dcc.Interval that steps the year while playing
CONTROLS_TOGGLE = "controls-toggle"  # opens the controls drawer on a phone
SMALL = "small"  # ranking: leave out values resting on few offences
TREND_BASE = "base"  # trends: change since a base year
TREND_SCALE = "scale"  # trends: linear or log y axis
TREND_SMOOTH = "smooth"  # trends: yearly values or a 3-year rolling average
MINPOP = "minpop"  # issue 13: the population floor of the map and ranking (0, 10k ... 100k)
BAND = "band"  # issue 13: the ranking among places of one FBI population group
PLACES_LAYER_URL = "places-layer-url"  # the all-places layer's URL template (assets/places.js fetches it)

DOWNLOAD_CSV = "download-csv"
PRESENT_LINK = "present-link"
EXPORT_FORMATS = ("png", "svg", "pdf")
CSV_CHARTS = (
    "outcomes",
    "ranking",
)  # charts with their own /export/<chart>.csv link (id export_link(chart, "csv"))


def export_link(chart: str, fmt: str) -> str:
    return f"export-{chart}-{fmt}"


def chart_summary(chart: str) -> str:
    """Visually hidden plain-language description of a chart (its alt text)."""
    return f"{chart}-description"


def table_toggle(chart: str) -> str:
    """The panel's Chart | Table switch (a radio group, value "chart" or "table"; issue 18)."""
    return f"{chart}-table-toggle"


def chart_view(chart: str) -> str:
    """The block holding the chart itself (hidden while the table is shown)."""
    return f"{chart}-chart-view"


def table(chart: str) -> str:
    return f"{chart}-table"


def embed_code(chart: str) -> str:
    return f"{chart}-embed-code"
