"""The outcomes view (issue 14): each shown PSP site against places like it that were not chosen.

Reads ``dataset.outcomes`` (geodata/outcomes.csv, computed at build time: nothing is estimated per request).
A site in two cohorts is shown for the cohort viewed, else for its first PSP cohort. The comparison is for
violent crime only; another offence in the view is said, not silently swapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go

from dashboard.data import regression as rtm
from dashboard.data.dataset import Dataset
from dashboard.data.state import ViewState
from dashboard.figures import outcomes as outcomes_fig
from dashboard.figures.common import figure_from_spec
from dashboard.figures.outcomes_layers import Regression
from dashboard.schema import OUTCOME_COLUMNS
from dashboard.views.tables import TableData

OFFENCE = "violent_crime"  # the only offence outcomes.csv is built for (pipeline/outcomes.py)
CLAIMS = ("below comparison", "above comparison")


@lru_cache(maxsize=4)  # per loaded dataset (identity-hashed): 40 boolean filters cost ~150 ms a callback
def _by_site(dataset: Dataset) -> dict[str, dict[str, pd.DataFrame]]:
    """geoid -> cohort -> that membership's rows, sorted by year."""
    found: dict[str, dict[str, pd.DataFrame]] = {}
    if dataset.outcomes is not None:
        for (geoid, cohort), rows in dataset.outcomes.groupby(["geoid", "cohort"], sort=True):
            found.setdefault(str(geoid), {})[str(cohort)] = rows.sort_values("year")
    return found


def outcome_rows(dataset: Dataset, state: ViewState) -> pd.DataFrame:
    """The outcomes rows of the view's cities, one cohort per city, in the view's city order."""
    if dataset.outcomes is None or not state.cities:
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    by_site = _by_site(dataset)
    chosen = []
    for geoid in state.cities:
        own = by_site.get(geoid)
        if not own:
            continue
        chosen.append(own[state.cohort] if state.cohort in own else own[min(own)])
    if not chosen:
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    return pd.concat(chosen, ignore_index=True)


def _missing(dataset: Dataset, state: ViewState, rows: pd.DataFrame) -> list[str]:
    shown = set(rows["geoid"])
    return [dataset.label(g) for g in state.cities if g not in shown]


def _note(dataset: Dataset, state: ViewState, rows: pd.DataFrame) -> str:
    parts = []
    if state.offence != OFFENCE:
        parts.append(
            f"Shown for violent crime only (the view's offence is {dataset.offence_label(state.offence)})."
        )
    missing = _missing(dataset, state, rows)
    if missing:
        listed = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        parts.append(f"No comparison for {listed} (a county or unconfirmed site, or in no PSP cohort).")
    return " ".join(parts)


def _title(dataset: Dataset, state: ViewState, rows: pd.DataFrame) -> str:
    n = rows["geoid"].nunique()
    return f"Violent crime after joining: {n} site{'s' if n != 1 else ''} vs. places not chosen"


def regression_input(dataset: Dataset, state: ViewState, rows: pd.DataFrame) -> Regression | None:
    """The first panel's data for the shown sites: the curve, the threshold and the selection years."""
    if rows.empty:
        return None
    sites = rtm.site_joined_years(rows)
    selection = rtm.not_chosen(dataset, sites, state.threshold)
    years = sorted(set(selection.selection_years.values()))
    label = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
    lags = tuple(sorted({joined - year for joined, year in selection.selection_years.items()}))
    return Regression(rtm.regression_curve(dataset, sites, state.threshold), state.threshold, label, lags)


def outcomes_view_figure(dataset: Dataset, state: ViewState) -> go.Figure:
    rows = outcome_rows(dataset, state)
    if dataset.outcomes is None:
        message = "This data folder has no outcomes.csv: rebuild the data to compare sites."
    else:
        message = "No PSP site in this view: choose a PSP cohort to compare its sites with places not chosen."
    spec = outcomes_fig.outcomes_spec(
        rows,
        title=_title(dataset, state, rows),
        version=dataset.version,
        note=_note(dataset, state, rows),
        empty_message=message,
        regression=regression_input(dataset, state, rows),
    )
    return figure_from_spec(spec)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def outcomes_summary(dataset: Dataset, state: ViewState) -> str:
    """A sentence a reader who knows nothing of synthetic control can follow."""
    rows = outcome_rows(dataset, state)
    if rows.empty:
        return "No PSP site in this view has a comparison with places that were not chosen."
    verdicts = rows.drop_duplicates("geoid")["verdict"].value_counts()
    n = int(verdicts.sum())
    parts = []
    below, above = int(verdicts.get("below comparison", 0)), int(verdicts.get("above comparison", 0))
    same = int(verdicts.get("no clear difference", 0))
    if below:
        parts.append(f"{_count(below, 'is', 'are')} clearly below the comparison")
    if above:
        parts.append(f"{_count(above, 'is', 'are')} clearly above it")
    if same:
        parts.append(f"{_count(same, 'shows', 'show')} no clear difference")
    poor = int(verdicts.get("no claim: poor pre-period fit", 0))
    if poor:
        parts.append(
            f"{poor} cannot be judged because no mix of other places followed "
            f"{'it' if poor == 1 else 'them'} before joining"
        )
    few = int(verdicts.get("no claim: too few years after joining", 0))
    if few:
        parts.append(
            f"{few} {'has' if few == 1 else 'have'} fewer than 3 years of figures since joining (the FBI "
            "city figures here end in 2022, with none for 2020)"
        )
    donors = int(verdicts.get("no claim: too few comparison places", 0))
    if donors:
        parts.append(f"{donors} had too few comparable places")
    words = "; ".join(parts)
    none = ""
    if not below and not above:
        none = " None is clearly above or below its comparison." if same else " None can be judged yet."
    fell_back = _regression_sentence(dataset, state, rows)
    return (
        f"Violent crime in {_count(n, 'site', 'sites')} after joining, each against a comparison: a mix of "
        "places of 100,000+ people that were in no program and had matched the site's rates in the years "
        f"before. {words[0].upper()}{words[1:]}.{none}{fell_back} "
        "A difference beside similar places is not proof that the partnership caused it."
    )


