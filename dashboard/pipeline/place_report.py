"""COVERAGE.md on matching every FBI city-table row to a Census place: by year, size, state and rule."""

from __future__ import annotations

import pandas as pd

from dashboard.pipeline.place_names import RULES
from dashboard.schema import PEER_GROUPS

_REASON_COLUMNS = (
    ("county subdivision", "County subdivisions"),
    ("several jurisdictions", "Several jurisdictions"),
    ("not a city police", "Not a city police"),
    ("ambiguous", "Ambiguous"),
    ("not in the 2010 gazetteer", "Not in the 2010 gazetteer"),
)


def _rates(rows: pd.DataFrame, not_a_place: tuple[str, ...]) -> tuple[int, int, int, float]:
    """(rows, rows that are Census places, matched, match rate among the Census-place rows)."""
    places = rows[~rows["unmatched_reason"].isin(not_a_place)]
    matched = int(rows["place_geoid"].notna().sum())
    return len(rows), len(places), matched, (matched / len(places) if len(places) else float("nan"))


def _pct(value: float) -> str:
    return "–" if value != value else f"{value:.1%}"


def _reason_cells(rows: pd.DataFrame) -> str:
    counts = rows["unmatched_reason"].value_counts()
    return " | ".join(f"{int(counts.get(reason, 0)):,}" for reason, _ in _REASON_COLUMNS)


def by_year(matched: pd.DataFrame, not_a_place: tuple[str, ...]) -> list[str]:
    header = " | ".join(label for _, label in _REASON_COLUMNS)
    lines = [
        f"| Year | Rows | Census-place rows | Matched | Match rate (Census places) | {header} |",
        "|---|---|---|---|---|" + "---|" * len(_REASON_COLUMNS),
    ]
    for year, rows in matched.groupby("year"):
        total, places, hit, rate = _rates(rows, not_a_place)
        lines.append(f"| {year} | {total:,} | {places:,} | {hit:,} | {_pct(rate)} | {_reason_cells(rows)} |")
    return lines


def by_group(matched: pd.DataFrame, years: list[int], not_a_place: tuple[str, ...]) -> list[str]:
    header = " | ".join(label for _, label in _REASON_COLUMNS)
    lines = [
        f"| Year | Population group | Rows | Matched | Match rate (Census places) | {header} |",
        "|---|---|---|---|---|" + "---|" * len(_REASON_COLUMNS),
    ]
    for year in years:
        latest = matched[matched["year"] == year]
        for group, label, *_rest in PEER_GROUPS:
            rows = latest[latest["peer_group"] == group]
            total, _places, hit, rate = _rates(rows, not_a_place)
            lines.append(f"| {year} | {label} | {total:,} | {hit:,} | {_pct(rate)} | {_reason_cells(rows)} |")
    return lines


def by_state(matched: pd.DataFrame, years: list[int], not_a_place: tuple[str, ...]) -> list[str]:
    """Every state, the first and latest year side by side, worst latest rate first."""
    cells: dict[str, list[str]] = {}
    order: dict[str, tuple[float, int]] = {}
    for year in years:
        for state, rows in matched[matched["year"] == year].groupby("state"):
            total, _places, hit, rate = _rates(rows, not_a_place)
            subdivisions = int((rows["unmatched_reason"] == "county subdivision").sum())
            other = total - hit - subdivisions
            cells.setdefault(state, ["–"] * 4 * len(years))
            cells[state][4 * years.index(year) : 4 * years.index(year) + 4] = [
                f"{total:,}",
                _pct(rate),
                f"{subdivisions:,}",
                f"{other:,}",
            ]
            if year == years[-1]:
                order[state] = (1.0 if rate != rate else rate, -total)
    head = " | ".join(f"{y} rows | {y} rate | {y} subdivisions | {y} other unmatched" for y in years)
    lines = [f"| State | {head} |", "|---|" + "---|" * 4 * len(years)]
    for state in sorted(cells, key=lambda s: order.get(s, (2.0, 0))):
        lines.append(f"| {state} | {' | '.join(cells[state])} |")
    return lines


def by_rule(matched: pd.DataFrame, year: int) -> list[str]:
    lines = [f"| Rule | Rows, all years | Rows {year} | What it means |", "|---|---|---|---|"]
    hits = matched[matched["place_geoid"].notna()]
    for rule, text in RULES.items():
        every = int((hits["match_rule"] == rule).sum())
        latest = int(((hits["match_rule"] == rule) & (hits["year"] == year)).sum())
        lines.append(f"| {rule} | {every:,} | {latest:,} | {text} |")
    return lines


def evidence_counts(matched: pd.DataFrame) -> list[str]:
    """How each county subdivision was decided: the crosswalk's code, or which rule."""
    rows = matched[matched["unmatched_reason"] == "county subdivision"]
    kinds = rows["evidence"].where(~rows["evidence"].str.startswith("Data Commons"), "Data Commons crosswalk")
    lines = ["| Decided by | Rows, all years |", "|---|---|"]
    for evidence, count in kinds.value_counts().sort_index().items():
        lines.append(f"| {evidence} | {int(count):,} |")
    return lines


def markdown(matched: pd.DataFrame, not_a_place: tuple[str, ...]) -> list[str]:
    """The COVERAGE.md section (list of lines)."""
    years = sorted(int(y) for y in matched["year"].unique())
    first, latest = years[0], years[-1]
    rows = matched[matched["year"] == latest]
    total, places, hit, rate = _rates(rows, not_a_place)
    worst = min(_rates(r, not_a_place)[3] for _, r in matched.groupby("year"))
    return [
        "## Every row of the FBI city tables against every Census place",
        "",
        f"{total:,} rows in the {latest} city table; {hit:,} ({hit / total:.1%}) match one Census place of "
        f"the 2010 gazetteer. {total - places:,} rows are no single Census place (county subdivisions: towns "
        "and townships, which have no place polygon; joint police of several places), so of the "
        f"{places:,} rows that are Census places {_pct(rate)} match; the lowest year is {_pct(worst)}. "
        "Matching is by state and name under the stated rules below, plus the alias table "
        "`dashboard/pipeline/aliases.csv` (each row says why); nothing is matched by similarity. Every "
        "unmatched row of every year, with its reason and evidence, is in `unmatched_places.csv`.",
        "",
        "County subdivisions are decided by a listed source where it speaks: Data Commons' FBI-city "
        "crosswalk (`crosswalk/datacommons_fbi_city_geocodes.csv`, city tables 2008–2019) codes a name as a "
        "10-digit county subdivision. Names it does not list are decided by "
        "a rule, counted below. The source that would settle them is the Census Gazetteer of county "
        "subdivisions (`2010_Gaz_cousubs_national.txt`, or the TIGER/Line `COUSUB` files for their "
        "polygons), not in `../shared/sources` yet.",
        "",
        *by_year(matched, not_a_place),
        "",
        "By FBI population group, first and latest table:",
        "",
        *by_group(matched, [first, latest], not_a_place),
        "",
        "How the county subdivisions were decided:",
        "",
        *evidence_counts(matched),
        "",
        "How the matched rows were matched:",
        "",
        *by_rule(matched, latest),
        "",
        f"Every state, first and latest table (rate = matched / rows that are Census places; worst {latest} "
        "rate first):",
        "",
        *by_state(matched, [first, latest], not_a_place),
        "",
    ]
