"""The ranking view (the selection criterion): figure, summary sentence and tables for a view state."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.data.caution import caution_phrase, small_count
from dashboard.data.dataset import Dataset
from dashboard.data.places import BAND_LABELS, table_years
from dashboard.data.queries import ranked_view, uses_every_place
from dashboard.data.state import ViewState
from dashboard.figures import ranking as ranking_fig
from dashboard.figures import ranking_profile
from dashboard.figures import trends as trends_fig
from dashboard.schema import year_ranges
from dashboard.views.tables import CAUTION_HEADER, TableData, caution_cell


def no_data_message(offence_label: str, year: int) -> str:
    """What the ranking says when no city has a figure for the year (chart and summary alike)."""
    return f"No city has {offence_label.lower()} data for {year}."


def ranking_summary(ranked: pd.DataFrame, threshold: float, year: int, offence_label: str) -> str:
    above = ranked["above"].to_numpy(dtype=bool)
    highlighted = ranked["highlight"].to_numpy() != "other"
    chosen = int((above & highlighted).sum())
    missed = int(highlighted.sum()) - chosen
    n_above = int(above.sum())
    return (
        f"In {year}, {n_above} of {len(ranked)} cities had a {offence_label.lower()} rate at least "
        f"{threshold:g}× the national rate: {chosen} of them are in the highlighted program cohort(s), "
        f"{n_above - chosen} are not. {missed} highlighted program cities were below {threshold:g}×."
    )


MAX_BARS = 400  # beyond this many places the ranking is drawn as a curve (figures/ranking_profile.py)
MAX_TABLE_ROWS = 100  # the table's first rows when thousands are ranked (the ranking CSV has them all)


def _all_ranked(dataset: Dataset, state: ViewState) -> pd.DataFrame:
    return ranked_view(
        dataset, state.cohort, state.offence, state.year, state.threshold, state.minpop, state.band
    )


def _ranked(dataset: Dataset, state: ViewState) -> pd.DataFrame:
    ranked = _all_ranked(dataset, state)
    return leave_out_small(ranked)[0] if state.small == "exclude" else ranked


def universe_words(state: ViewState) -> str:
    """The places a view ranks, in words: "cities", "places of 10,000 to 24,999 people", ..."""
    if state.band != "all":
        return f"places of {BAND_LABELS[state.band]} people"
    if state.minpop >= 100_000:
        return "cities"
    return f"places of {state.minpop:,}+ people" if state.minpop else "places"


def leave_out_small(ranked: pd.DataFrame, below: int | None = None) -> tuple[pd.DataFrame, int]:
    """The ranking without values resting on few offences (``data/caution.py``), re-ranked, and how many
    were left out. Ranks stay 1..n so the chart has no holes."""
    small = small_count(ranked["count"], below).fillna(False).to_numpy(dtype=bool)
    kept = ranked[~small].reset_index(drop=True)
    kept = kept.assign(rank=kept.index + 1)
    return kept, int(small.sum())


def left_out_count(dataset: Dataset, state: ViewState) -> int:
    """How many places the ranking leaves out for few offences (0 when it shows them all)."""
    if state.small != "exclude":
        return 0
    return leave_out_small(_all_ranked(dataset, state))[1]


def ranking_figure(dataset: Dataset, state: ViewState) -> go.Figure:
    """The ranked bars; a message figure when no city has data for the year."""
    label = dataset.offence_label(state.offence)
    ranked = _ranked(dataset, state)
    if ranked.empty:
        return trends_fig.empty_figure(no_data_message(label, state.year), dataset.version)
    if len(ranked) > MAX_BARS:  # issue 13: thousands of places read as one curve
        return ranking_profile.build_profile_figure(
            ranked,
            year=state.year,
            threshold=state.threshold,
            offence_label=label,
            version=dataset.version,
            universe=universe_words(state),
            selected=state.cities,
        )
    fig = ranking_fig.build_ranking_figure(
        ranked, year=state.year, threshold=state.threshold, offence_label=label, version=dataset.version
    )
    return hatch_small_counts(fig, ranked, caution_phrase(label))


def hatch_small_counts(fig: go.Figure, ranked: pd.DataFrame, note: str) -> go.Figure:
    """Hatch the bars whose value rests on few offences (issue 18) and say so in the legend: one bar
    trace per cohort, its bars in ranking order (``figures/ranking.py``)."""
    small = small_count(ranked["count"]).fillna(False).to_numpy(dtype=bool)
    if not small.any():
        return fig
    highlight = ranked["highlight"].to_numpy()
    for trace in fig.data:
        if trace.type != "bar":
            continue
        cohort = "other" if trace.name == "Other cities" else trace.name
        rows = small[highlight == cohort]
        trace.marker.pattern = {"shape": ["/" if flag else "" for flag in rows.tolist()], "solidity": 0.45}
    fig.add_trace(
        go.Bar(
            x=[None],
            y=[None],
            name=f"Hatched: {note}",
            marker={"color": "#bdbdbd", "pattern": {"shape": "/", "solidity": 0.45}},
            showlegend=True,
            hoverinfo="skip",
        )
    )
    return fig


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def places_summary(ranked: pd.DataFrame, state: ViewState, offence_label: str, years: tuple[int, ...]) -> str:
    """Issue 13's question in words: among places of this size, how many cleared the threshold, which of
    them are in a program, and where each selected place stood (rank, ratio to the US and to its peers,
    years in a row)."""
    threshold, year, n = state.threshold, state.year, len(ranked)
    above = ranked["above"].to_numpy(dtype=bool)
    highlighted = ranked["highlight"].to_numpy() != "other"
    chosen = int((above & highlighted).sum())
    text = (
        f"Among the {n:,} {universe_words(state)} with a figure for {year}, {int(above.sum()):,} had a "
        f"{offence_label.lower()} rate at least {threshold:g}× the national rate: {chosen} of them "
        f"{'is' if chosen == 1 else 'are'} in the highlighted program cohort(s)."
    )
    for r in ranked[ranked["geoid"].isin(state.cities)].head(3).itertuples():
        peer = (
            ""
            if pd.isna(r.ratio_to_peer)
            else f" and {r.ratio_to_peer:.2f}× places of its size ({r.peer_rate:,.1f})"
        )
        run = f"at or above {threshold:g}× for {int(r.streak)} year{'s' if r.streak != 1 else ''} in a row"
        text += (
            f" {r.label} ranked {_ordinal(int(r.rank))} of {n:,} with {r.rate:,.1f} per 100,000: "
            f"{r.ratio:.2f}× the national rate ({r.national_rate:,.1f}){peer}; "
            + (run + "." if r.streak else f"below {threshold:g}×.")
        )
    if years and year not in years:
        text += (
            f" There is no FBI table of every place for {year} (only {year_ranges(years)}): only the cities "
            "of 100,000+ and the program sites have a figure."
        )
    elif years:
        text += (
            f" Places under 100,000 have figures only for {year_ranges(years)}: a missing year ends a run "
            "of years in a row."
        )
    return text


def ranking_summary_text(dataset: Dataset, state: ViewState) -> str:
    """The ranking's summary sentence (shown under the chart, and its alt text)."""
    label = dataset.offence_label(state.offence)
    ranked = _ranked(dataset, state)
    if ranked.empty:
        return no_data_message(label, state.year)
    if uses_every_place(dataset, state.minpop, state.band):
        text = places_summary(ranked, state, label, table_years(dataset))
    else:
        text = ranking_summary(ranked, state.threshold, state.year, label)
    left_out = left_out_count(dataset, state)
    return text + (f" {left_out_phrase(left_out, label).capitalize()}." if left_out else "")


