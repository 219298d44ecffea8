"""Which FBI city-table rows are county subdivisions (towns, townships): a listed source, else a stated rule.

Source: Data Commons' FBI-city crosswalk (``crosswalk/datacommons_fbi_city_geocodes.csv``, built for the
city tables 2008-2019), which codes each printed name as a 7-digit Census place or a 10-digit county
subdivision (state 2 + county 3 + subdivision 5). Only its 10-digit codes are used here, and only when the
code's state is the row's: a third party's place codes are not taken as matches (some map a New York town
to the village of its name). Rows the crosswalk does not list fall back to the rule of
:func:`rule_evidence`, and the report says which decided each row. The explicit table
``not_places.csv`` names agencies that are no single place (a joint police of two villages), with why.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import decode_source, read_source_bytes, source_errors
from dashboard.pipeline.names import normalise_name
from dashboard.pipeline.place_names import NEW_ENGLAND, SUBDIVISION_STATES

# Boroughs, cities, towns and villages of these states are all Census places; townships are not.
TOWNSHIP_STATES = frozenset({"NJ", "PA", "MI"})
CROSSWALK = Path("crosswalk") / "datacommons_fbi_city_geocodes.csv"
NOT_PLACES_CSV = Path(__file__).with_name("not_places.csv")
STATE_FIPS = {
    "AL": "01",
    "AK": "02",
    "AZ": "04",
    "AR": "05",
    "CA": "06",
    "CO": "08",
    "CT": "09",
    "DE": "10",
    "DC": "11",
    "FL": "12",
    "GA": "13",
    "HI": "15",
    "ID": "16",
    "IL": "17",
    "IN": "18",
    "IA": "19",
    "KS": "20",
    "KY": "21",
    "LA": "22",
    "ME": "23",
    "MD": "24",
    "MA": "25",
    "MI": "26",
    "MN": "27",
    "MS": "28",
    "MO": "29",
    "MT": "30",
    "NE": "31",
    "NV": "32",
    "NH": "33",
    "NJ": "34",
    "NM": "35",
    "NY": "36",
    "NC": "37",
    "ND": "38",
    "OH": "39",
    "OK": "40",
    "OR": "41",
    "PA": "42",
    "RI": "44",
    "SC": "45",
    "SD": "46",
    "TN": "47",
    "TX": "48",
    "UT": "49",
    "VT": "50",
    "VA": "51",
    "WA": "53",
    "WV": "54",
    "WI": "55",
    "WY": "56",
    "PR": "72",
}


def crosswalk_key(state: str, label: str) -> str:
    """Data Commons' key: the printed name lower-cased, footnote digits dropped, then the state."""
    name = re.sub(r"[\d,]+$", "", str(label).strip()).strip().lower()
    return " ".join([*name.split(), str(state).lower()])


def county_subdivision_codes(sources: Path) -> dict[str, str]:
    """Crosswalk key -> 10-digit county subdivision GEOID, for the names it codes as subdivisions."""
    path = Path(sources) / CROSSWALK
    with source_errors(path, "as a two-column CSV"):
        rows = list(csv.reader(io.StringIO(decode_source(read_source_bytes(path), path))))
    codes = {}
    for row in rows:
        if len(row) == 2 and len(row[1].strip()) == 10 and row[1].strip().isdigit():
            key, code = row[0].strip(), row[1].strip()
            state = key.rsplit(" ", 1)[-1].upper()
            if STATE_FIPS.get(state) == code[:2]:
                codes[key] = code
    return codes


def load_not_places(path: Path = NOT_PLACES_CSV) -> dict[tuple[str, str], tuple[str, str]]:
    """(state, normalised agency) -> (reason, why) for agencies that are no single Census place."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    return {(r.state, normalise_name(r.agency)): (r.unmatched_reason, r.why) for r in table.itertuples()}


def rule_evidence(state: str, resolution_rule: str) -> str:
    """Why a row the crosswalk does not list is taken as a county subdivision ("" when it is not)."""
    if resolution_rule in {"printed town", "printed township"} and (
        resolution_rule == "printed township" or state in SUBDIVISION_STATES
    ):
        return f"rule: {resolution_rule}, and no Census place of that type has the name"
    if resolution_rule == "CDP in a subdivision state":
        return "rule: only a CDP has the name, in a state whose towns or townships are governments"
    if resolution_rule == "no name" and state in NEW_ENGLAND:
        return (
            "rule: New England municipality that is no Census place (every one that is not a city is a town)"
        )
    if resolution_rule == "no name" and state in TOWNSHIP_STATES:
        return (
            "rule: no Census place has the name, in a state where every municipality but a township is a "
            "Census place"
        )
    return ""
