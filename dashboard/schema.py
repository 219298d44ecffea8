"""The shared shape of every parsed source table.

Each source parser in :mod:`dashboard.pipeline.sources` returns a DataFrame with
``RAW_CITY_COLUMNS`` (city tables) or ``NATIONAL_COLUMNS`` (US series). Keeping one
shape lets the harmonisation step apply a single precedence rule to every source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

OFFENCES: tuple[str, ...] = (
    "violent_crime",
    "murder",
    "rape",
    "robbery",
    "aggravated_assault",
    "property_crime",
    "burglary",
    "larceny_theft",
    "motor_vehicle_theft",
)

RAPE_DEFINITIONS: tuple[str, ...] = ("legacy", "revised")

# What a city-table parser returns, one row per agency-year as printed in the source.
#   state:  USPS code ("IL"); when the source only gives a multi-state MSA, candidate
#           codes joined by "|" ("TN|MS|AR") and the matcher resolves it.
#   agency: the agency/city label exactly as printed (footnote digits included);
#           normalising names is the matcher's job, not the parser's.
#   year:   int; population and offences: nullable Int64 counts, <NA> when the
#           source cell is blank or not published (never 0 for missing).
#   rape_definition: "legacy" | "revised" — the definition of the rape figure that
#           the row's rape and violent_crime counts use.
#   source: a short human citation of the exact table, e.g. "FBI CIUS 2015 Table 8",
#           "FBI CIUS 2012 Table 6 (MSA)", "FBI UCR Data Tool", "Kaplan Return A extract",
#           "Marshall Project city-crime"; documented in geodata/SOURCES.md.
#   source_kind: one of SOURCE_KINDS below (decides precedence).
#   notes:  plain-language caveats for that row ("" if none), e.g. the source's own
#           footnote text, "6 of 12 months reported".
RAW_CITY_COLUMNS: tuple[str, ...] = (
    "state",
    "agency",
    "year",
    "population",
    *OFFENCES,
    "rape_definition",
    "source",
    "source_kind",
    "notes",
    "months_reported",
)
# months_reported: nullable Int64, 1-12 where the source states how many months of the year its count
#           covers (the Marshall Project's ICPSR column); <NA> where it does not say (every other source).

# How the plausibility screens' dispositions are written into a city-year's notes (pipeline/dispositions.py),
# and read back out for the CSV's ``flags`` column and the map hover. Notes are joined with NOTE_SEPARATOR.
NOTE_SEPARATOR = " | "
FLAG_PREFIX = "Flag: "
WITHHELD_PREFIX = "Withheld after review: "

NATIONAL_COLUMNS: tuple[str, ...] = (
    "year",
    "population",
    *OFFENCES,
    "rape_definition",
    "source",
    "notes",
)

# Source kinds in order of precedence (highest first). For each city-year and each
# value, the harmonised table takes the value from the highest-ranked kind that has it.
SOURCE_KINDS: tuple[str, ...] = (
    "cius_city_table",  # FBI CIUS city table of that year's edition (Table 8; 2016: Table 6)
    "cius_msa_table",  # principal-city rows of the FBI CIUS metro-area tables
    "cius_county_table",  # CIUS Table 10 county agencies (Camden County PD; no population)
    "raw_agency_extract",  # Kaplan's Return A agency-year files (transcribed extracts)
    "ucr_data_tool",  # FBI/BJS UCR Data Tool: rates x population (1985-2012)
    "marshall_project",  # The Marshall Project city-crime file (violent offences only)
)


def cohort_slug(cohort: str) -> str:
    """The URL form of a cohort label, ``cohort=`` in links: "PSP 2017" -> "psp-2017" (a public contract)."""
    return re.sub(r"[^a-z0-9]+", "-", cohort.lower()).strip("-")


# The FBI's population groups for cities (CIUS Table 16): a place is judged against places of its size
# (issue 13). (peer_group id, label, lowest population, highest population + 1 or None, FBI group)
PEER_GROUPS: tuple[tuple[str, str, int, int | None, str], ...] = (
    ("250k+", "250,000 and over", 250_000, None, "Group I"),
    ("100k-250k", "100,000 to 249,999", 100_000, 250_000, "Group II"),
    ("50k-100k", "50,000 to 99,999", 50_000, 100_000, "Group III"),
    ("25k-50k", "25,000 to 49,999", 25_000, 50_000, "Group IV"),
    ("10k-25k", "10,000 to 24,999", 10_000, 25_000, "Group V"),
    ("under-10k", "under 10,000", 0, 10_000, "Group VI"),
)
PEER_COLUMNS: tuple[str, ...] = (
    "year",
    "peer_group",
    "places",
    *(c for offence in OFFENCES for c in (offence, f"{offence}_population")),
    "rape_definition",
    "source",
    "notes",
)


# geodata/outcomes.csv (issue 14): each PSP site's violent crime rate by year against a synthetic control of
# places in no program (pipeline/outcomes.py; the method is in geodata/SOURCES.md).
OUTCOME_COLUMNS: tuple[str, ...] = (
    "site",
    "geoid",
    "cohort",
    "year",
    "years_since_joining",
    "value",
    "comparison_value",
    "gap",
    "placebo_rank",
    "placebo_count",
    "pre_fit_rmspe",
    "verdict",
    "placebo_gap_low",  # appended (issue 14c): the 5th and 95th percentiles of the placebo places' gaps
    "placebo_gap_high",
)
# The verdict vocabulary, in the order its rule is checked (pipeline/synth.py says each rule).
OUTCOME_VERDICTS: tuple[str, ...] = (
    "no claim: too few comparison places",
    "no claim: too few years after joining",
    "no claim: poor pre-period fit",
    "below comparison",
    "above comparison",
    "no clear difference",
)


# Every place of the FBI city tables (issue 13): geodata/places_year.csv and geodata/places.csv.
PLACE_KINDS: tuple[str, ...] = (
    "census place",
    "county subdivision",
    "unmatched: ambiguous name",
    "unmatched: not in the 2010 gazetteer",
    "several jurisdictions",  # one police for two or more places (places.NOT_A_PLACE)
    "not a city police",
)
PLACES_YEAR_COLUMNS: tuple[str, ...] = (
    "geoid",
    "state",
    "agency",
    "year",
    "population",
    *OFFENCES,
    "rape_definition",
    "peer_group",
    "place_kind",
    "source",
)
PLACES_COLUMNS: tuple[str, ...] = ("geoid", "name", "state", "lon", "lat")


def peer_group_of(population: float | None) -> str:
    """The FBI population group of a place of ``population`` people ("" when unknown)."""
    if population is None or population != population or population <= 0:
        return ""
    for group, _label, low, high, _fbi in PEER_GROUPS:
        if population >= low and (high is None or population < high):
            return group
    return ""


def year_ranges(years: Iterable[int]) -> str:
    """Compress years into ranges: [1985, 1986, 1987, 1990] -> "1985-1987, 1990"."""
    ordered = sorted(set(int(y) for y in years))
    if not ordered:
        return "none"
    spans: list[str] = []
    start = prev = ordered[0]
    for year in [*ordered[1:], None]:
        if year is not None and year == prev + 1:
            prev = year
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if year is not None:
            start = prev = year
    return ", ".join(spans)


_KIND_WORDS = (
    ("(MSA)", "CIUS metro-area tables"),
    ("Table 10", "CIUS county table"),
    ("Table", "CIUS city tables"),
    ("Kaplan", "raw Return A extract"),
    ("UCR Data Tool", "UCR Data Tool"),
    ("Marshall", "Marshall Project"),
)


def source_kind_label(source: str) -> str:
    """The kind of a row's primary source: "FBI CIUS 2006 Table 6 (MSA)" -> "CIUS metro-area tables"."""
    primary = str(source).split(" + ")[0]
    return next((name for word, name in _KIND_WORDS if word in primary), primary)
