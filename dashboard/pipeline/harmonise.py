"""Combine the parsed sources into one row per city-year, by a fixed precedence rule.

The rule (documented in geodata/SOURCES.md): for each city-year the *primary* row is the
one from the highest-ranked source kind (``schema.SOURCE_KINDS``). A value the primary
row leaves blank is filled from the next-ranked source that has it, and the row's
``source`` and ``notes`` say which value came from where. Nothing is interpolated: a
city-year that no source has does not exist in the output.
"""

from __future__ import annotations

import logging

import pandas as pd

from dashboard.schema import OFFENCES, SOURCE_KINDS

log = logging.getLogger(__name__)

VALUE_COLUMNS: tuple[str, ...] = ("population", *OFFENCES)
CITY_YEAR_COLUMNS: tuple[str, ...] = (
    "geoid",
    "year",
    "population",
    *OFFENCES,
    "rape_definition",
    "source",
    "notes",
    "months_reported",  # appended (issue 16): empty where no source says
)
# Values whose definition travels with the rape figure: fill them together or not at all.
_RAPE_LINKED = ("violent_crime", "rape")
# A source kind may be restricted to the values it is trusted for as a *filler*.
_FILL_ONLY: dict[str, tuple[str, ...]] = {"marshall_project": ("violent_crime",)}


def _join_notes(parts: list[str]) -> str:
    seen: list[str] = []
    for part in parts:
        for piece in str(part).split(" | "):
            piece = piece.strip()
            if piece and piece not in seen:
                seen.append(piece)
    return " | ".join(seen)


def _combine_city_year(rows: pd.DataFrame) -> dict[str, object]:
    """One harmonised record from all source rows of a single (geoid, year)."""
    rows = rows.sort_values(["_rank", "source"], kind="stable")
    primary = rows.iloc[0]
    record: dict[str, object] = {c: primary[c] for c in VALUE_COLUMNS}
    rape_definition = primary["rape_definition"]
    notes = [primary["notes"]]
    fills: dict[str, list[str]] = {}

    for _, donor in rows.iloc[1:].iterrows():
        allowed = _FILL_ONLY.get(donor["source_kind"], OFFENCES)
        gaps = [c for c in OFFENCES if c in allowed and pd.isna(record[c]) and pd.notna(donor[c])]
        if not gaps:
            continue
        if any(c in _RAPE_LINKED for c in gaps):
            rape_definition = donor["rape_definition"]
        for column in gaps:
            record[column] = donor[column]
            fills.setdefault(donor["source"], []).append(column)
        if donor["notes"]:
            notes.append(donor["notes"])

    source = primary["source"]
    if fills:
        extra = "; ".join(f"{src} ({', '.join(cols)})" for src, cols in fills.items())
        source = f"{source} + {extra}"
        notes.append(
            "values filled from a lower-precedence source: "
            + "; ".join(f"{', '.join(cols)} from {src}" for src, cols in fills.items())
        )
    months, months_note = _months_reported(rows, record)
    if months_note:
        notes.append(months_note)
    record.update(
        months_reported=months,
        geoid=primary["geoid"],
        year=int(primary["year"]),
        rape_definition=rape_definition,
        source=source,
        notes=_join_notes(notes),
    )
    return record


def _months_reported(rows: pd.DataFrame, record: dict) -> tuple[object, str]:
    """The months the shown counts cover, from a source row that states them *for the same counts*.

    Only the Marshall Project file states months. Its months describe its own count, so they are taken
    only where that row's violent-crime and murder counts are the ones shown; otherwise the months stay
    unknown and the note says what the other source claimed.
    """
    stating = rows[rows["months_reported"].notna()] if "months_reported" in rows else rows.iloc[0:0]
    for _, row in stating.iterrows():
        compared = [
            int(row[c]) == int(record[c])
            for c in ("violent_crime", "murder")
            if pd.notna(row[c]) and pd.notna(record[c])
        ]
        if compared and all(compared):
            return int(row["months_reported"]), ""
    if len(stating) and int(stating.iloc[0]["months_reported"]) < 12:
        row = stating.iloc[0]
        return pd.NA, (
            f"{row['source']} gives {int(row['months_reported'])} of 12 months for a different count; "
            "the months behind the count shown are not stated"
        )
    return pd.NA, ""


def harmonise(matched: pd.DataFrame) -> pd.DataFrame:
    """Collapse matched source rows (RAW_CITY_COLUMNS + ``geoid``) to one row per city-year."""
    unknown = set(matched["source_kind"]) - set(SOURCE_KINDS)
    if unknown:
        raise ValueError(f"unknown source_kind(s): {sorted(unknown)}")
    usable = matched.dropna(subset=["geoid"]).copy()
    usable["_rank"] = usable["source_kind"].map({k: i for i, k in enumerate(SOURCE_KINDS)})
    has_value = usable[list(VALUE_COLUMNS)].notna().any(axis=1)
    usable = usable[has_value]
    records = [_combine_city_year(group) for _, group in usable.groupby(["geoid", "year"], sort=True)]
    result = pd.DataFrame.from_records(records, columns=list(CITY_YEAR_COLUMNS))
    for column in (*VALUE_COLUMNS, "months_reported"):
        result[column] = result[column].astype("Int64")
    result["year"] = result["year"].astype(int)
    return result.sort_values(["geoid", "year"], kind="stable").reset_index(drop=True)


def apply_breaks(city_years: pd.DataFrame, breaks: pd.DataFrame) -> pd.DataFrame:
    """Append the curated break/caveat notes (``breaks.csv``) to the affected city-years."""
    result = city_years.copy()
    for row in breaks.itertuples():
        mask = (
            (result["geoid"] == row.geoid)
            & (result["year"] >= int(row.year_from))
            & (result["year"] <= int(row.year_to))
        )
        if not mask.any():
            log.info("break note for %s %s-%s matches no city-year", row.geoid, row.year_from, row.year_to)
        result.loc[mask, "notes"] = [_join_notes([n, row.note]) for n in result.loc[mask, "notes"]]
    return result
