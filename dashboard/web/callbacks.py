"""Callbacks: thin wiring between the controls and the views (one view state per interaction)."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from urllib.parse import urlparse

from dash import ClientsideFunction, Dash, Input, Output, Patch, State, ctx, no_update

from dashboard.data.dataset import Dataset
from dashboard.data.places import DEFAULT_MINPOP
from dashboard.data.state import ALL_CITIES, MAX_CITIES, ViewState, cohort_members, parse_query
from dashboard.figures.common import title_layout
from dashboard.figures.map import (
    GROUPS,
    TRACE_NO_DATA,
    TRACE_SELECTED,
    TRACE_SELECTED_LABELS,
    label_values,
    page_coloraxis,
    selected_values,
)
from dashboard.publish.embed import embed_snippet
from dashboard.views.headline import headline
from dashboard.views.map import map_snapshot
from dashboard.views.outcomes import outcomes_summary, outcomes_view_figure
from dashboard.views.ranking import ranking_figure
from dashboard.views.registry import CHARTS, chart_summary, get_chart
from dashboard.views.trends import trends_figure
from dashboard.web import fragments, ids

CONTROL_PROPS = (
    (ids.COHORT, "value"),
    (ids.CITIES, "value"),
    (ids.OFFENCE, "value"),
    (ids.MEASURE, "value"),
    (ids.YEAR, "value"),
    (ids.YEAR_RANGE, "value"),
    (ids.THRESHOLD, "value"),
    (ids.ALIGN, "value"),  # issue 12
    (ids.TREND_BASE, "value"),  # issue 18 from here
    (ids.TREND_SCALE, "value"),
    (ids.TREND_SMOOTH, "value"),
    (ids.SMALL, "value"),
    (ids.MINPOP, "value"),  # issue 13
    (ids.BAND, "value"),
    *[(ids.table_toggle(chart), "value") for chart in CHARTS],
)


def state_from_controls(
    cohort,
    cities,
    offence,
    measure,
    year,
    year_range,
    threshold,
    align="calendar",
    base=None,
    scale="linear",
    smooth=1,
    small=None,
    minpop=DEFAULT_MINPOP,
    band="all",
    *views,
) -> ViewState:
    """The one view state of an interaction, built from the controls' values (never from the URL);
    ``views`` are the panels' Chart | Table values in ``CHARTS`` order."""
    return ViewState(
        cohort=cohort,
        cities=tuple(cities or ()),
        offence=offence,
        measure=measure,
        year=int(year),
        year_from=int(year_range[0]),
        year_to=int(year_range[1]),
        threshold=float(threshold),
        align=align or "calendar",
        base=None if base is None else int(base),
        scale=scale or "linear",
        smooth=int(smooth or 1),
        small="exclude" if small and "exclude" in small else "show",
        minpop=DEFAULT_MINPOP if minpop is None else int(minpop),
        band=band or "all",
        tables=tuple(c for c, v in zip(CHARTS, views, strict=False) if v == "table"),
    )


