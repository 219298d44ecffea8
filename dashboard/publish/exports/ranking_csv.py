"""``/export/ranking.csv`` (issue 13): every place the ranking ranks, with its peers, for the view's year."""

from __future__ import annotations

import csv
import io

from dashboard.data.caution import small_count_below
from dashboard.data.dataset import Dataset
from dashboard.data.state import ViewState
from dashboard.publish.exports.csv import _cell, comment_header, small_cell
from dashboard.views.ranking import _ranked, universe_words

RANKING_COLUMNS = (
    "rank",
    "place",
    "place_key",
    "place_kind",
    "year",
    "offence",
    "count",
    "population",
    "rate_per_100k",
    "national_rate_per_100k",
    "ratio_to_national",
    "peer_group",
    "peer_rate_per_100k",
    "ratio_to_peer",
    "years_in_a_row_at_or_above_threshold",
    "highlighted_cohort",
    "source",
    "small_count",
)


def ranking_csv(dataset: Dataset, state: ViewState) -> str:
    """Every ranked place of the view (not only the rows a table shows), highest ratio first. place_key is
    the Census GEOID, or "ST: name" for a county subdivision or a row no Census place matched."""
    out = io.StringIO()
    out.write(
        comment_header(
            dataset,
            state,
            f"{universe_words(state)} ranked by ratio to the national rate",
            source_note="; peer rates derived from the FBI city tables (geodata/peer_groups_year.csv)",
            notes=(
                f"Empty cell = not available (never zero). Threshold {state.threshold:g}x; a missing year "
                "ends a run of years in a row. The FBI cautions against ranking places on these figures "
                "alone.",
            ),
        )
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RANKING_COLUMNS)
    below = small_count_below()
    for r in _ranked(dataset, state).itertuples():
        writer.writerow(
            [
                int(r.rank),
                r.label,
                r.geoid,
                getattr(r, "place_kind", "census place"),
                state.year,
                state.offence,
                _cell(r.count),
                _cell(r.population),
                _cell(r.rate, 1),
                _cell(r.national_rate, 1),
                _cell(r.ratio, 2),
                r.peer_group,
                _cell(r.peer_rate, 1),
                _cell(r.ratio_to_peer, 2),
                int(r.streak),
                "" if r.highlight == "other" else r.highlight,
                r.source,
                small_cell(r.count, below),
            ]
        )
    return out.getvalue()
