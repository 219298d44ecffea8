"""Rates of places by size (the FBI's population groups), summed from every row of the CIUS city tables.

Each year's city table lists every reporting city (about 9,000); a group's rate for an offence is the sum of
its places' counts over the sum of the populations of the places that reported that offence, the way the
FBI computes its own group table (Table 16). Where the FBI published Table 16 (2013-2015 here), each derived
figure's note gives the FBI's and the difference, and ``tests/pipeline/test_peers.py`` holds them close.
"""

from __future__ import annotations

import logging

import pandas as pd

from dashboard.schema import OFFENCES, PEER_COLUMNS, PEER_GROUPS, peer_group_of

log = logging.getLogger(__name__)

SOURCE = "derived: sum of the FBI CIUS {year} city table's rows ({table})"
# Measured on 2013-2015 against Table 16: groups I-V within 2% for every offence; under 10,000 up to 22% off
# (the city table lists fewer of the smallest agencies than the FBI's group figures cover).
SMALLEST_NOTE = (
    "the city table lists fewer places under 10,000 than the FBI's own group figures cover (in 2013-2015 "
    "this sum is up to 22% off the FBI's Table 16): indicative only"
)


def _definition(rows: pd.DataFrame) -> str:
    definitions = set(rows.loc[rows["rape"].notna(), "rape_definition"])
    return definitions.pop() if len(definitions) == 1 else "mixed"


def peer_group_rows(city_rows: pd.DataFrame) -> pd.DataFrame:
    """One row per year x population group from the parsed city-table rows (``RAW_CITY_COLUMNS``)."""
    rows = city_rows[city_rows["population"].notna() & (city_rows["population"] > 0)].copy()
    rows["peer_group"] = [peer_group_of(float(p)) for p in rows["population"]]
    records = []
    order = {group: i for i, (group, *_rest) in enumerate(PEER_GROUPS)}
    for (year, group), members in rows.groupby(["year", "peer_group"], sort=True):
        record: dict[str, object] = {"year": int(year), "peer_group": group}
        record["places"] = int(members["violent_crime"].notna().sum())
        for offence in OFFENCES:
            reported = members[members[offence].notna()]
            record[offence] = int(reported[offence].sum()) if len(reported) else pd.NA
            record[f"{offence}_population"] = int(reported["population"].sum()) if len(reported) else pd.NA
        definition = _definition(members)
        record["rape_definition"] = definition
        tables = sorted(set(members["source"]))
        record["source"] = SOURCE.format(year=int(year), table="; ".join(tables))
        notes = []
        if definition == "mixed":
            notes.append(
                "places reported rape under either definition this year (legacy or revised): the violent "
                "crime and rape sums mix them, as the FBI's own Table 16 does"
            )
        if group == PEER_GROUPS[-1][0]:
            notes.append(SMALLEST_NOTE)
        record["notes"] = " | ".join(notes)
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(PEER_COLUMNS))
    frame["_order"] = frame["peer_group"].map(order)
    frame = frame.sort_values(["year", "_order"]).drop(columns="_order").reset_index(drop=True)
    for column in PEER_COLUMNS[2:-3]:
        frame[column] = frame[column].astype("Int64")
    log.info("peer groups: %d year-groups from %d city-table rows", len(frame), len(rows))
    return frame


def rate(row: pd.Series, offence: str) -> float | None:
    """A group's rate per 100,000 for ``offence`` (None when no place reported it)."""
    count, population = row[offence], row[f"{offence}_population"]
    if pd.isna(count) or pd.isna(population) or not population:
        return None
    return float(count) / float(population) * 100_000


def with_published_check(peers: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Note on each year-group the FBI also published (Table 16) its violent and property crime rates
    beside the derived ones, so a reader sees how close the sum of the city table comes."""
    result = peers.copy()
    printed = published.set_index(["year", "peer_group", "offence"])["rate"]
    for index, row in result.iterrows():
        parts = []
        for offence in ("violent_crime", "property_crime"):
            key = (row["year"], row["peer_group"], offence)
            derived = rate(row, offence)
            if key in printed.index and derived is not None:
                parts.append(
                    f"{offence.replace('_', ' ')} {printed[key]:,.1f} (derived here {derived:,.1f})"
                )
        if parts:
            check = f"FBI CIUS {row['year']} Table 16 prints " + "; ".join(parts)
            result.at[index, "notes"] = " | ".join(p for p in (row["notes"], check) if p)
    return result
