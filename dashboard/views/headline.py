"""The headline sentence above the map (issue 18): the atlas's core question answered for the view.

"In 2015, 119 of 310 cities with data had violent crime at least 1.5× the national rate; 9 of the 12
PSP 2017 sites were among them." It follows cohort, offence, year, threshold and the small-number choice,
and reads the same ranking frame as the ranking chart, so the two never disagree.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.state import ALL_CITIES, ALL_PROGRAMS, ALL_PSP, ViewState, highlight_cohorts
from dashboard.views import ranking as ranking_view


def group_name(dataset: Dataset, cohort: str) -> str:
    """How the sentence names the highlighted places: "PSP 2017 sites", "PSP sites", "program sites"."""
    if cohort == ALL_PSP:
        return "PSP sites"
    if cohort in (ALL_PROGRAMS, ALL_CITIES):
        return "program sites"
    cohorts = highlight_cohorts(dataset, cohort)
    return f"{cohorts[0]} sites" if len(cohorts) == 1 else "program sites"


def headline_text(
    ranked: pd.DataFrame,
    *,
    year: int,
    threshold: float,
    offence_label: str,
    group: str,
    left_out: str = "",
    universe: str = "cities",
) -> str:
    """The sentence from a ranking frame (``data.ranking.ranking_frame``): pure, so it is unit-tested."""
    offence = offence_label.lower()
    if ranked.empty:
        return f"No city has {offence} figures for {year}."
    above = ranked["above"].to_numpy(dtype=bool)
    chosen = (ranked["highlight"] != "other").to_numpy(dtype=bool)
    text = (
        f"In {year}, {int(above.sum()):,} of {len(ranked):,} {universe} with data had {offence} at least "
        f"{threshold:g}× the national rate"
    )
    if chosen.any():
        hits, total = int((above & chosen).sum()), int(chosen.sum())
        share = f"all {total}" if hits == total and total > 1 else f"{hits} of the {total}"
        text += f"; {share} {group} with data {'was' if total == 1 else 'were'} among them"
    return text + (f"; {left_out}" if left_out else "") + "."


def headline(dataset: Dataset, state: ViewState) -> str:
    """The headline for a view state (page, present mode, embeds)."""
    label = dataset.offence_label(state.offence)
    n = ranking_view.left_out_count(dataset, state)
    return headline_text(
        ranking_view._ranked(dataset, state),
        year=state.year,
        threshold=state.threshold,
        offence_label=label,
        group=group_name(dataset, state.cohort),
        left_out=ranking_view.left_out_phrase(n, label) if n else "",
        universe=ranking_view.universe_words(state),  # issue 13: "places of 10,000+ people", ...
    )
