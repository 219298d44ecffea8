"""Briefing mode: ``/?present=1&<query>`` is a full-screen slide deck of the view.

Slide 0 shows the map of every city and the ranking; then one slide per selected city
with its name, a key sentence, its trend against the national line and a small map of
the city. Large type for a projector, no controls beyond previous/next. Arrow keys,
PageUp/PageDown and space move between slides; the URL hash (``#3``) keeps the slide
across a reload. Plain HTML (``standalone.py``): no Dash, no inline JavaScript.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from functools import lru_cache

import flask
import pandas as pd
import plotly.graph_objects as go

from dashboard.data.dataset import Dataset
from dashboard.data.measures import city_series, year_snapshot
from dashboard.data.state import MAX_CITIES, ViewState, cohort_members, cohort_options, parse_query
from dashboard.figures import map as map_fig
from dashboard.figures.common import (
    MEASURE_LABELS,
    SOURCE_CITATION,
    dataset_label,
    format_value,
    is_source_annotation,
)
from dashboard.figures.inset import bounds, city_inset_spec
from dashboard.publish.standalone import (
    LOWER_48,
    PAGE_CSP,
    SITE_NAME,
    figure_block,
    plain_text,
    register_static_routes,
    render_page,
)
from dashboard.views.headline import headline
from dashboard.views.map import map_view_figure
from dashboard.views.outcomes import outcomes_slide
from dashboard.views.ranking import ranking_figure
from dashboard.views.text import city_sentence, years_above_national
from dashboard.views.trends import break_notes, trends_figure

# Figure type at 1280 x 720; present.js scales it up on larger screens.
FIGURE_FONT = 20
SOURCE_FONT = 16
CONFIG = {"responsive": True, "displayModeBar": False, "scrollZoom": False, "displaylogo": False}


def register_present_mode(server: flask.Flask, dataset: Dataset) -> None:
    """Serve the deck instead of the dashboard when the page is asked for with ``present=1``."""
    register_static_routes(server)

    @server.before_request
    def _briefing_mode():
        if flask.request.path != "/" or flask.request.args.get("present") != "1":
            return None
        query = {k: v for k, v in flask.request.args.lists() if k != "present"}
        state = parse_query(query, dataset)
        response = flask.Response(present_page(dataset, state), mimetype="text/html")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        return response


def selection_name(dataset: Dataset, state: ViewState) -> str:
    """ "PSP 2017 cities" when the view is a cohort, "Selected cities" otherwise."""
    members = cohort_members(dataset, state.cohort)[:MAX_CITIES]
    if state.cities and set(state.cities) == set(members):
        label = cohort_options(dataset)[state.cohort]
        return label if "cities" in label.lower() else f"{label} cities"
    return "Selected cities" if state.cities else "All cities"


def key_sentence(dataset: Dataset, state: ViewState, row: pd.Series, series: pd.DataFrame) -> str:
    """The city's value in the view's year against the US rate, and for how long it was above.

    ``row`` is the city's row of ``year_snapshot``; ``series`` its rows of ``city_series``.
    """
    text = city_sentence(row, dataset.offence_label(state.offence))
    run = years_above_national(series, state.year)
    if run > 1:
        text += f", above it for {run} years in a row"
    return text + "."


def source_notes(text: str, version: str) -> str:
    """The notes of a figure's source annotation, without the citation and dataset version
    (the slide prints those once)."""
    notes = []
    for piece in re.split(r"<br\s*/?>", text or ""):
        piece = plain_text(piece).replace(f"{dataset_label(version)}.", "").replace(" (see note)", "")
        piece = piece.replace(" (hover)", " (listed below)").strip()  # nobody hovers on a projector
        if piece and not piece.startswith(SOURCE_CITATION):
            notes.append(piece)
    return " · ".join(notes)


def _projector(fig: go.Figure, version: str, margin: dict, **layout) -> tuple[dict, str]:
    """A page figure as a plain dict for a slide, and the notes of its source line.

    Sized by its container, without its title (the slide states it) or source annotation
    (the slide prints it as text, which wraps), with projector type. Plain dicts: plotly's
    update machinery is slow.
    """
    spec = fig.to_plotly_json()
    lay = spec["layout"]
    for key in ("height", "width"):
        lay.pop(key, None)
    lay.update(autosize=True, margin=margin, **layout)
    lay["title"] = {"text": ""}
    lay.setdefault("font", {})["size"] = FIGURE_FONT
    lay["hoverlabel"] = {"font": {"size": FIGURE_FONT}}
    for key, axis in lay.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            axis["tickfont"] = {**axis.get("tickfont", {}), "size": FIGURE_FONT}
            if isinstance(axis.get("title"), dict):
                axis["title"]["font"] = {**axis["title"].get("font", {}), "size": FIGURE_FONT}
    kept, notes = [], []
    for annotation in lay.get("annotations", []):
        if is_source_annotation(annotation):
            notes.append(source_notes(str(annotation.get("text") or ""), version))
            continue
        font = annotation.setdefault("font", {})
        font["size"] = max(font.get("size", 14) + 3, 17)
        kept.append(annotation)
    lay["annotations"] = kept
    return spec, " · ".join(n for n in notes if n)


def _notice(state: ViewState) -> str:
    if not state.notices:
        return ""
    return '<p class="notice" role="status">' + " ".join(html.escape(n) for n in state.notices) + "</p>"


def _overview(dataset: Dataset, state: ViewState, snapshot: pd.DataFrame, count: int) -> str:
    label = dataset.offence_label(state.offence)
    map_spec, map_notes = _projector(
        map_view_figure(dataset, state),  # with the all-places dots when the view asks (issue 13)
        dataset.version,
        {"l": 0, "r": 0, "t": 0, "b": 0},
    )
    colorbar = map_spec["layout"]["coloraxis"]["colorbar"]
    colorbar.update(len=0.75, thickness=18, tickfont={"size": SOURCE_FONT})
    colorbar["title"]["font"] = {"size": SOURCE_FONT}
    map_spec["layout"]["legend"]["font"] = {"size": SOURCE_FONT}
    ranking, ranking_notes = _projector(
        ranking_figure(dataset, state),
        dataset.version,
        {"l": 70, "r": 10, "t": 40, "b": 64},
    )
    # A year no city has data for gives a message figure with no legend or axis title.
    ranking_layout = ranking["layout"]
    ranking_layout.setdefault("legend", {}).update(font={"size": SOURCE_FONT + 2}, y=1.02)
    xaxis = ranking_layout.setdefault("xaxis", {})
    if isinstance(xaxis.get("title"), dict):
        xaxis["title"]["font"] = {"size": SOURCE_FONT + 2}
    map_block = figure_block(
        "fig-0-map", map_spec, config=CONFIG, lazy=True, fit_bounds=LOWER_48, fit_reserve=150
    )
    return _slide(
        0,
        count,
        heading=f"{selection_name(dataset, state)}: {label.lower()} vs the US",
        kicker=f"{SITE_NAME} · {MEASURE_LABELS[state.measure]} · {state.year}",
        lede=headline(dataset, state),  # the page's headline (issue 18): the atlas's question, answered
        body=(
            '<div class="slide-body overview">'
            f'<figure class="panel">{map_block}'
            f"<figcaption>Map, {state.year}: program cities outlined</figcaption></figure>"
            f'<figure class="panel">{figure_block("fig-0-ranking", ranking, config=CONFIG, lazy=True)}'
            f"<figcaption>All cities ranked by ratio, {state.year}</figcaption></figure>"
            f"</div>{_notice(state)}"
        ),
        footer=_footer(dataset, f"{map_notes} {ranking_notes}"),
    )


@dataclass(frozen=True)
class _Deck:
    """What every city slide shares (computed once per page)."""

    snapshot: pd.DataFrame  # year_snapshot, indexed by geoid
    colours: pd.Series  # the main map's colour value per geoid
    coloraxis: dict
    series: pd.DataFrame  # city_series of the selected cities
    features: dict[str, dict]
    count: int


def _city_slide(dataset: Dataset, state: ViewState, deck: _Deck, index: int, geoid: str) -> str:
    label = dataset.offence_label(state.offence)
    row = deck.snapshot.loc[geoid]
    city_label = dataset.label(geoid)
    trends, notes = _projector(
        trends_figure(dataset, [geoid], state.offence, state.measure, state.year_from, state.year_to),
        dataset.version,
        {"l": 90, "r": 20, "t": 50, "b": 40},
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "font": {"size": SOURCE_FONT + 2},
        },
    )
    # The panel title repeats the slide's heading; the legend names the city instead.
    lay = trends["layout"]
    lay["annotations"] = [a for a in lay["annotations"] if a.get("text") != city_label]
    lay["xaxis"]["ticklabelstandoff"] = 6
    for trace in trends["data"]:
        if trace.get("legendgroup") == "city":
            trace["name"] = city_label
        elif isinstance(trace.get("name"), str):
            trace["name"] = trace["name"].replace(" (hover)", " (below)")
    breaks = break_notes(dataset, replace(state, cities=(geoid,)))
    # the ◇ items follow at once, so the key that announces them is dropped: a slide's lines are few
    notes = notes.replace(" · ◇ break or caveat (listed below)", "")
    notes = " ".join([notes, *(f"◇ {n.removeprefix(city_label + ', ')}" for n in breaks)])
    value = deck.colours.loc[geoid]
    measured = format_value(row[state.measure], state.measure)
    feature = deck.features[geoid]
    inset = city_inset_spec(
        feature,
        colour=None if pd.isna(value) else float(value),
        coloraxis=deck.coloraxis,
        hover=f"{city_label}: {measured}",
        font_size=FIGURE_FONT,
    )
    inset_block = figure_block(
        f"fig-{index}-inset",
        inset,
        config=CONFIG,
        lazy=True,
        fit_bounds=bounds(feature["geometry"]),
        fit_padding=0.08,
    )
    cohort = str(dataset.cities.at[geoid, "cohort"]) or "Not in a program cohort"
    caption = (
        f"City boundary, coloured like the map: <strong>{html.escape(measured)}</strong> in {state.year}"
    )
    return _slide(
        index,
        deck.count,
        heading=city_label,
        kicker=f"{cohort} · city {index} of {deck.count - 1}",
        position=f"City {index} of {deck.count - 1}",
        lede=key_sentence(dataset, state, row, deck.series[deck.series["geoid"] == geoid]),
        body=(
            '<div class="slide-body city">'
            f'<figure class="panel trend"><figcaption>{html.escape(label)}, '
            f"{html.escape(MEASURE_LABELS[state.measure])}, "
            f'<span class="nowrap">{state.year_from}–{state.year_to}</span></figcaption>'
            f"{figure_block(f'fig-{index}-trend', trends, config=CONFIG, lazy=True)}</figure>"
            f'<figure class="panel inset">{inset_block}<figcaption>{caption}</figcaption></figure>'
            "</div>"
        ),
        footer=_footer(dataset, notes),
    )


def _outcomes_slide(dataset: Dataset, state: ViewState, index: int) -> list[str]:
    """Issue 14: what happened after they joined (the last slide), when the view has PSP sites."""
    parts = outcomes_slide(dataset, state)
    if parts is None:
        return []
    items = "".join(
        f"<li><strong>{html.escape(label)}</strong> ({len(names)}): {html.escape(', '.join(names))}</li>"
        for label, names in parts.groups
    )
    chart, notes = "", ""
    if parts.figure is not None:
        spec, notes = _projector(parts.figure, dataset.version, {"l": 90, "r": 20, "t": 50, "b": 70})
        spec["layout"]["legend2"]["font"] = {"size": SOURCE_FONT + 2}
        chart = (
            f'<figure class="panel">{figure_block(f"fig-{index}-outcomes", spec, config=CONFIG, lazy=True)}'
            "<figcaption>Would they have fallen anyway? The sites beside places as violent that were never "
            "chosen (× US rate)</figcaption></figure>"
        )
    return [
        _slide(
            index,
            index + 1,
            heading="What happened after they joined?",
            kicker=f"{selection_name(dataset, state)} · violent crime against places not chosen",
            position="Outcomes",
            lede=parts.lede,
            body=(
                f'<div class="slide-body outcomes">{chart}'
                f'<div class="panel verdicts"><ul>{items}</ul></div></div>'
            ),
            footer=_footer(
                dataset,
                f"{notes} Each site's comparison, placebo band and the method: the atlas's outcomes panel "
                "and /export/outcomes.csv.",
            ),
        )
    ]


def _footer(dataset: Dataset, notes: str) -> str:
    notes = notes.strip()
    return (
        f'<p class="source">{html.escape(SOURCE_CITATION)}. {html.escape(dataset_label(dataset.version))}.'
        + (f" {html.escape(notes)}" if notes else "")
        + "</p>"
    )


def _slide(
    index: int,
    count: int,
    *,
    heading: str,
    kicker: str,
    lede: str,
    body: str,
    footer: str = "",
    position: str = "Overview",
) -> str:
    """One slide; ``position`` ("Overview", "City 3 of 12") is what the deck's counter shows for it."""
    hidden = "" if index == 0 else " hidden"
    return (
        f'<section class="slide" id="slide-{index}" data-slide="{index}" data-title="{html.escape(heading)}" '
        f'data-position="{html.escape(position)}" aria-roledescription="slide" '
        f'aria-label="{html.escape(position)}: {html.escape(heading)}"{hidden}>'
        f'<header class="slide-head"><p class="kicker">{html.escape(kicker)}</p>'
        f'<h1 class="slide-title">{html.escape(heading)}</h1>'
        f'<p class="lede">{html.escape(lede)}</p></header>'
        f"{body}{footer}</section>"
    )