def _times(value: float) -> str:
    return f"{value:.2f}×"


def _regression_sentence(dataset: Dataset, state: ViewState, rows: pd.DataFrame) -> str:
    """Regression to the mean in words: both groups' medians in the selection year and the latest year
    both have one ("" when there is no year after the selection year to compare)."""
    regression = regression_input(dataset, state, rows)
    if regression is None or len(regression.lags) != 1:
        return ""
    curve = regression.curve.dropna(subset=["median_ratio"])
    wide = curve.pivot(index="years_since_joining", columns="group", values="median_ratio").dropna()
    start = -regression.lags[0]
    if start not in wide.index or wide.index.max() <= start or len(wide.columns) < 2:
        return ""
    end = int(wide.index.max())
    # one selection year ("2015"), or several for sites that joined in different years ("2016–2017")
    years = regression.selection_label.replace("–", "-").split("-")
    single = len(years) == 1 and years[0].strip().isdigit()
    when = f"in {int(years[0]) + regression.lags[0] + end}" if single else f"{end} years after joining"
    chosen = int(curve.loc[curve["group"] == "not chosen", "selected"].max())
    then, later = wide.loc[start], wide.loc[end]
    subject = "the site" if rows["geoid"].nunique() == 1 else "the sites' median"
    return (
        f" Places in no program that were as violent when the sites were picked ({chosen} places at least "
        f"{regression.threshold:g}× the US rate in {regression.selection_label}) went from "
        f"{_times(then['not chosen'])} the US rate then to {_times(later['not chosen'])} {when}; "
        f"{subject} went from "
        f"{_times(then['sites'])} to {_times(later['sites'])}."
    )


SLIDE_GROUPS = (  # verdict -> how the presenter's slide lists its sites
    ("below comparison", "Below its comparison"),
    ("above comparison", "Above its comparison"),
    ("no clear difference", "No clear difference"),
    ("no claim: poor pre-period fit", "Cannot be judged: no mix of places matched it before joining"),
    ("no claim: too few years after joining", "Cannot be judged yet: under 3 years of figures since joining"),
    ("no claim: too few comparison places", "Cannot be judged: too few comparable places"),
)


@dataclass(frozen=True)
class OutcomesSlide:
    """What present mode's outcomes slide shows: a short lede, the sites by verdict, the first panel."""

    lede: str
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (label, site names)
    figure: go.Figure | None  # the regression-to-the-mean panel (None without a curve)


def outcomes_slide(dataset: Dataset, state: ViewState) -> OutcomesSlide | None:
    """The slide for a view with PSP sites to compare (None without any)."""
    rows = outcome_rows(dataset, state)
    if rows.empty:
        return None
    firsts = rows.drop_duplicates("geoid")
    groups = []
    for verdict, label in SLIDE_GROUPS:
        names = tuple(str(n) for n in firsts.loc[firsts["verdict"] == verdict, "site"])
        if names:
            groups.append((label, names))
    counts = firsts["verdict"].value_counts()
    judged = [
        f"{int(counts.get(v, 0))} {words}"
        for v, words in (
            ("below comparison", "below"),
            ("above comparison", "above"),
            ("no clear difference", "with no clear difference"),
        )
        if counts.get(v, 0)
    ]
    unjudged = len(firsts) - int(firsts["verdict"].isin([*CLAIMS, "no clear difference"]).sum())
    if unjudged:
        judged.append(f"{unjudged} that cannot be judged yet")
    lede = (
        f"{_count(len(firsts), 'site', 'sites')}, each against places in no program that matched it "
        f"before joining: {', '.join(judged)}. A comparison, not proof."
    )
    regression = regression_input(dataset, state, rows)
    figure = None
    if regression is not None and not regression.curve.empty:
        note = (
            f"Medians of the sites and of the places in no program at least {regression.threshold:g}× the "
            f"US rate in {regression.selection_label}; 2020: no FBI city table."
        )
        spec = outcomes_fig.regression_spec(regression, version=dataset.version, note=note)
        figure = figure_from_spec(spec)
    return OutcomesSlide(lede, tuple(groups), figure)


def _cell(value: object) -> str:
    return "" if pd.isna(value) else f"{float(value):,.1f}"


def outcomes_table(dataset: Dataset, state: ViewState) -> TableData:
    rows = outcome_rows(dataset, state)
    body = []
    for row in rows.itertuples():
        since = int(row.years_since_joining)
        body.append(
            (
                f"{row.site} {int(row.year)} ({since:+d})"
                if since
                else f"{row.site} {int(row.year)} (joined)",
                _cell(row.value) or "not reported",
                _cell(row.comparison_value) or "no comparison",
                _cell(row.gap),
                row.verdict,
            )
        )
    return TableData(
        caption="Violent crime per 100,000: each site against its comparison (places in no program)",
        headers=("Site, year (years since joining)", "Site rate", "Comparison rate", "Gap", "Verdict"),
        rows=tuple(body),
    )
