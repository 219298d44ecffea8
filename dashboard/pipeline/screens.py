"""Plausibility screens: small pure checks that find figures which would mislead a reader if charted.

Each screen takes the harmonised city-year table (and, where it needs them, the curated breaks and
the city boundaries) and returns its hits: one row per place and year with the screen's name, the
value that tripped it and a sentence saying why. Thresholds are data (``screens.json``). The build
runs every screen and writes ``geodata/SCREENING.md``; recording a disposition for each hit
(corrected, withheld or flagged) is the next step of issue 16, so the report says what is open.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry import shape

from dashboard.pipeline.boundaries.simplify import equal_area_km2

CONFIG = Path(__file__).resolve().parent / "screens.json"
HIT_COLUMNS = ["geoid", "year", "screen", "value", "why"]


@dataclass(frozen=True)
class Screen:
    name: str
    description: str
    threshold: str
    run: Callable[..., pd.DataFrame]


def load_thresholds(path: Path = CONFIG) -> dict:
    """The screens' thresholds (a JSON object per screen)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _hits(frame: pd.DataFrame, screen: str, value: pd.Series, why: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame(
        {"geoid": frame["geoid"], "year": frame["year"], "screen": screen, "value": value, "why": why}
    )
    return out[HIT_COLUMNS].reset_index(drop=True)


def _without_breaks(frame: pd.DataFrame, breaks: pd.DataFrame) -> pd.DataFrame:
    """Rows whose place-year no curated break covers (a recorded break already explains a jump)."""
    covered = set()
    for b in breaks.itertuples():
        covered.update((str(b.geoid), y) for y in range(int(b.year_from), int(b.year_to) + 1))
    keep = [(g, int(y)) not in covered for g, y in zip(frame["geoid"], frame["year"], strict=True)]
    return frame[pd.Series(keep, index=frame.index, dtype=bool)]  # a bare [] would select no columns


