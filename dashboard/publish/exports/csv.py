"""The CSV export: exactly the numbers a view shows, with comment lines naming the view."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from dashboard.data.caution import small_count_below
from dashboard.data.dataset import Dataset
from dashboard.data.joined import joined_years
from dashboard.data.measures import city_series
from dashboard.data.notes import review_flags
from dashboard.data.state import ViewState, cohort_members, cohort_options
from dashboard.figures.common import SOURCE_CITATION, dataset_label
from dashboard.schema import OUTCOME_COLUMNS
from dashboard.views.outcomes import outcome_rows

CSV_COLUMNS = (
    "city",
    "geoid",
    "year",
    "offence",
    "count",
    "population",
    "rate_per_100k",
    "national_rate_per_100k",
    "ratio_to_national",
    "rape_definition",
    "source",
    "notes",
    "years_since_joined",  # year minus the site's announcement year (align=joined; empty off-program)
    "months_reported",  # 1-12 where the source says (issue 16); a part year has a count but no rate
    "flags",  # the plausibility screens' flags and withholdings for this city-year (geodata/SCREENING.md)
    "peer_group",  # the FBI population group of the city that year (issue 13): 250k+, 100k-250k, ...
    "peer_rate_per_100k",  # the rate of all places of that group (summed from the year's city table)
    "ratio_to_peer",  # city rate / peer rate
    "small_count",  # true: the value rests on fewer offences than config/caution.json says (issue 18)
)


# ---------------------------------------------------------------------------------------------
# CSV


def _cell(value, decimals: int = 0) -> str:
    """A number as the CSV shows it; missing values are empty cells, never 0."""
    if value is None or pd.isna(value):
        return ""
    return str(int(value)) if decimals == 0 else f"{float(value):.{decimals}f}"


def view_description(dataset: Dataset, state: ViewState) -> str:
    """ "Violent crime, 1985–2019: PSP 2017 (12 cities)" — for titles and file metadata."""
    label = dataset.offence_label(state.offence)
    return f"{label}, {state.year_from}–{state.year_to}: {_selection_label(dataset, state)}"


def _selection_label(dataset: Dataset, state: ViewState) -> str:
    n = len(state.cities)
    if n == 0:
        return "no cities selected"
    if n == 1:
        return dataset.label(state.cities[0])
    if _is_cohort_selection(dataset, state):
        return f"{cohort_options(dataset)[state.cohort]} ({n} cities)"
    return f"{n} cities"


def _is_cohort_selection(dataset: Dataset, state: ViewState) -> bool:
    members = cohort_members(dataset, state.cohort)
    return bool(state.cities) and list(state.cities) == members[: len(state.cities)]


def comment_header(
    dataset: Dataset, state: ViewState, title: str, *, notes: tuple[str, ...] = (), source_note: str = ""
) -> str:
    """The ``#`` lines every CSV export opens with: what it is, the data version, the sources, the view's
    link, what its columns mean (``notes``) and what the link asked for that was not used."""
    lines = [
        f"Safety Partnership Atlas: {title}",
        f"{dataset_label(dataset.version)} (data version)",
        f"{SOURCE_CITATION}{source_note}",
        f"View: /{state.to_query()}",
        *notes,
        *(f"Ignored in the link: {notice}" for notice in state.notices),
    ]
    return "".join(f"# {line}\n" for line in lines)


def view_csv(dataset: Dataset, state: ViewState) -> str:
    """The numbers of the trends chart for a view: one row per selected city × year × offence.

    Built from ``data.city_series`` (what the chart draws). Years without a figure keep a row
    with empty values, so gaps stay visible; missing values are empty cells, never 0.
    """
    out = io.StringIO()
    out.write(
        comment_header(
            dataset,
            state,
            f"{view_description(dataset, state)}, against the US rate",
            notes=(
                f"small_count: true when the count is under {small_count_below()} offences in the year (a "
                "value that a handful of events can swing); empty when there is no count.",
                "Empty cell = not available (never zero). Rates per 100,000 residents are computed from "
                "counts and the FBI agency population; ratio_to_national = city rate / US rate (same rape "
                "definition); peer_rate_per_100k = the rate of all places of the city's FBI population group "
                "that year, summed from the FBI city table (only years with a city table: 2010, 2013-2019, "
                "2021-2022).",
            ),
        )
    )
    if not state.cities:
        out.write("# No rows: this view has no city (name cities=<GEOID,...> or a program cohort).\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    if not state.cities:
        return out.getvalue()
    series = city_series(dataset, list(state.cities), state.offence)
    series = series[series["year"].between(state.year_from, state.year_to)]
    by_key = {(r.geoid, int(r.year)): r for r in series.itertuples(index=False)}
    joined = joined_years(dataset, list(state.cities), state.cohort)
    table_years = set(dataset.years)
    below = small_count_below()
    for geoid in state.cities:
        city = dataset.label(geoid)
        for year in range(state.year_from, state.year_to + 1):
            row = by_key.get((geoid, year))
            since = "" if joined[geoid] is None else str(year - joined[geoid])
            if row is None:
                why = missing_reason(year, table_years)
                writer.writerow([city, geoid, year, state.offence, *[""] * 7, why, since, *[""] * 5, ""])
                continue
            writer.writerow(
                [
                    city,
                    geoid,
                    year,
                    state.offence,
                    _cell(row.count),
                    _cell(row.population),
                    _cell(row.rate, 1),
                    _cell(row.national_rate, 1),
                    _cell(row.ratio, 2),
                    "" if pd.isna(row.rape_definition) else row.rape_definition,
                    "" if pd.isna(row.source) else row.source,
                    "" if pd.isna(row.notes) else row.notes,
                    since,
                    "" if pd.isna(row.months_reported) else int(row.months_reported),
                    review_flags(row.notes),
                    row.peer_group,
                    _cell(row.peer_rate, 1),
                    _cell(row.ratio_to_peer, 2),
                    small_cell(row.count, below),
                ]
            )
    return out.getvalue()


def outcomes_csv(dataset: Dataset, state: ViewState) -> str:
    """The outcomes chart's rows (geodata/outcomes.csv columns) for the view's sites, with the method."""
    out = io.StringIO()
    out.write(
        comment_header(
            dataset,
            state,
            "violent crime after joining, each PSP site against places not chosen",
            source_note="; comparison: synthetic control (geodata/SOURCES.md, outcomes.csv)",
            notes=(
                "Empty cell = not available (never zero). comparison_value: a weighted mix of up to 40 "
                "places of 100,000+ in no program, matched on the years before joining; placebo_rank: where "
                "the site's post/pre RMSPE ratio ranks among placebo_count + 1 places (1 = largest); "
                "verdict rule in geodata/SOURCES.md.",
            ),
        )
    )
    rows = outcome_rows(dataset, state)
    if rows.empty:
        out.write("# No rows: no PSP site of this view has a comparison (choose a PSP cohort).\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTCOME_COLUMNS)
    for row in rows.itertuples(index=False):
        writer.writerow(
            [
                row.site,
                row.geoid,
                row.cohort,
                int(row.year),
                int(row.years_since_joining),
                _cell(row.value, 1),
                _cell(row.comparison_value, 1),
                _cell(row.gap, 1),
                _cell(row.placebo_rank),
                _cell(row.placebo_count),
                _cell(row.pre_fit_rmspe, 1),
                row.verdict,
            ]
        )
    return out.getvalue()


def small_cell(count, below: int) -> str:
    """ "true"/"false" for the ``small_count`` column; empty without a count (a gap is not small)."""
    if count is None or pd.isna(count):
        return ""
    return "true" if float(count) < below else "false"


NOT_REPORTED = "not reported: no FBI figure for this city and year in the sources (a gap, not zero)"
NO_TABLE = "not reported: no FBI city table for this year in the sources"


def missing_reason(year: int, table_years: set[int]) -> str:
    """What a year without a row means: the city did not report (or was not published), or no city table
    exists for that year at all (2020, issue 12)."""
    return NOT_REPORTED if year in table_years else NO_TABLE


def export_filename(dataset: Dataset, state: ViewState, kind: str, ext: str) -> str:
    """A descriptive download name: ``atlas-trends-violent-crime-ratio-1985-2019-psp-2017.png``."""
    if len(state.cities) == 1:
        scope = dataset.label(state.cities[0])
    elif _is_cohort_selection(dataset, state):
        scope = state.cohort
    else:
        scope = f"{len(state.cities)}-cities"
    if kind == "outcomes":  # violent crime only, every year from 10 before joining (issue 14)
        parts = [kind, "violent_crime", scope]
    elif kind in ("map", "ranking"):
        parts = [kind, state.offence, state.measure if kind == "map" else "ratio", str(state.year)]
        if kind == "ranking":
            parts.append(f"threshold-{state.threshold:g}")
    else:
        parts = [kind, state.offence]
        if kind == "trends":
            parts.append(state.measure)
        parts += [f"{state.year_from}-{state.year_to}", scope]
    slug = re.sub(r"[^a-z0-9.]+", "-", "-".join(["atlas", *parts]).lower()).strip("-")
    return f"{slug}.{ext}"
