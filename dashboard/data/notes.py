"""Plain-language data notes for a selection: gaps, breaks, definition caveats and sources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.measures import city_series, national_for_display
from dashboard.schema import FLAG_PREFIX, NOTE_SEPARATOR, WITHHELD_PREFIX, source_kind_label, year_ranges


@dataclass(frozen=True)
class CityNotes:
    geoid: str
    label: str
    items: tuple[str, ...]


def review_flags(notes: object) -> str:
    """The screens' flags and withholdings among a city-year's notes (the CSV's ``flags`` column)."""
    if not isinstance(notes, str):
        return ""
    parts = notes.split(NOTE_SEPARATOR)
    return NOTE_SEPARATOR.join(p for p in parts if p.startswith((FLAG_PREFIX, WITHHELD_PREFIX)))


def _grouped(rows: pd.DataFrame, column: str) -> list[tuple[str, str]]:
    """(year ranges, text) for each distinct non-empty text in ``column``."""
    return _grouped_pairs(zip(rows["year"].tolist(), rows[column].tolist(), strict=True))


def _grouped_pairs(pairs: Iterable[tuple[int, object]]) -> list[tuple[str, str]]:
    """:func:`_grouped` over (year, text) pairs: texts in order of first appearance, missing ones
    skipped, " | "-joined texts split, and each piece's year ranges merged."""
    by_text: dict[str, list[int]] = {}
    for year, text in pairs:
        if not pd.isna(text):
            by_text.setdefault(str(text), []).append(year)
    merged: dict[str, list[str]] = {}
    for text, years in by_text.items():
        span = year_ranges(years)
        for piece in text.split(" | "):
            if piece.strip():
                merged.setdefault(piece.strip(), []).append(span)
    return [(", ".join(spans), piece) for piece, spans in merged.items()]


def city_notes(
    dataset: Dataset,
    geoids: list[str],
    offence: str,
    year_from: int,
    year_to: int,
    series: pd.DataFrame | None = None,
) -> list[CityNotes]:
    """Notes per city. ``series`` may be every city's ``city_series`` for the offence (a cached one):
    the rows are then picked here instead of recomputed. One pass over plain lists, not one pandas
    filter per city (28 cities took about a second that way)."""
    if series is None:
        series = city_series(dataset, geoids, offence)
    series = series[
        (series["year"] >= year_from) & (series["year"] <= year_to) & series["geoid"].isin(geoids)
    ]
    rows: dict[str, list[tuple]] = {g: [] for g in geoids}
    for row in zip(
        series["geoid"].tolist(),
        series["year"].tolist(),
        series["rate"].notna().tolist(),
        series["notes"].tolist(),
        series["source"].tolist(),
        strict=True,
    ):
        rows[row[0]].append(row)
    breaks = dataset.breaks
    breaks = breaks[
        breaks["geoid"].isin(geoids) & (breaks["year_to"] >= year_from) & (breaks["year_from"] <= year_to)
    ]
    breaks_by_city: dict[str, list] = {}
    for brk in breaks.itertuples():
        breaks_by_city.setdefault(brk.geoid, []).append(brk)
    result = []
    offence_label = dataset.offence_label(offence).lower()
    table_years = set(dataset.years)
    for geoid in geoids:
        city = rows[geoid]
        items: list[str] = program_items(dataset, geoid)
        with_rate = {year for _g, year, has_rate, _n, _s in city if has_rate}
        missing = sorted(set(range(year_from, year_to + 1)) - with_rate)
        no_table = [y for y in missing if y not in table_years]  # 2020: no city table at all (issue 12)
        if missing:
            why = f" ({year_ranges(no_table)}: no FBI city table in the sources)" if no_table else ""
            items.append(
                f"No {offence_label} rate for {year_ranges(missing)}{why}: shown as a gap, never as zero."
            )
        brk = breaks_by_city.get(geoid, [])
        for b in brk:
            span = str(b.year_from) if b.year_from == b.year_to else f"{b.year_from}–{b.year_to}"
            items.append(f"{span}: {b.note} (Source: {b.source}.)")
        break_texts = {b.note for b in brk}
        for span, text in _grouped_pairs((year, note) for _g, year, _r, note, _s in city):
            if text not in break_texts:
                items.append(f"{span}: {text}")
        kinds = _grouped_pairs((year, source_kind_label(source)) for _g, year, _r, _n, source in city)
        sources = "; ".join(f"{span} {text}" for span, text in kinds)
        if sources:
            items.append(f"Sources: {sources} (the exact table for each year is in crime_city_year.csv).")
        result.append(CityNotes(geoid, dataset.label(geoid), tuple(items)))
    return result


@lru_cache(maxsize=16)
def national_display(dataset: Dataset, offence: str) -> pd.DataFrame:
    """``data.national_for_display`` cached per dataset and offence (about 10 ms each time otherwise):
    the notes and the trends chart read it on every selection change. Callers must not mutate it."""
    return national_for_display(dataset, offence)


def general_notes(dataset: Dataset, offence: str, year_from: int, year_to: int) -> list[str]:
    items = []
    if bool(dataset.offences.at[offence, "rape_linked"]) and year_from <= 2016 and year_to >= 2013:
        items.append(
            "Rape definition: in 2013 the FBI broadened the definition of rape. For 2013–2016 each city's "
            "figure uses the definition the city reported (revised or legacy) and is compared with the "
            "national figure under the same definition; from 2017 only the revised definition is published, "
            "and cities that still reported legacy rape have blank rape and violent crime totals."
        )
    national = national_display(dataset, offence)
    national = national[(national["year"] >= year_from) & (national["year"] <= year_to)]
    for span, text in _grouped(national, "source"):
        items.append(f"National series {span}: {text}.")
    for span, text in _grouped(national, "notes"):
        if text.startswith(NATIONAL_CAVEATS):  # derived 2020, FBI revisions, partial reporting (issue 12)
            items.append(f"National {span}: {text}.")
    if year_to >= NIBRS_ONLY_FROM - 1:
        items.append(AFTER_2019_NOTE)
    if dataset.peers is not None:
        peer_years = year_ranges(dataset.peers["year"])
        items.append(PEERS_NOTE.format(years=peer_years))
    items.append("Populations are the FBI's agency populations; rates per 100,000 are computed from counts.")
    return items


NIBRS_ONLY_FROM = 2021
AFTER_2019_NOTE = (
    "After 2019: no FBI city table for 2020 (or 2023) is in the sources, so no city has a figure for those "
    "years; 2021 was the FBI's first NIBRS-only year and many agencies sent no data (Chicago, Baltimore, "
    "Philadelphia and Phoenix among them): such a city-year is a gap, never a zero, and the trends note "
    "counts the cities with a figure each year. Figures from the FBI county table (county sites) have no "
    "population, so counts only. The Real-Time Crime Index's monthly agency counts, which cover some later "
    "months, are not shown: they are not FBI-verified and would mix two series."
)
PEERS_NOTE = (
    "Places of its size: each city-year is also compared with all places of its FBI population group "
    "(250,000+, 100,000-249,999, 50,000-99,999, 25,000-49,999, 10,000-24,999, under 10,000) that year, "
    "summed from every row of the FBI city table ({years}; the dotted green line in rate mode, "
    "peer_rate_per_100k in the CSV). For 2013-2015 the sums agree with the FBI's own group table within 2% "
    "for places of 10,000+; the under-10,000 group is indicative only."
)
# National notes a reader must see in the data notes, not only in the CSV (issue 12).
NATIONAL_CAVEATS = ("derived:", "revised by the FBI", "FBI estimate for the whole country")


def program_items(dataset: Dataset, geoid: str) -> list[str]:
    """A city's program memberships with their citation, flagged where no source confirms them."""
    programs = dataset.programs[dataset.programs["geoid"] == geoid]
    items = []
    for row in programs.itertuples():
        kind = "county site" if row.geography == "county" else "site"
        cited = f"{row.source_title} ({row.source_url})" if row.source_title else row.source_url
        line = f"{row.cohort} {kind}, announced {row.announced} ({row.role}). Source: {cited}."
        if row.status == "unconfirmed":
            line = f"Membership UNCONFIRMED — {line} {str(row.note).removeprefix('UNCONFIRMED: ')}"
        items.append(line)
    return items
