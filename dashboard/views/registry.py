"""One chart registry: each chart's page figure, export figure, summary and table in one place.

Every consumer (page callbacks, embeds, present mode, exports, tables) dispatches through
:data:`REGISTRY`; adding a chart means adding one :class:`Chart` here (and its element ids).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard.data.dataset import Dataset
from dashboard.data.state import ViewState
from dashboard.errors import RequestError
from dashboard.views import map as map_view
from dashboard.views import outcomes as outcomes_view
from dashboard.views import ranking as ranking_view
from dashboard.views import trends as trends_view
from dashboard.views.tables import TableData


def _page_figure_for_export(build: Callable[[Dataset, ViewState], go.Figure]):
    def static(dataset: Dataset, state: ViewState, width: int, height: int) -> dict:
        return build(dataset, state).to_dict()

    return static


@dataclass(frozen=True)
class Chart:
    name: str
    label: str  # as the page names it ("Map", ...)
    figure: Callable[[Dataset, ViewState], go.Figure]  # the page's figure
    static_figure: Callable[[Dataset, ViewState, int, int], dict]  # the export's figure at width × height
    summary: Callable[[Dataset, ViewState], str]  # plain-language alt text
    table: Callable[[Dataset, ViewState], TableData]  # the numbers behind it


REGISTRY: dict[str, Chart] = {
    chart.name: chart
    for chart in (
        Chart(
            "map",
            "Map",
            map_view.map_view_figure,
            map_view.map_static_figure,
            map_view.map_summary,
            map_view.map_table,
        ),
        Chart(
            "trends",
            "Trends",
            trends_view.trends_view_figure,
            _page_figure_for_export(trends_view.trends_view_figure),
            trends_view.trends_summary,
            trends_view.trends_table,
        ),
        Chart(
            "ranking",
            "Ranking",
            ranking_view.ranking_figure,
            _page_figure_for_export(ranking_view.ranking_figure),
            ranking_view.ranking_summary_text,
            ranking_view.ranking_table,
        ),
        Chart(  # issue 14: each site against places like it that were not chosen (geodata/outcomes.csv)
            "outcomes",
            "Outcomes",
            outcomes_view.outcomes_view_figure,
            _page_figure_for_export(outcomes_view.outcomes_view_figure),
            outcomes_view.outcomes_summary,
            outcomes_view.outcomes_table,
        ),
    )
}
CHARTS: tuple[str, ...] = tuple(REGISTRY)


def get_chart(name: str) -> Chart:
    """The chart called ``name``; a :class:`RequestError` names the charts there are."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise RequestError(f"Unknown chart {name!r}: use one of {', '.join(CHARTS)}.") from None


def chart_summary(dataset: Dataset, state: ViewState, chart: str) -> str:
    """The alt text for one chart of a view."""
    return get_chart(chart).summary(dataset, state)
