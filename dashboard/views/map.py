"""The map view: its figure (page and export), recolour values, summary and table for a view state."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go

from dashboard.data.dataset import Dataset
from dashboard.data.notes import review_flags
from dashboard.data.queries import all_series, data_url, snapshot
from dashboard.data.ranking import streak_above
from dashboard.data.state import DEFAULT_THRESHOLD, ViewState
from dashboard.figures import map as map_fig
from dashboard.figures import map_static
from dashboard.figures.common import MEASURE_LABELS
from dashboard.views.places_layer import places_frame
from dashboard.views.tables import CAUTION_HEADER, TableData, caution_cell, value_cells


def map_figure(
    dataset: Dataset,
    year: int,
    offence: str,
    measure: str,
    selected: list[str],
    *,
    geojson: str | dict | None = None,
    states_geojson: str | dict | None = None,
    height: int | None = 560,
    threshold: float = DEFAULT_THRESHOLD,
) -> go.Figure:
    """The full map; geometry is referenced by its versioned URL unless given (exports embed it).
    ``height=None`` is the page's hero map (issue 18): it fills its box, its legend lies across the top."""
    fig = map_fig.build_map_figure(
        ranked_snapshot(dataset, year, offence, threshold),
        geojson=data_url(dataset, "cities.geojson") if geojson is None else geojson,
        states_geojson=data_url(dataset, "states.geojson") if states_geojson is None else states_geojson,
        measure=measure,
        offence_label=dataset.offence_label(offence),
        year=year,
        version=dataset.version,
        selected=selected,
        scale_values=colour_scale_values(dataset, offence, measure),
        caveats=jurisdiction_caveats(dataset),
        cities=dataset.cities,
        height=height,
    )
    if height is None:
        fig.update_layout(coloraxis=map_fig.page_coloraxis(fig.layout.coloraxis.to_plotly_json()))
    return fig


def jurisdiction_caveats(dataset: Dataset) -> dict[str, str]:
    """Cities whose figures cover another area than the outline drawn (a ``jurisdiction`` break), or whose
    outline holds water (``outline_note``, written by the build's screens): a few words for the hover."""
    breaks = dataset.breaks[dataset.breaks["kind"] == "jurisdiction"]
    caveats = {str(g): "figures cover another area than drawn: see data notes" for g in breaks["geoid"]}
    for feature in dataset.city_geojson["features"]:
        props = feature["properties"]
        if props.get("outline_note"):
            geoid = props["geoid"]
            caveats[geoid] = "; ".join(c for c in (caveats.get(geoid), props["outline_note"]) if c)
    return caveats


def map_view_figure(dataset: Dataset, state: ViewState) -> go.Figure:
    """The map of a view as embeds and present mode draw it: with the all-places dots filled in here (the
    page fills them in the browser, ``assets/places.js``)."""
    fig = map_figure(
        dataset, state.year, state.offence, state.measure, list(state.cities), threshold=state.threshold
    )
    places = places_frame(dataset, state.offence, state.year, state.minpop)
    if places is not None and len(places):
        dots = map_static.places_dots(places, state.measure)
        fig.data[map_fig.TRACE_PLACES].update(
            lon=dots["lon"],
            lat=dots["lat"],
            text=dots["text"],
            customdata=places_hover(places.sort_values("population", kind="stable")),
            marker={"size": dots["marker"]["size"], "color": dots["marker"]["color"]},
            showlegend=True,
        )
    return fig


def places_hover(places: pd.DataFrame) -> list[list]:
    """The dots' hover numbers (``figures.map_places.PLACES_HOVER_TEMPLATE``) at the map's precision
    (``figures.map._number``, as the city hover), "" where missing."""
    columns = [("rate", 1), ("count", 0), ("ratio", 2), ("ratio_to_peer", 2), ("population", 0)]
    rows = places[[c for c, _d in columns]].itertuples(index=False)
    numbers = ([map_fig._number(v, d) for v, (_c, d) in zip(row, columns, strict=True)] for row in rows)
    return [["" if n is None else n for n in row] for row in numbers]


@lru_cache(maxsize=64)
def ranked_snapshot(dataset: Dataset, year: int, offence: str, threshold: float) -> pd.DataFrame:
    """The year's snapshot with each city's rank by ratio (1 = highest, among cities with a ratio) and its
    years in a row at or above ``threshold``, for the hover (issue 18). Cached: do not mutate."""
    frame = snapshot(dataset, year, offence)
    ratio = frame["ratio"].astype("Float64")
    rank = ratio.rank(ascending=False, method="min")
    streak = frame["geoid"].map(streak_above(all_series(dataset, offence), year, threshold))
    return frame.assign(
        rank=rank.where(ratio.notna()), streak=streak.where(ratio.notna()).astype("Float64").fillna(pd.NA)
    )