def left_out_phrase(n: int, offence_label: str) -> str:
    """ "14 places with fewer than 10 murder offences in the year left out" (ranking summary, headline)."""
    verb = "was" if n == 1 else "were"
    return f"{n} {'place' if n == 1 else 'places'} with {caution_phrase(offence_label)} {verb} left out"


def sustained_table(dataset: Dataset, state: ViewState) -> TableData | None:
    """Highlighted cities: how far above the national rate, and for how many years in a row."""
    ranked = _ranked(dataset, state)
    if ranked.empty:
        return None
    chosen = ranked[ranked["highlight"] != "other"]
    year, threshold = state.year, state.threshold
    return TableData(
        caption="",
        headers=(
            "City",
            "Cohort",
            "Rank",
            f"Ratio in {year}",
            f"Years in a row at or above {threshold:g}× (to {year})",
        ),
        rows=tuple(
            (r.label, r.highlight, str(int(r.rank)), f"{r.ratio:.2f}×", str(int(r.streak)))
            for r in chosen.itertuples()
        ),
        label="Sustained: years in a row above the threshold",
    )


def table_rows(ranked: pd.DataFrame, selected: tuple[str, ...]) -> tuple[pd.DataFrame, str]:
    """The rows a table lists: every row when the chart draws bars; when thousands are ranked (a curve),
    the first ``MAX_TABLE_ROWS`` plus every highlighted or selected place, and words saying so."""
    if len(ranked) <= MAX_BARS:  # the cities of 100,000+ (~300): every row, as the bars
        return ranked, ""
    keep = (ranked.index < MAX_TABLE_ROWS) | (ranked["highlight"] != "other") | ranked["geoid"].isin(selected)
    note = (
        f" (the first {MAX_TABLE_ROWS} of {len(ranked):,}, and every highlighted or selected place below "
        "them; the ranking CSV lists every place)"
    )
    return ranked[keep.to_numpy(dtype=bool)], note


def ranking_table(dataset: Dataset, state: ViewState) -> TableData:
    label = dataset.offence_label(state.offence)
    ranked, note = table_rows(_ranked(dataset, state), state.cities)
    peers = uses_every_place(dataset, state.minpop, state.band)
    headers = ("City", "Rank", "Ratio", "Highlighted cohort", f"Years in a row ≥ {state.threshold:g}×")
    return TableData(
        caption=f"{label}, {state.year}: {universe_words(state)} ranked by ratio to the national rate{note}",
        headers=(*headers, *(("Times places of its size",) if peers else ()), CAUTION_HEADER),
        rows=tuple(
            (
                r.label,
                str(r.rank),
                f"{r.ratio:.2f}×",
                "" if r.highlight == "other" else r.highlight,
                str(r.streak),
                *((("" if pd.isna(r.ratio_to_peer) else f"{r.ratio_to_peer:.2f}×"),) if peers else ()),
                caution_cell(r.count),
            )
            for r in ranked.itertuples()
        ),
    )
