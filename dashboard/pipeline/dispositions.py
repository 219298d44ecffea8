"""Dispositions of the plausibility screens' hits (``geodata/screening.csv``, curated and reviewed like
code): every hit is withheld (a gap, with the reason in the row's notes) or kept with a flag (the reason
in the notes, which the CSV export and the data notes show); a hit without one stops the build."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboard.errors import DataFileError
from dashboard.schema import FLAG_PREFIX, NOTE_SEPARATOR, OFFENCES, WITHHELD_PREFIX

DISPOSITIONS = ("withheld", "flagged")
# What a withholding may blank: offence counts, or the population (a denominator from another time or
# area: the counts stay, the rates become gaps).
WITHHOLDABLE = (*OFFENCES, "population")
COLUMNS = ["geoid", "year", "screen", "disposition", "offences", "reason", "source"]
FILE = "screening.csv"


def read_dispositions(path: Path, screens: set[str]) -> pd.DataFrame:
    """The curated dispositions, checked: known screens and dispositions, offences, a reason and a source."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(frame.columns) != COLUMNS:
        raise DataFileError(path, f"columns must be {', '.join(COLUMNS)}", 1)
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        problem = None
        if row.screen not in screens:
            problem = f"unknown screen {row.screen!r}"
        elif row.disposition not in DISPOSITIONS:
            problem = f"disposition must be one of {', '.join(DISPOSITIONS)}"
        elif row.offences != "all" and not set(row.offences.split(";")) <= set(WITHHOLDABLE):
            problem = f"offences must be 'all' or ';'-separated offences or population: {row.offences!r}"
        elif not row.reason.strip() or not row.source.strip():
            problem = "every disposition needs a reason and a source"
        elif row.year and not row.year.isdigit():
            problem = f"year must be empty or a year, not {row.year!r}"
        if problem:
            raise DataFileError(path, problem, number)
    return frame


def _key(geoid: str, year, screen: str) -> tuple[str, str, str]:
    return str(geoid), "" if pd.isna(year) or year == "" else str(int(year)), screen


def undisposed(hits: pd.DataFrame, dispositions: pd.DataFrame) -> pd.DataFrame:
    """The hits no disposition answers."""
    known = {_key(r.geoid, r.year, r.screen) for r in dispositions.itertuples()}
    mask = [
        _key(g, y, s) not in known
        for g, y, s in zip(hits["geoid"], hits["year"], hits["screen"], strict=True)
    ]
    return hits[mask]


def _rows(city_years: pd.DataFrame, disposition) -> pd.Series:
    return (city_years["geoid"] == disposition.geoid) & (city_years["year"] == int(disposition.year))


def _note(notes, text: str) -> str:
    return text if pd.isna(notes) or not str(notes).strip() else f"{notes}{NOTE_SEPARATOR}{text}"


def apply_withheld(city_years: pd.DataFrame, dispositions: pd.DataFrame) -> pd.DataFrame:
    """Blank the withheld figures (a gap, never a zero) and say why in the row's notes."""
    result = city_years.copy()
    for d in dispositions[dispositions["disposition"] == "withheld"].itertuples():
        mask = _rows(result, d)
        columns = list(OFFENCES) if d.offences == "all" else d.offences.split(";")
        result.loc[mask, columns] = pd.NA
        result.loc[mask, "notes"] = [
            _note(n, f"{WITHHELD_PREFIX}{d.reason}") for n in result.loc[mask, "notes"]
        ]
    return result


def outline_notes(cities: dict, hits: pd.DataFrame, dispositions: pd.DataFrame) -> None:
    """Write ``outline_note`` on each city whose drawn outline was flagged as holding water, so the map's
    hover says so (the figures are not affected: only the shape drawn)."""
    flagged = {
        r.geoid
        for r in dispositions.itertuples()
        if r.screen == "polygon beyond land" and r.disposition == "flagged"
    }
    ratio = {g: v for g, v in zip(hits["geoid"], hits["value"], strict=True) if g in flagged}
    for feature in cities["features"]:
        geoid = feature["properties"]["geoid"]
        if geoid in ratio:
            note = f"outline includes water ({ratio[geoid]:g}× its land area)"
            feature["properties"]["outline_note"] = note


def apply_flags(city_years: pd.DataFrame, dispositions: pd.DataFrame) -> pd.DataFrame:
    """Put each flag's reason in the notes of the place-year it concerns (a flag without a year, about a
    place's outline, is reported in SCREENING.md only)."""
    result = city_years.copy()
    for d in dispositions[
        (dispositions["disposition"] == "flagged") & (dispositions["year"] != "")
    ].itertuples():
        mask = _rows(result, d)
        result.loc[mask, "notes"] = [_note(n, f"{FLAG_PREFIX}{d.reason}") for n in result.loc[mask, "notes"]]
    return result
