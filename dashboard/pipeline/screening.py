"""Run every plausibility screen on a build and word the result as ``geodata/SCREENING.md``."""

from __future__ import annotations

import pandas as pd

from dashboard.pipeline import screens as s

PENDING: tuple[tuple[str, str], ...] = ()  # screens named by issue 16 that cannot run yet (none left)


def run_screens(
    city_years: pd.DataFrame, breaks: pd.DataFrame, cities: dict, t: dict, metro: pd.DataFrame | None = None
) -> list[tuple[str, str, pd.DataFrame]]:
    """(screen, threshold in words, hits) for every screen, thresholds from ``screens.json``; ``metro``
    holds the CIUS MSA tables' area totals per principal city (geoid, year, metro_*)."""
    jump = t["rate_jump"]
    results = [
        (
            f"rate jump ({offence.replace('_', ' ')})",
            f"rate ×{jump['up']:g} or more, or ×{jump['down']:g} or less, on the year before; "
            "no break recorded",
            s.rate_jumps(city_years, breaks, offence, jump["up"], jump["down"]),
        )
        for offence in jump["offences"]
    ]
    results += [
        (
            "population change",
            f"agency population moves by more than {t['population_change']['limit']:.0%} in a year; no break",
            s.population_changes(city_years, breaks, t["population_change"]["limit"]),
        ),
        (
            "near-zero violence",
            f"under {t['near_zero_violence']['max_rate']:g} violent crime per 100,000 for "
            f"{t['near_zero_violence']['min_population']:,}+ people",
            s.near_zero_violence(
                city_years, t["near_zero_violence"]["min_population"], t["near_zero_violence"]["max_rate"]
            ),
        ),
        (
            "parts ≠ total",
            f"a total off the sum of its parts by more than {t['parts_total']['share']:.0%} "
            f"(and {t['parts_total']['minimum']})",
            s.parts_not_adding_up(city_years, t["parts_total"]["share"], t["parts_total"]["minimum"]),
        ),
        (
            "fewer than 12 months",
            "the source says the counts cover fewer than 12 months (`months_reported`)",
            s.part_years(city_years),
        ),
        (
            "city above metro total",
            "a city's violent crime or murder above its own metro area's total (CIUS MSA tables, same year)",
            s.above_metro_total(city_years, metro if metro is not None else _NO_METRO),
        ),
        (
            "mixed sources",
            "one row's figures come from more than one source file",
            s.mixed_sources(city_years),
        ),
        (
            "agency population ≠ place",
            f"FBI population outside {t['agency_population']['low']:g}–{t['agency_population']['high']:g}× "
            "the Census population of the place (same year)",
            s.agency_population_mismatch(
                city_years, cities, t["agency_population"]["low"], t["agency_population"]["high"]
            ),
        ),
        (
            "polygon beyond land",
            f"drawn polygon more than {t['polygon_land']['limit']:g}× the place's land area",
            s.polygon_beyond_land(cities, t["polygon_land"]["limit"]),
        ),
    ]
    return results


_NO_METRO = pd.DataFrame(
    columns=["geoid", "year", "metro_area", "metro_violent_crime", "metro_murder"]
).astype({"year": int})


def _disposition_of(chosen: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    return {(r.geoid, r.year, r.screen): r.disposition for r in chosen.itertuples()}


def _key(geoid: str, year, screen: str) -> tuple[str, str, str]:
    return str(geoid), "" if pd.isna(year) else str(int(year)), screen


def screening_markdown(
    found: list[tuple[str, str, pd.DataFrame]],
    remaining: list[tuple[str, str, pd.DataFrame]],
    chosen: pd.DataFrame,
    labels: dict[str, str],
) -> str:
    """The report: each screen, its threshold, its hits and what was decided for each (withheld,
    flagged, or cleared: a jump back from a withheld neighbour, gone once that year is withheld)."""
    decided = _disposition_of(chosen)
    still = {
        _key(g, y, name)
        for name, _, hits in remaining
        for g, y in zip(hits["geoid"], hits["year"], strict=True)
    }

    def outcome(geoid: str, year, screen: str) -> str:
        key = _key(geoid, year, screen)
        return decided.get(key) or ("cleared" if key not in still else "open")

    total = sum(len(hits) for _, _, hits in found)
    lines = [
        "# Plausibility screens",
        "",
        "Written by `python -m dashboard.pipeline build` on every build (`dashboard/pipeline/screens.py`,",
        "thresholds in `dashboard/pipeline/screens.json`). A hit is a figure that may mislead a reader if",
        "charted as it is. Each hit has a disposition in `geodata/screening.csv` (reason and source per",
        "row), or the build fails: **withheld** (the figures are blanked: a gap on every chart, the reason",
        "in the row's notes), **flagged** (kept; the reason is in the row's notes, shown in the CSV export",
        "and the data notes), or **cleared** (a change measured against a figure that was withheld, gone",
        "once that figure is withheld).",
        "",
        f"{total:,} hits in all.",
        "",
        "| Screen | Threshold | Hits | Withheld | Flagged | Cleared |",
        "|---|---|---|---|---|---|",
    ]
    for name, threshold, hits in found:
        outcomes = [outcome(g, y, name) for g, y in zip(hits["geoid"], hits["year"], strict=True)]
        counts = [outcomes.count(kind) for kind in ("withheld", "flagged", "cleared")]
        lines.append(f"| {name} | {threshold} | {len(hits):,} | " + " | ".join(str(c) for c in counts) + " |")
    lines += [f"| {name} | not run: {reason} | – | – | – | – |" for name, reason in PENDING]
    lines.append("")
    for name, _threshold, hits in found:
        if hits.empty:
            continue
        lines += [
            f"## {name} ({len(hits):,})",
            "",
            "| Place | Year | Value | Why | Disposition |",
            "|---|---|---|---|---|",
        ]
        for hit in hits.sort_values(["geoid", "year"], key=lambda c: c.astype(str)).itertuples():
            year = "" if pd.isna(hit.year) else int(hit.year)
            decision = outcome(hit.geoid, hit.year, name)
            lines.append(
                f"| {labels.get(hit.geoid, hit.geoid)} | {year} | {hit.value} | {hit.why} | {decision} |"
            )
        lines.append("")
    found_keys = {
        _key(g, y, name) for name, _, hits in found for g, y in zip(hits["geoid"], hits["year"], strict=True)
    }
    ahead = [r for r in chosen.itertuples() if _key(r.geoid, r.year or pd.NA, r.screen) not in found_keys]
    if ahead:
        lines += [
            f"## Decided ahead of a hit ({len(ahead)})",
            "",
            "A figure withheld because it would make the hits of a neighbouring year (those then show as",
            "cleared above).",
            "",
            "| Place | Year | Screen | Disposition | Withheld | Reason |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {labels.get(r.geoid, r.geoid)} | {r.year} | {r.screen} | {r.disposition} | "
            f"{r.offences.replace(';', ', ')} | {r.reason} |"
            for r in ahead
        ]
        lines.append("")
    return "\n".join(lines)
