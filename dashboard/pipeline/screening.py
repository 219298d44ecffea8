"""Run every plausibility screen on a build and word the result as ``geodata/SCREENING.md``."""

from __future__ import annotations

import pandas as pd

from dashboard.pipeline import screens as s

PENDING = (
    ("fewer than 12 months reported", "the contract has no months-reported column yet (issue 16)"),
    (
        "city figure above its metro area's total",
        "the MSA parser does not keep the metro totals yet (issue 16)",
    ),
)


def run_screens(
    city_years: pd.DataFrame, breaks: pd.DataFrame, cities: dict, t: dict
) -> list[tuple[str, str, pd.DataFrame]]:
    """(screen, threshold in words, hits) for every screen, thresholds from ``screens.json``."""
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


def screening_markdown(results: list[tuple[str, str, pd.DataFrame]], labels: dict[str, str]) -> str:
    """The report: each screen, its threshold and its hits (place, year, value, why)."""
    total = sum(len(hits) for _, _, hits in results)
    lines = [
        "# Plausibility screens",
        "",
        "Written by `python -m dashboard.pipeline build` on every build (`dashboard/pipeline/screens.py`,",
        "thresholds in `dashboard/pipeline/screens.json`). A hit is a figure that may mislead a reader if",
        "charted as it is. **Dispositions (corrected, withheld or flagged) are not recorded yet**: until",
        "they are, a hit below is a figure to read with care, not a known error.",
        "",
        f"{total:,} hits in all.",
        "",
        "| Screen | Threshold | Hits |",
        "|---|---|---|",
        *[f"| {name} | {threshold} | {len(hits):,} |" for name, threshold, hits in results],
        *[f"| {name} | not run: {reason} | – |" for name, reason in PENDING],
        "",
    ]
    for name, _threshold, hits in results:
        if hits.empty:
            continue
        lines += [f"## {name} ({len(hits):,})", "", "| Place | Year | Value | Why |", "|---|---|---|---|"]
        for hit in hits.sort_values(["geoid", "year"], key=lambda c: c.astype(str)).itertuples():
            year = "" if pd.isna(hit.year) else int(hit.year)
            lines.append(f"| {labels.get(hit.geoid, hit.geoid)} | {year} | {hit.value} | {hit.why} |")
        lines.append("")
    return "\n".join(lines)