def present_page(dataset: Dataset, state: ViewState) -> str:
    """The whole deck for a view (cached: a reload or a second presenter costs nothing)."""
    return _present_page(dataset, state, state.notices)  # notices are not part of a state's hash


@lru_cache(maxsize=16)
def _present_page(dataset: Dataset, state: ViewState, _notices: tuple[str, ...]) -> str:
    snapshot = year_snapshot(dataset, state.year, state.offence)
    count = 1 + len(state.cities)
    chosen = set(state.cities)
    deck = _Deck(
        snapshot=snapshot.set_index("geoid", drop=False),
        colours=pd.Series(
            map_fig.colour_values(snapshot, state.measure).to_numpy(), index=snapshot["geoid"].to_numpy()
        ),
        coloraxis=map_fig.coloraxis_for(
            snapshot, state.measure, city_series(dataset, None, state.offence)[state.measure]
        ),
        series=city_series(dataset, list(state.cities), state.offence),
        features={
            str(f["properties"]["geoid"]): f
            for f in dataset.city_geojson["features"]
            if str(f["properties"]["geoid"]) in chosen
        },
        count=count,
    )
    slides = [_overview(dataset, state, snapshot, count)]
    slides += [_city_slide(dataset, state, deck, i, geoid) for i, geoid in enumerate(state.cities, start=1)]
    slides += _outcomes_slide(dataset, state, len(slides))  # issue 14: the deck ends with the outcomes
    exit_href = "/" + state.to_query()
    nav = (
        '<nav class="deck-nav" aria-label="Slides">'
        '<button type="button" id="deck-prev" aria-label="Previous slide">‹ Previous</button>'
        '<span id="deck-counter" aria-live="polite">Overview</span>'
        '<button type="button" id="deck-next" aria-label="Next slide">Next ›</button>'
        f'<a class="deck-exit" href="{html.escape(exit_href)}">Exit briefing</a>'
        '<span class="deck-keys">← → or space to move</span>'
        "</nav>"
    )
    body = f'<main class="deck" aria-roledescription="slide deck">{"".join(slides)}</main>{nav}'
    title = f"Briefing: {selection_name(dataset, state)}, {dataset.offence_label(state.offence).lower()}"
    return render_page(
        f"{title} — {SITE_NAME}",
        body,
        scripts=("present.js",),
        body_attrs={"class": "present", "data-exit": exit_href},
        description=title,
    )
