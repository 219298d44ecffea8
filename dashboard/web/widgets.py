"""The page's single controls, each a small named component: a labelled control, the trends' options, the
places and ranking choices (population floor, size group, few offences) and the all-places layer's URL."""

from __future__ import annotations

from urllib.parse import quote

from dash import dcc, html

from dashboard.data.caution import small_count_below
from dashboard.data.dataset import Dataset
from dashboard.data.places import BAND_LABELS, BANDS
from dashboard.data.state import ViewState
from dashboard.web import ids


def labelled(label: str, control, control_id: str) -> html.Div:
    """A control with its label (``htmlFor`` its id); sliders get room for their value bubbles."""
    extra = " control-slider" if type(control).__name__ in ("Slider", "RangeSlider") else ""
    return html.Div(
        [html.Label(label, htmlFor=control_id, className="control-label"), control],
        className="control" + extra,
    )


def align_control(state: ViewState) -> html.Div:
    """The trends' x axis (``align=`` in the URL): calendar years, or years since each site joined."""
    return labelled(
        "Trend years on the x axis",
        dcc.RadioItems(
            id=ids.ALIGN,
            value=state.align,
            className="radio radio-inline",
            inputClassName="radio-input",
            options=[
                {"label": "Calendar years", "value": "calendar"},
                {"label": "Years since joining (0 = announced)", "value": "joined"},
            ],
        ),
        ids.ALIGN,
    )


def trend_options(dataset: Dataset, state: ViewState) -> html.Div:
    """Change since a base year, log scale and a 3-year rolling average for the trends (issue 18)."""
    return html.Div(
        className="trend-options",
        children=[
            labelled(
                "Change since (%)",
                dcc.Dropdown(
                    id=ids.TREND_BASE,
                    options=[{"label": str(y), "value": y} for y in dataset.years],
                    value=state.base,
                    placeholder="off (values)",
                    clearable=True,
                ),
                ids.TREND_BASE,
            ),
            labelled(
                "Y axis",
                dcc.RadioItems(
                    id=ids.TREND_SCALE,
                    value=state.scale,
                    className="radio radio-inline",
                    inputClassName="radio-input",
                    options=[{"label": "Linear", "value": "linear"}, {"label": "Log", "value": "log"}],
                ),
                ids.TREND_SCALE,
            ),
            labelled(
                "Values",
                dcc.RadioItems(
                    id=ids.TREND_SMOOTH,
                    value=state.smooth,
                    className="radio radio-inline",
                    inputClassName="radio-input",
                    options=[
                        {"label": "Each year", "value": 1},
                        {"label": "3-year rolling average", "value": 3},
                    ],
                ),
                ids.TREND_SMOOTH,
            ),
        ],
    )


MINPOP_LABELS = {
    100_000: "Cities of 100,000+ and program sites",
    50_000: "Places of 50,000+",
    25_000: "Places of 25,000+",
    10_000: "Places of 10,000+",
    0: "Every place in the FBI city tables",
}


def minpop_control(dataset: Dataset, state: ViewState) -> html.Div:
    """Which places the map and ranking show (issue 13, ``minpop=``); fixed at 100,000+ without the
    all-places files."""
    return labelled(
        "Places on the map and in the ranking",
        dcc.Dropdown(
            id=ids.MINPOP,
            options=[{"label": label, "value": value} for value, label in MINPOP_LABELS.items()],
            value=state.minpop,
            clearable=False,
            searchable=False,
            disabled=dataset.places_year is None,
        ),
        ids.MINPOP,
    )


def band_control(dataset: Dataset, state: ViewState) -> html.Div:
    """Rank among places of one size (issue 13, ``band=``): the FBI's population groups."""
    return labelled(
        "Rank among places of",
        dcc.Dropdown(
            id=ids.BAND,
            options=[{"label": BAND_LABELS[b].capitalize(), "value": b} for b in BANDS],
            value=state.band,
            clearable=False,
            searchable=False,
            disabled=dataset.places_year is None,
        ),
        ids.BAND,
    )


def places_layer_store(dataset: Dataset) -> dcc.Store:
    """The all-places layer's URL, ``{offence}`` to fill (``assets/places.js``); none without the files."""
    url = (
        None if dataset.place_points is None else f"/data/places/{{offence}}.json?v={quote(dataset.version)}"
    )
    return dcc.Store(id=ids.PLACES_LAYER_URL, data=url)


def small_control(state: ViewState) -> dcc.Checklist:
    """Leave out of the ranking the places whose value rests on few offences (``small=exclude``)."""
    return dcc.Checklist(
        id=ids.SMALL,
        value=["exclude"] if state.small == "exclude" else [],
        options=[
            {"label": f"Leave out places with fewer than {small_count_below()} offences", "value": "exclude"}
        ],
        className="radio",
        inputClassName="radio-input",
    )
