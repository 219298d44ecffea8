"""Plain-language data notes for a selection: gaps, breaks, definition caveats and sources."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .data import Dataset, city_series, national_for_display
from .pipeline.coverage import source_kind_label, year_ranges


@dataclass(frozen=True)
class CityNotes:
    geoid: str
    label: str
    items: tuple[str, ...]


def _grouped(rows: pd.DataFrame, column: str) -> list[tuple[str, str]]:
    """(year ranges, text) for each distinct non-empty text in ``column``."""
    out = []
    for text, group in rows.groupby(column, sort=False):
        for piece in str(text).split(" | "):
            if piece.strip():
                out.append((year_ranges(group["year"]), piece.strip()))
    merged: dict[str, list[str]] = {}
    for span, piece in out:
        merged.setdefault(piece, []).append(span)
    return [(", ".join(spans), piece) for piece, spans in merged.items()]


def city_notes(
    dataset: Dataset, geoids: list[str], offence: str, year_from: int, year_to: int
) -> list[CityNotes]:
    series = city_series(dataset, geoids, offence)
    series = series[(series["year"] >= year_from) & (series["year"] <= year_to)]
    result = []
    offence_label = dataset.offence_label(offence).lower()
    for geoid in geoids:
        rows = series[series["geoid"] == geoid]
        items: list[str] = []
        missing = sorted(set(range(year_from, year_to + 1)) - set(rows.dropna(subset=["rate"])["year"]))
        if missing:
            items.append(
                f"No {offence_label} rate for {year_ranges(missing)}: shown as a gap, never as zero."
            )
        brk = dataset.breaks[
            (dataset.breaks["geoid"] == geoid)
            & (dataset.breaks["year_to"] >= year_from)
            & (dataset.breaks["year_from"] <= year_to)
        ]
        for b in brk.itertuples():
            span = str(b.year_from) if b.year_from == b.year_to else f"{b.year_from}–{b.year_to}"
            items.append(f"{span}: {b.note} (Source: {b.source}.)")
        break_texts = set(brk["note"])
        for span, text in _grouped(rows, "notes"):
            if text not in break_texts:
                items.append(f"{span}: {text}")
        kinds = rows.assign(kind=rows["source"].map(source_kind_label))
        sources = "; ".join(f"{span} {text}" for span, text in _grouped(kinds, "kind"))
        if sources:
            items.append(f"Sources: {sources} (the exact table for each year is in crime_city_year.csv).")
        result.append(CityNotes(geoid, dataset.label(geoid), tuple(items)))
    return result


def general_notes(dataset: Dataset, offence: str, year_from: int, year_to: int) -> list[str]:
    items = []
    if bool(dataset.offences.at[offence, "rape_linked"]) and year_from <= 2016 and year_to >= 2013:
        items.append(
            "Rape definition: in 2013 the FBI broadened the definition of rape. For 2013–2016 each city's "
            "figure uses the definition the city reported (revised or legacy) and is compared with the "
            "national figure under the same definition; from 2017 only the revised definition is published, "
            "and cities that still reported legacy rape have blank rape and violent crime totals."
        )
    national = national_for_display(dataset, offence)
    national = national[(national["year"] >= year_from) & (national["year"] <= year_to)]
    for span, text in _grouped(national, "source"):
        items.append(f"National series {span}: {text}.")
    items.append("Populations are the FBI's agency populations; rates per 100,000 are computed from counts.")
    return items
