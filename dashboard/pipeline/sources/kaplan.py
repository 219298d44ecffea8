"""Jacob Kaplan's agency-year Return A files (``crime/jacobkap__crimedatatool_helper``), transcribed extracts.

These are the raw "Offenses Known to Law Enforcement" submissions (actual offences, after
unfounded reports are removed) for six small agencies no published FBI table covers for long:
West Memphis AR, Jackson TN, Wilmington DE, Richmond CA, Birmingham AL (2013-2016 only) and
Springfield IL. Only the first 35 columns (39 for Springfield's newer schema, whose rows run in
descending year order) were copied; see ``shared/sources/crime/PROVENANCE.md`` section 1.10.

Totals are built the FBI way: violent = murder + rape + robbery + *aggravated* assault (never
``act_assault_total``, which includes simple assault); property = burglary + theft + motor
vehicle theft. A total is <NA> when any part is <NA>.

Known problems handled here, each with a row note:

* Illinois agencies did not report rape under the federal definition until 2010 (the FBI published
  no Springfield rape or violent figure for 1985-2009; the raw rape column is 0 for 1986-2009 and a
  non-federal count in 1985), and Delaware not in 1998-2000 (Wilmington's rape column is 0). Rape
  and violent crime are set to <NA> for those years.
* Richmond CA 2000 motor vehicle theft is 0 between years of roughly a thousand: treated as not
  reported, so that year has no property total.
* 1990 populations are NA in four of the files; they stay <NA>.
* The extracts carry no months-reported column, so partial years cannot be flagged from this source.

Rape definition from 2013: the Return A rape line holds whatever definition the agency reported.
Compared with the CIUS city tables, it is the revised definition for most agency-years but the
legacy one for Springfield IL and Richmond CA in 2013. :func:`cius_city_rape_definitions` reads,
for each agency-year, which of the two rape columns the CIUS city table fills; where no table row
confirms it the row is labelled "revised" (the definition the FBI required from 2013) and says so.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import check_source_csv, source_errors
from dashboard.pipeline.sources.cius_city import parse_city_tables
from dashboard.pipeline.sources.cius_common import STATE_CODES
from dashboard.schema import OFFENCES, RAW_CITY_COLUMNS

log = logging.getLogger(__name__)

FOLDER = Path("crime") / "jacobkap__crimedatatool_helper"
SOURCE = "Kaplan Return A extract (crimedatatool_helper)"
SOURCE_KIND = "raw_agency_extract"

# CIUS city tables that print both rape columns (2013-2016; in 2016 the city table is Table 6).
FIRST_REVISED_YEAR = 2013

STATE_USPS: dict[str, str] = STATE_CODES  # one state-name table for every parser

# Offence -> column, for the two schemas of the extracts (violent and property are derived).
_SCHEMAS: dict[str, dict[str, str]] = {
    "act_murder": {
        "murder": "act_murder",
        "rape": "act_rape_total",
        "robbery": "act_robbery_total",
        "aggravated_assault": "act_aggravated_assault",
        "burglary": "act_burglary_total",
        "larceny_theft": "act_theft_total",
        "motor_vehicle_theft": "act_mtr_vhc_theft_total",
    },
    "actual_murder": {
        "murder": "actual_murder",
        "rape": "actual_rape_total",
        "robbery": "actual_robbery_total",
        "aggravated_assault": "actual_assault_aggravated",
        "burglary": "actual_burg_total",
        "larceny_theft": "actual_theft_total",
        "motor_vehicle_theft": "actual_mtr_veh_theft_total",
    },
}
_VIOLENT_PARTS = ("murder", "rape", "robbery", "aggravated_assault")
_PROPERTY_PARTS = ("burglary", "larceny_theft", "motor_vehicle_theft")

# (state, first year, last year): the state programme's rape data did not follow the federal
# definition, so the FBI published no rape or violent figure for its agencies (PROVENANCE 5.2;
# CDE caveats for IL 1985-2013 and DE 1998; the UCR Data Tool has no Springfield IL rape 1985-2009,
# while CIUS 2010 Table 8 does publish Springfield's rape).
EXCLUDED_RAPE: tuple[tuple[str, int, int, str], ...] = (
    ("IL", 1985, 2009, "Illinois"),
    ("DE", 1998, 2000, "Delaware"),
)
EXCLUDED_RAPE_NOTE = (
    "rape not reported to UCR under the federal definition ({state}); FBI publishes no violent total"
)

# (ORI, year, offence): a 0 in the raw file that is a non-report, not a count (PROVENANCE 5.6).
ZERO_MEANS_MISSING: tuple[tuple[str, int, str], ...] = (("CA00710", 2000, "motor_vehicle_theft"),)

ASSUMED_REVISED_NOTE = (
    "rape definition not confirmed by a CIUS city table for this agency-year; "
    "assumed revised (the definition the FBI required from 2013)"
)
LEGACY_AFTER_2013_NOTE = "agency still reported rape under the legacy definition (CIUS {year} city table)"
NO_POPULATION_NOTE = "population missing in the raw Return A file"


def _clean_label(value: object) -> str:
    """Drop the footnote digits and commas the FBI appends to state and city labels."""
    return re.sub(r"[\d,\s]+$", "", str(value)).strip()


def city_key(label: str) -> str:
    """Lower-case city label without footnote digits, for looking up CIUS city-table rows."""
    return re.sub(r"\s+", " ", _clean_label(label)).lower()


def cius_city_rape_definitions(sources: Path) -> dict[tuple[str, str, int], str]:
    """Which rape definition each agency's 2013-2016 CIUS city-table figure uses.

    Keyed by (USPS state, :func:`city_key` of the city label, year), read from the parsed city
    tables. Agency-years whose table row fills neither rape column (e.g. Chicago 2013) or that
    have no row are absent.
    """
    tables = parse_city_tables(Path(sources))
    filled = tables[tables["year"].between(FIRST_REVISED_YEAR, 2016) & tables["rape"].notna()]
    columns = filled[["state", "agency", "year", "rape_definition"]]
    return {
        (state, city_key(agency), int(year)): definition
        for state, agency, year, definition in columns.itertuples(index=False)
    }


def rape_definition_for(
    lookup: dict[tuple[str, str, int], str], state: str, city_keys: list[str], year: int
) -> tuple[str, str]:
    """(rape_definition, note) for a raw Return A agency-year; see the module docstring."""
    if year < FIRST_REVISED_YEAR:
        return "legacy", ""
    for key in city_keys:
        definition = lookup.get((state, key, year))
        if definition == "legacy":
            return "legacy", LEGACY_AFTER_2013_NOTE.format(year=year)
        if definition == "revised":
            return "revised", ""
    return "revised", ASSUMED_REVISED_NOTE


def _read_extract(path: Path) -> pd.DataFrame:
    """One extract file mapped to our offence names (counts as Int64, blanks and "NA" as <NA>)."""
    text = check_source_csv(path)
    with source_errors(path):
        return _map_extract(pd.read_csv(io.StringIO(text), dtype=str), path)


def _map_extract(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    schema = next((_SCHEMAS[k] for k in _SCHEMAS if k in raw.columns), None)
    if schema is None:
        raise ValueError(f"{path.name}: neither known Kaplan schema (no act_murder / actual_murder column)")
    out = pd.DataFrame(
        {
            "ori": raw["ORI"].str.strip(),
            "state_name": raw["state"].str.strip(),
            "agency": raw["agency"],
            "year": pd.to_numeric(raw["year"], errors="raise").astype(int),
            "population": pd.to_numeric(raw["population"], errors="raise").astype("Int64"),
        }
    )
    for offence, column in schema.items():
        out[offence] = pd.to_numeric(raw[column], errors="raise").astype("Int64")
    if "actual_index_violent" in raw.columns:
        # Newer schema: Kaplan's own index totals must equal the sums of the parts we use.
        for total, parts in (
            ("actual_index_violent", _VIOLENT_PARTS),
            ("actual_index_property", _PROPERTY_PARTS),
        ):
            published = pd.to_numeric(raw[total], errors="raise").astype("Int64")
            mismatch = published.notna() & (published != out[list(parts)].sum(axis=1, skipna=False))
            if mismatch.any():
                log.warning(
                    "%s: %s differs from its parts in years %s",
                    path.name,
                    total,
                    out.loc[mismatch, "year"].tolist(),
                )
    return out


def parse_kaplan_extracts(sources: Path) -> pd.DataFrame:
    """All six Kaplan extracts as ``schema.RAW_CITY_COLUMNS`` rows, one per agency-year with data.

    Rows that are blank in the source (Springfield IL 1993) are dropped rather than kept as zeros.
    """
    folder = Path(sources) / FOLDER
    paths = sorted(folder.glob("*.csv"))
    if not paths:
        raise FileNotFoundError(f"no Kaplan extracts in {folder}")
    frame = pd.concat([_read_extract(p) for p in paths], ignore_index=True)

    offence_parts = [*_VIOLENT_PARTS, *_PROPERTY_PARTS]
    blank = frame[offence_parts].isna().all(axis=1)
    if blank.any():
        dropped = frame.loc[blank, ["agency", "year"]].values.tolist()
        log.info("Kaplan: dropped %d blank agency-years: %s", len(dropped), dropped)
    frame = frame[~blank].reset_index(drop=True)

    frame["state"] = frame["ori"].str[:2]
    wrong_state = frame["state_name"].str.upper().map(STATE_USPS) != frame["state"]
    if wrong_state.any():
        raise ValueError(f"Kaplan: ORI prefix disagrees with the state column: {frame[wrong_state].head()}")

    frame = frame.sort_values(["ori", "year"]).reset_index(drop=True)
    notes: list[list[str]] = [[] for _ in range(len(frame))]

    for ori, year, offence in ZERO_MEANS_MISSING:
        hit = (frame["ori"] == ori) & (frame["year"] == year)
        if not hit.any() or frame.loc[hit, offence].iloc[0] != 0:
            log.warning("Kaplan: expected a 0 %s for %s %s; rule not applied", offence, ori, year)
            continue
        same = frame[frame["ori"] == ori].set_index("year")[offence]
        before, after = same.get(year - 1), same.get(year + 1)
        frame.loc[hit, offence] = pd.NA
        for i in frame.index[hit]:
            label = offence.replace("_", " ")
            notes[i].append(
                f"{label} is 0 in the raw file (previous year {before:,}, next year {after:,}): "
                "treated as not reported, so there is no property total"
            )

    for state, first, last, state_name in EXCLUDED_RAPE:
        hit = (frame["state"] == state) & frame["year"].between(first, last)
        for i in frame.index[hit]:
            note = EXCLUDED_RAPE_NOTE.format(state=state_name)
            raw_rape = frame.at[i, "rape"]
            if pd.notna(raw_rape) and raw_rape != 0:
                note += f" (the raw file's non-federal rape count, {raw_rape:,}, is not used)"
            notes[i].append(note)
        frame.loc[hit, "rape"] = pd.NA

    frame["violent_crime"] = frame[list(_VIOLENT_PARTS)].sum(axis=1, skipna=False).astype("Int64")
    frame["property_crime"] = frame[list(_PROPERTY_PARTS)].sum(axis=1, skipna=False).astype("Int64")

    lookup = cius_city_rape_definitions(sources)
    definitions: list[str] = []
    for i, row in frame.iterrows():
        city = re.sub(r"\s+police department$", "", row["agency"].strip(), flags=re.IGNORECASE)
        definition, note = rape_definition_for(lookup, row["state"], [city_key(city)], int(row["year"]))
        definitions.append(definition)
        if note:
            notes[i].append(note)
        if pd.isna(row["population"]):
            notes[i].append(NO_POPULATION_NOTE)
    frame["rape_definition"] = definitions
    frame["notes"] = [" | ".join(n) for n in notes]
    frame["source"] = SOURCE
    frame["source_kind"] = SOURCE_KIND

    if frame.duplicated(["state", "agency", "year"]).any():
        raise ValueError("Kaplan: duplicate agency-years")
    for column in ("population", *OFFENCES):
        frame[column] = frame[column].astype("Int64")
    log.info("Kaplan: %d agency-years from %d extracts", len(frame), len(paths))
    frame["months_reported"] = pd.array([pd.NA] * len(frame), dtype="Int64")  # not in the extracts
    return frame[list(RAW_CITY_COLUMNS)].sort_values(["state", "agency", "year"]).reset_index(drop=True)
