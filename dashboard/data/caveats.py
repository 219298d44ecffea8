"""Caveats written inside a city's trends panel: what a reader must know before reading its line.

Computed from the data, never typed: the agency population against the Census population where the FBI
figures cover another area than the city (a ``jurisdiction`` break), county sites that have no population,
and part years (drawn as gaps, issue 16).
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.schema import year_ranges

WIDER_AREA = 1.3  # agency population above this multiple of the place's: the figures cover a wider area


def _jurisdiction(dataset: Dataset, geoid: str, crime: pd.DataFrame, year_from: int, year_to: int) -> str:
    breaks = dataset.breaks[(dataset.breaks["geoid"] == geoid) & (dataset.breaks["kind"] == "jurisdiction")]
    overlaps = (breaks["year_from"].astype(int) <= year_to) & (breaks["year_to"].astype(int) >= year_from)
    breaks = breaks[overlaps]
    if breaks.empty:
        return ""
    census = dataset.cities.at[geoid, "population"]
    shown = crime[crime["population"].notna() & crime["year"].between(year_from, year_to)]
    if pd.notna(census) and not shown.empty:
        latest = shown.sort_values("year").iloc[-1]
        if latest["population"] > WIDER_AREA * census:
            return (
                f"FBI figures cover the police agency's wider area: {int(latest['population']):,} people "
                f"in {int(latest['year'])} (city: {int(census):,})"
            )
    return f"Police jurisdiction changed ({int(breaks['year_from'].astype(int).min())}): see ◇ and notes"


def panel_caveats(
    dataset: Dataset, geoids: list[str], measure: str, year_from: int, year_to: int
) -> dict[str, str]:
    """geoid -> the caveat lines for its panel ("" lines left out), joined with <br>."""
    notes: dict[str, str] = {}
    shown = dataset.crime[dataset.crime["geoid"].isin(geoids)]
    by_city = dict(tuple(shown.groupby("geoid", sort=False)))  # one pass over the table, not one per city
    for geoid in geoids:
        crime = by_city.get(geoid, shown.iloc[0:0])
        lines = [_jurisdiction(dataset, geoid, crime, year_from, year_to)]
        if dataset.cities.at[geoid, "geography"] == "county" and measure != "count":
            lines.append("County table: no population, so no rate (choose Count)")
        part = crime[(crime["months_reported"].fillna(12) < 12) & crime["year"].between(year_from, year_to)]
        if not part.empty:
            lines.append(f"Part year, not drawn: {year_ranges(part['year'])}")
        text = "<br>".join(line for line in lines if line)
        if text:
            notes[geoid] = text
    return notes