@lru_cache(maxsize=8)
def _static_features(dataset: Dataset, tolerance: float) -> tuple[dict[str, dict], dict[str, dict]]:
    """Cities and states thinned for the export map (built once per dataset and tolerance)."""
    return (
        map_static.d3_features(dataset.city_geojson, "geoid", tolerance),
        map_static.d3_features(dataset.state_geojson, "name", tolerance),
    )


def map_static_figure(dataset: Dataset, state: ViewState, width: int, height: int) -> dict:
    """The page's choropleth drawn as vector shapes for an export (``figures/map_static.py``): no WebGL."""
    cities, states = _static_features(dataset, map_static.tolerance_for(width, height))
    return map_static.build_static_map(
        snapshot(dataset, state.year, state.offence),
        city_features=cities,
        state_features=states,
        measure=state.measure,
        offence_label=dataset.offence_label(state.offence),
        year=state.year,
        version=dataset.version,
        selected=list(state.cities),
        scale_values=colour_scale_values(dataset, state.offence, state.measure),
        places=places_frame(dataset, state.offence, state.year, state.minpop),  # issue 13
    )


def colour_scale_values(dataset: Dataset, offence: str, measure: str) -> pd.Series:
    """Every city-year of the offence: the map's colour scale spans all years, not just one."""
    return all_series(dataset, offence)[measure]


@lru_cache(maxsize=256)
def map_snapshot(
    dataset: Dataset, year: int, offence: str, measure: str, threshold: float = DEFAULT_THRESHOLD
) -> tuple[dict, str]:
    """What a recolour sends (colours, hover numbers, colour axis) and the title; cached per view.

    Cached because the result depends only on these four values and moving the year slider
    back and forth is the commonest interaction. Callers must not mutate the result.
    """
    label = dataset.offence_label(offence)
    values = map_fig.map_values(
        ranked_snapshot(dataset, year, offence, float(threshold)),
        measure,
        label,
        year,
        colour_scale_values(dataset, offence, measure),
    )
    return values, map_fig.map_title(label, measure, year)


def map_summary(dataset: Dataset, state: ViewState) -> str:
    with_data = snapshot(dataset, state.year, state.offence).dropna(subset=["ratio"])
    label = dataset.offence_label(state.offence)
    if with_data.empty:
        return f"Map of {label.lower()} in {state.year}: no city has data for that year."
    top = with_data.sort_values("ratio", ascending=False).iloc[0]
    programs = with_data[with_data["is_program"]]
    return (
        f"Map of {label.lower()} in {state.year}, {MEASURE_LABELS[state.measure]}, "
        f"for {len(with_data)} cities with data. Highest: {top['label']} at "
        f"{float(top['ratio']):.2f} times the national rate. "
        f"{int((programs['ratio'] > 1).sum())} of {len(programs)} program cities with data were above "
        "the national rate."
    )


def places_caption(dataset: Dataset, state: ViewState) -> str:
    """Where the all-places dots' numbers are (issue 13): thousands of rows belong in a file, not a page."""
    places = places_frame(dataset, state.offence, state.year, state.minpop)
    if places is None:
        return ""
    return (
        f" (the {len(places):,} other places drawn as dots are listed, ranked, in the ranking CSV: "
        "Download CSV under the ranking)"
    )


def map_table(dataset: Dataset, state: ViewState) -> TableData:
    rows = snapshot(dataset, state.year, state.offence).sort_values("label")
    label = dataset.offence_label(state.offence)
    return TableData(
        caption=f"{label}, {state.year}: every city outline on the map" + places_caption(dataset, state),
        headers=(
            "City",
            "Offences",
            "Rate per 100,000",
            "US rate",
            "Ratio",
            "Source",
            "Review flag",
            CAUTION_HEADER,
        ),
        rows=tuple(
            (
                r.label,
                *value_cells(r),
                str(r.source).split(" + ")[0] if pd.notna(r.source) else "",
                "flagged: see data notes" if review_flags(r.notes) else "",
                caution_cell(r.count),
            )
            for r in rows.itertuples()
        ),
    )