def _year_over_year(city_years: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each row with the previous calendar year's value of ``column`` for the same place (NaN if absent)."""
    frame = city_years[["geoid", "year", column]].copy()
    previous = frame.assign(year=frame["year"] + 1).rename(columns={column: "previous"})
    return frame.merge(previous, on=["geoid", "year"], how="left")


def rate_jumps(
    city_years: pd.DataFrame, breaks: pd.DataFrame, offence: str, up: float, down: float
) -> pd.DataFrame:
    """A rate that multiplies by more than ``up`` (or less than ``down``) from one year to the next."""
    rates = city_years.assign(
        rate=city_years[offence] / city_years["population"].where(city_years["population"] > 0)
    )
    pairs = _year_over_year(rates, "rate").dropna(subset=["rate", "previous"])
    pairs = pairs[pairs["previous"] > 0]
    factor = pairs["rate"] / pairs["previous"]
    jumped = _without_breaks(pairs[(factor > up) | (factor < down)], breaks)
    factor = factor[jumped.index]
    why = factor.map(
        lambda f: f"{offence.replace('_', ' ')} rate ×{f:.2f} on the year before, no break recorded"
    )
    return _hits(jumped, f"rate jump ({offence.replace('_', ' ')})", factor.round(2), why)


def population_changes(city_years: pd.DataFrame, breaks: pd.DataFrame, limit: float) -> pd.DataFrame:
    """The FBI agency population moving by more than ``limit`` (a share) from one year to the next."""
    pairs = _year_over_year(city_years, "population").dropna(subset=["population", "previous"])
    pairs = pairs[pairs["previous"] > 0]
    change = pairs["population"] / pairs["previous"] - 1
    moved = _without_breaks(pairs[change.abs() > limit], breaks)
    change = change[moved.index]
    return _hits(
        moved, "population change", change.round(3), change.map(lambda c: f"population {c:+.0%}, no break")
    )


def near_zero_violence(city_years: pd.DataFrame, min_population: int, max_rate: float) -> pd.DataFrame:
    """A place of ``min_population``+ with (nearly) no violent crime: usually a year it did not report."""
    big = city_years[(city_years["population"] >= min_population) & city_years["violent_crime"].notna()]
    rate = big["violent_crime"] * 100_000 / big["population"]
    low = big[rate < max_rate]
    return _hits(
        low,
        "near-zero violence",
        low["violent_crime"].astype("Int64"),
        low["population"].map(
            lambda p: f"violent crime under {max_rate:g} per 100,000 for {int(p):,} people"
        ),
    )


def part_years(city_years: pd.DataFrame) -> pd.DataFrame:
    """Place-years whose source says the counts cover fewer than 12 months (drawn as gaps, kept in tables)."""
    if "months_reported" not in city_years:
        empty = city_years.iloc[0:0]
        return _hits(empty, "fewer than 12 months", pd.Series(dtype="Int64"), pd.Series(dtype=str))
    months = city_years["months_reported"]
    short = city_years[months.notna() & (months < 12)]
    return _hits(
        short,
        "fewer than 12 months",
        short["months_reported"].astype("Int64"),
        short["months_reported"].map(lambda m: f"{int(m)} of 12 months reported"),
    )


def above_metro_total(city_years: pd.DataFrame, metro: pd.DataFrame) -> pd.DataFrame:
    """A city's violent crime or murder above its own metro area's total that year (``metro``: geoid, year,
    metro_area, metro_violent_crime, metro_murder, from the CIUS MSA tables): impossible, so a bad row."""
    joined = city_years[["geoid", "year", "violent_crime", "murder"]].merge(metro, on=["geoid", "year"])
    frames = []
    for column in ("violent_crime", "murder"):
        total = joined[f"metro_{column}"]
        over = joined[joined[column].notna() & total.notna() & (joined[column] > total)]
        why = pd.Series(
            [
                f"{column.replace('_', ' ')} {int(v):,} > {int(t):,} for the whole {area}"
                for v, t, area in zip(over[column], over[f"metro_{column}"], over["metro_area"], strict=True)
            ],
            index=over.index,
            dtype=str,
        )
        frames.append(_hits(over, "city above metro total", over[column].astype("Int64"), why))
    hits = pd.concat(frames, ignore_index=True).drop_duplicates(["geoid", "year"])
    return hits.sort_values(["geoid", "year"]).reset_index(drop=True)


PARTS = {
    "violent_crime": ("murder", "rape", "robbery", "aggravated_assault"),
    "property_crime": ("burglary", "larceny_theft", "motor_vehicle_theft"),
}


def parts_not_adding_up(city_years: pd.DataFrame, share: float, minimum: int) -> pd.DataFrame:
    """A total that differs from the sum of its parts by more than ``share`` of it (and ``minimum``)."""
    found = []
    for total, parts in PARTS.items():
        rows = city_years.dropna(subset=[total, *parts])
        gap = rows[total] - rows[list(parts)].sum(axis=1)
        bad = rows[gap.abs() > (rows[total] * share).clip(lower=minimum)]
        gap = gap[bad.index]
        found.append(
            _hits(
                bad,
                f"parts ≠ total ({total.replace('_', ' ')})",
                gap,
                gap.map(lambda g, t=total: f"{t.replace('_', ' ')} is {g:+,.0f} off the sum of its parts"),
            )
        )
    return pd.concat(found, ignore_index=True)


def mixed_sources(city_years: pd.DataFrame) -> pd.DataFrame:
    """Rows combining figures of more than one source (a count and a population may come from different
    files: "A + B" in ``source``)."""
    mixed = city_years[city_years["source"].fillna("").str.contains(" + ", regex=False)]
    return _hits(mixed, "mixed sources", mixed["source"], mixed["source"].map(lambda s: f"figures from {s}"))


def agency_population_mismatch(
    city_years: pd.DataFrame, cities: dict, low: float, high: float
) -> pd.DataFrame:
    """The FBI agency population far from the Census population of the place drawn (the agency covers
    another area: a metropolitan police department, a county force)."""
    census = {
        f["properties"]["geoid"]: (f["properties"]["population"], f["properties"]["population_year"])
        for f in cities["features"]
        if f["properties"].get("population") and "Census" in str(f["properties"].get("population_source"))
    }
    keys = pd.Series([census.get(g, (None, None)) for g in city_years["geoid"]], index=city_years.index)
    same_year = city_years[[k[1] == y for k, y in zip(keys, city_years["year"], strict=True)]]
    ratio = same_year["population"] / same_year["geoid"].map(lambda g: census[g][0])
    off = same_year[(ratio < low) | (ratio > high)]
    ratio = ratio[off.index]
    return _hits(
        off,
        "agency population ≠ place",
        ratio.round(2),
        ratio.map(lambda r: f"FBI agency population {r:.2f}× the Census population of the place"),
    )


def polygon_beyond_land(cities: dict, limit: float) -> pd.DataFrame:
    """A drawn polygon much larger than the place's land area (water inside the shape)."""
    rows = []
    for f in cities["features"]:
        land = f["properties"].get("land_km2")
        if not land:
            continue
        drawn = float(equal_area_km2(shapely.make_valid(shape(f["geometry"]))))
        if drawn / land > limit:
            rows.append(
                {
                    "geoid": f["properties"]["geoid"],
                    "year": pd.NA,
                    "ratio": round(drawn / land, 2),
                    "drawn": drawn,
                    "land": land,
                }
            )
    frame = pd.DataFrame(rows, columns=["geoid", "year", "ratio", "drawn", "land"])
    why = (
        frame.apply(lambda r: f"drawn {r['drawn']:,.0f} km² for {r['land']:,.0f} km² of land", axis=1)
        if len(frame)
        else pd.Series(dtype=str)
    )
    return _hits(frame, "polygon beyond land", frame["ratio"], why)