def register_callbacks(app: Dash, dataset: Dataset) -> None:
    """Wire the page. A control change fires, in one round, only the callbacks whose outputs depend on
    it, each building its outputs from the controls' values; the URL is written, never read back
    (a year step: URL, map patch, ranking, share links/summaries/tables = 4 requests)."""

    @app.callback(
        Output(ids.URL, "search"),
        *[Output(c, p) for c, p in CONTROL_PROPS],
        Output(ids.URL_NOTICE, "children"),
        Output(ids.URL_NOTICE, "className"),
        Input(ids.URL, "search"),
        *[Input(c, p) for c, p in CONTROL_PROPS],
        Input(ids.MAP, "clickData"),
    )
    def sync_state(search, *rest):
        """The address bar and the controls mirror each other.

        Opening or navigating (back/forward) to a URL sets the controls; changing a control,
        choosing a cohort or clicking a city writes the URL.
        """
        *values, click = rest
        cohort, cities = values[0], values[1]
        unchanged = [no_update] * (len(CONTROL_PROPS) + 2)
        trigger = ctx.triggered_id
        if trigger in (None, ids.URL):
            state = parse_query(search or "", dataset)
            return no_update, *control_values(state), *fragments.notice(state.notices)
        state = state_from_controls(*values)
        if trigger == ids.COHORT:
            members = [] if cohort == ALL_CITIES else cohort_members(dataset, cohort)[:MAX_CITIES]
            state = replace(state, cities=tuple(members))
        elif trigger == ids.MAP:
            geoid = clicked_geoid(click, dataset)
            if geoid is None or geoid not in dataset.cities.index:
                return no_update, *unchanged
            state = replace(state, cities=toggle(state.cities, geoid))
        outputs = [no_update] * len(CONTROL_PROPS)
        if state.cities != tuple(cities or ()):
            outputs[1] = list(state.cities)
        return state.to_query(), *outputs, no_update, no_update

    @app.callback(
        Output(ids.MAP, "figure"),
        Input(ids.YEAR, "value"),
        Input(ids.OFFENCE, "value"),
        Input(ids.MEASURE, "value"),
        Input(ids.THRESHOLD, "value"),
        prevent_initial_call=True,
    )
    def recolour_map(year: int, offence: str, measure: str, threshold: float):
        """Patch colours, hover numbers (with rank and years above the threshold), colour axis and title:
        names and geometry never travel."""
        values, title = map_snapshot(dataset, int(year), offence, measure, float(threshold))
        year_only = {t["prop_id"] for t in ctx.triggered} <= {f"{ids.YEAR}.value", f"{ids.THRESHOLD}.value"}
        return recolour_patch(values, title, colour_axis=not year_only)

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Input(ids.CITIES, "value"),
        prevent_initial_call=True,
    )
    def outline_selection(cities: list[str] | None):
        """Adding or removing a city only moves the blue outlines."""
        known = [g for g in cities or [] if g in dataset.cities.index]
        chosen = selected_values(known)
        patch = Patch()
        patch["data"][TRACE_SELECTED]["locations"] = chosen["locations"]
        patch["data"][TRACE_SELECTED]["z"] = chosen["z"]
        for key, value in label_values(dataset.cities, known).items():  # the names follow the selection
            patch["data"][TRACE_SELECTED_LABELS][key] = value
        return patch

    @app.callback(
        Output(ids.TRENDS, "figure"),
        Input(ids.CITIES, "value"),
        Input(ids.OFFENCE, "value"),
        Input(ids.MEASURE, "value"),
        Input(ids.YEAR_RANGE, "value"),
        Input(ids.ALIGN, "value"),
        Input(ids.TREND_BASE, "value"),
        Input(ids.TREND_SCALE, "value"),
        Input(ids.TREND_SMOOTH, "value"),
        State(ids.COHORT, "value"),
    )
    def update_trends(cities, offence, measure, year_range, align, base, scale, smooth, cohort):
        years = int(year_range[0]), int(year_range[1])
        return trends_figure(
            dataset,
            cities or [],
            offence,
            measure,
            *years,
            align=align,
            cohort=cohort,
            base=None if base is None else int(base),
            scale=scale or "linear",
            smooth=int(smooth or 1),
        )

    @app.callback(
        Output(ids.OUTCOMES, "figure"),
        Output(ids.OUTCOMES_SUMMARY, "children"),
        Input(ids.COHORT, "value"),
        Input(ids.CITIES, "value"),
        Input(ids.THRESHOLD, "value"),  # the first panel's selection criterion (regression to the mean)
        State(ids.OFFENCE, "value"),
    )
    def update_outcomes(cohort: str, cities: list[str] | None, threshold, offence: str):
        """Issue 14: read from outcomes.csv (computed at build time), never estimated here."""
        state = ViewState(
            cohort=cohort, cities=tuple(cities or ()), offence=offence, threshold=float(threshold)
        )
        return outcomes_view_figure(dataset, state), outcomes_summary(dataset, state)

    @app.callback(
        Output(ids.RANKING, "figure"),
        Output(ids.RANKING_SUMMARY, "children"),
        Output(ids.HEADLINE, "children"),
        Input(ids.COHORT, "value"),
        Input(ids.OFFENCE, "value"),
        Input(ids.YEAR, "value"),
        Input(ids.THRESHOLD, "value"),
        Input(ids.SMALL, "value"),
        Input(ids.MINPOP, "value"),
        Input(ids.BAND, "value"),
        Input(ids.CITIES, "value"),
    )
    def update_ranking(cohort, offence, year, threshold, small, minpop, band, cities):
        """The ranking and the headline above the map read one ranking frame (same request); the
        selected places are named in the summary when thousands are ranked (issue 13)."""
        state = ViewState(
            cohort=cohort,
            cities=tuple(cities or ()),
            offence=offence,
            year=int(year),
            threshold=float(threshold),
            small="exclude" if small and "exclude" in small else "show",
            minpop=DEFAULT_MINPOP if minpop is None else int(minpop),
            band=band or "all",
        )
        return (
            ranking_figure(dataset, state),
            fragments.ranking_summary(dataset, state),
            headline(dataset, state),
        )

    @app.callback(
        Output(ids.DATA_NOTES, "children"),
        Input(ids.CITIES, "value"),
        Input(ids.OFFENCE, "value"),
        Input(ids.YEAR_RANGE, "value"),
    )
    def update_notes(cities: list[str] | None, offence: str, year_range: list[int]):
        return fragments.notes_view(dataset, cities or [], offence, int(year_range[0]), int(year_range[1]))

    app.clientside_callback(  # assets/atlas.js: a picked city empties the search box
        ClientsideFunction("atlas", "clearSearch"),
        Output(ids.CITIES, "search_value"),
        Input(ids.CITIES, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # assets/atlas.js: play steps the year slider; the year path does the rest
        ClientsideFunction("atlas", "play"),
        Output(ids.YEAR, "value", allow_duplicate=True),
        Output(ids.PLAY_TIMER, "disabled"),
        Output(ids.PLAY, "children"),
        Output(ids.PLAY, "aria-pressed"),
        Input(ids.PLAY, "n_clicks"),
        Input(ids.PLAY_TIMER, "n_intervals"),
        State(ids.YEAR, "value"),
        State(ids.YEAR, "max"),
        State(ids.YEAR_RANGE, "value"),
        State(ids.PLAY_TIMER, "disabled"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # assets/places.js: the all-places dots, recoloured in the browser (issue 13)
        ClientsideFunction("places", "layer"),
        Output(ids.MAP, "figure", allow_duplicate=True),
        Input(ids.YEAR, "value"),
        Input(ids.OFFENCE, "value"),
        Input(ids.MEASURE, "value"),
        Input(ids.MINPOP, "value"),
        State(ids.PLACES_LAYER_URL, "data"),
        prevent_initial_call="initial_duplicate",
    )
    register_share_callback(app, dataset)


def recolour_patch(values: dict, title: str, *, colour_axis: bool = True) -> Patch:
    """The map's year/offence/measure update (see ``figures.map.map_values`` for the trace order).

    The colour axis depends on offence and measure only, so a year change leaves it alone.
    """
    patch = Patch()
    patch["data"][TRACE_NO_DATA]["z"] = values["no_data_z"]
    patch["data"][TRACE_NO_DATA]["customdata"] = values["no_data_hover"]
    patch["data"][TRACE_NO_DATA]["hovertext"] = values["no_data_flags"]
    for group, (polygons, markers) in GROUPS.items():
        patch["data"][polygons]["z"] = values[f"{group}_z"]
        patch["data"][polygons]["customdata"] = values[f"{group}_hover"]
        patch["data"][polygons]["hovertext"] = values[f"{group}_flags"]
        patch["data"][markers]["marker"]["color"] = values[f"{group}_marker_colour"]
        patch["data"][markers]["customdata"] = values[f"{group}_hover"]
        patch["data"][markers]["hovertext"] = values[f"{group}_flags"]
    if colour_axis:
        patch["layout"]["coloraxis"] = page_coloraxis(values["coloraxis"])
    patch["layout"]["title"] = title_layout(title)
    return patch


def control_values(state: ViewState) -> list:
    """The controls' values for a view state, in ``CONTROL_PROPS`` order."""
    return [
        state.cohort,
        list(state.cities),
        state.offence,
        state.measure,
        state.year,
        [state.year_from, state.year_to],
        state.threshold,
        state.align,
        state.base,
        state.scale,
        state.smooth,
        ["exclude"] if state.small == "exclude" else [],
        state.minpop,
        state.band,
        *["table" if chart in state.tables else "chart" for chart in CHARTS],
    ]


def toggle(cities: tuple[str, ...], geoid: str) -> tuple[str, ...]:
    """Add a city to the selection, or remove it if it is already there."""
    if geoid in cities:
        return tuple(g for g in cities if g != geoid)
    return (*cities, geoid)[:MAX_CITIES]


def clicked_geoid(click: dict | None, dataset: Dataset) -> str | None:
    """The GEOID of a clicked polygon (its ``location``) or city marker (found by its position).

    Markers carry only numbers (to keep recolour patches small), so a marker click is matched
    on the marker's lon/lat, which come from the same ``cities`` table.
    """
    if not click or not isinstance(click.get("points"), list) or not click["points"]:
        return None
    point = click["points"][0]
    if not isinstance(point, dict):
        return None
    if point.get("location"):
        return str(point["location"])
    try:
        key = (round(float(point["lon"]), 5), round(float(point["lat"]), 5))
    except (KeyError, TypeError, ValueError):
        return None
    return marker_positions(dataset).get(key)


@lru_cache(maxsize=4)
def marker_positions(dataset: Dataset) -> dict[tuple[float, float], str]:
    cities = dataset.cities
    return {
        (round(float(lon), 5), round(float(lat), 5)): str(geoid)
        for geoid, lon, lat in zip(cities["geoid"], cities["lon"], cities["lat"], strict=True)
    }


def register_share_callback(app: Dash, dataset: Dataset) -> None:
    """Links, summaries, embed code and each panel's Chart | Table view: one callback, one view state."""
    link_outputs = [Output(ids.DOWNLOAD_CSV, "href"), Output(ids.PRESENT_LINK, "href")]
    link_outputs += [Output(ids.export_link(c, f), "href") for c in CHARTS for f in ids.EXPORT_FORMATS]
    link_outputs += [Output(ids.export_link(c, "csv"), "href") for c in ids.CSV_CHARTS]
    table_outputs = []
    for chart in CHARTS:
        table_outputs += [
            Output(ids.table(chart), "children"),
            Output(ids.table(chart), "hidden"),
            Output(ids.chart_view(chart), "hidden"),
        ]
    switches = {ids.table_toggle(c) for c in CHARTS}

    @app.callback(
        *link_outputs,
        *[Output(ids.chart_summary(c), "children") for c in CHARTS],
        *[Output(ids.embed_code(c), "value") for c in CHARTS],
        *table_outputs,
        *[Input(c, p) for c, p in CONTROL_PROPS],
        State(ids.URL, "href"),
    )
    def update_share(*values):
        *controls, href = values
        state = state_from_controls(*controls)
        query = state.to_query()
        links = [f"/export/data.csv{query}", f"/?present=1&{query.lstrip('?')}"]
        links += [f"/export/{c}.{f}{query}" for c in CHARTS for f in ids.EXPORT_FORMATS]
        links += [f"/export/{c}.csv{query}" for c in ids.CSV_CHARTS]
        only_switch = bool(ctx.triggered_prop_ids) and set(ctx.triggered_prop_ids.values()) <= switches
        if only_switch:  # the view did not change: summaries and embed code stand
            shared = [*links, *[no_update] * (2 * len(CHARTS))]
        else:
            summaries = [chart_summary(dataset, state, c) for c in CHARTS]
            base = base_url(href)
            shared = [*links, *summaries, *[embed_snippet(base, c, state) for c in CHARTS]]
        tables = []
        for chart in CHARTS:
            if chart in state.tables:  # built only while shown
                tables += [fragments.data_table(get_chart(chart).table(dataset, state), chart), False, True]
            else:
                tables += [None, True, False]
        return *shared, *tables


def base_url(href: str | None) -> str:
    """scheme://host of the page, for absolute embed URLs."""
    try:
        parts = urlparse(href or "")
    except ValueError:  # e.g. "http://[" (an unbalanced IPv6 bracket)
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
