"""Rates and ratios derived from counts: where the national average is computed and every
city value is compared with it (``ratio_to_national``). Pure pandas, no Dash."""

from __future__ import annotations

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.schema import OFFENCES, peer_group_of

PER = 100_000
MEASURES = ("rate", "ratio", "count")


def rate_per_100k(count: pd.Series, population: pd.Series) -> pd.Series:
    """Offences per 100,000 residents; missing when either input is missing or population is 0."""
    population = population.astype("Float64").where(population > 0)
    return (count.astype("Float64") * PER / population).round(1)


def ratio_to_national(city_rate: pd.Series, national_rate: pd.Series) -> pd.Series:
    """How many times the national rate a city's rate is (1.0 = the national average)."""
    return (city_rate.astype("Float64") / national_rate.astype("Float64").where(national_rate > 0)).round(2)


def national_series(dataset: Dataset, offence: str) -> pd.DataFrame:
    """The US series for one offence: year, rape_definition, count, population, rate, source.

    For offences that do not involve rape both definition rows of a year carry the
    same numbers; the comparison key is then just the year.
    """
    _check_offence(dataset, offence)
    frame = dataset.national[["year", "rape_definition", "population", offence, "source", "notes"]]
    frame = frame.rename(columns={offence: "count"}).copy()
    frame["rate"] = rate_per_100k(frame["count"], frame["population"])
    return frame.sort_values(["year", "rape_definition"]).reset_index(drop=True)


def national_for_display(dataset: Dataset, offence: str) -> pd.DataFrame:
    """One national value per year for charts: legacy rape definition through 2016, revised after.

    That is what the FBI itself printed in each year's Table 1 (legacy until 2016).
    """
    series = national_series(dataset, offence)
    preferred = series.assign(_pref=(series["rape_definition"] == "revised") == (series["year"] > 2016))
    series = preferred.sort_values(["year", "_pref"]).groupby("year").tail(1)
    return series.drop(columns="_pref").reset_index(drop=True)


def city_series(dataset: Dataset, geoids: list[str] | None, offence: str) -> pd.DataFrame:
    """Tidy city-year values for one offence with the matching national value alongside.

    Columns: geoid, label, year, count, population, rate, national_rate, ratio,
    rape_definition, source, notes, months_reported, part_year. The national value is matched
    on year and, for violent crime and rape, on the same rape definition as the city's figure.

    A part-year count (its source says fewer than 12 months) keeps its count, but has no rate
    or ratio: set beside full years it would read as a drop that never happened.
    """
    _check_offence(dataset, offence)
    crime = dataset.crime if geoids is None else dataset.crime[dataset.crime["geoid"].isin(geoids)]
    columns = ["geoid", "year", "population", offence, "rape_definition", "source", "notes"]
    frame = crime[[*columns, "months_reported"] if "months_reported" in crime else columns]
    frame = frame.rename(columns={offence: "count"}).copy()
    if "months_reported" not in frame:
        frame["months_reported"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame["part_year"] = (frame["months_reported"].fillna(12) < 12).astype(bool)
    frame["rate"] = rate_per_100k(frame["count"], frame["population"]).where(~frame["part_year"])
    frame = with_comparisons(dataset, frame, offence)
    frame.insert(1, "label", frame["geoid"].map(dataset.cities["label"]))
    return frame.sort_values(["label", "year"]).reset_index(drop=True)


def with_comparisons(dataset: Dataset, frame: pd.DataFrame, offence: str) -> pd.DataFrame:
    """``frame`` (year, population, rate, rape_definition) with national_rate and ratio, then peer_group,
    peer_rate and ratio_to_peer. The national value is matched on year and, for violent crime and rape, on
    the same rape definition as the place's figure."""
    national = national_series(dataset, offence)
    if bool(dataset.offences.at[offence, "rape_linked"]):
        keys = ["year", "rape_definition"]
        national = national[[*keys, "rate"]]
    else:
        keys = ["year"]
        national = national.drop_duplicates("year")[["year", "rate"]]
    frame = frame.merge(national.rename(columns={"rate": "national_rate"}), on=keys, how="left")
    frame["ratio"] = ratio_to_national(frame["rate"], frame["national_rate"])
    frame["peer_group"] = [peer_group_of(None if pd.isna(p) else float(p)) for p in frame["population"]]
    frame = frame.merge(peer_series(dataset, offence), on=["year", "peer_group"], how="left")
    frame["ratio_to_peer"] = ratio_to_national(frame["rate"], frame["peer_rate"])
    return frame


def peer_series(dataset: Dataset, offence: str) -> pd.DataFrame:
    """year, peer_group, peer_rate: the rate of all places of one FBI population group that reported
    ``offence`` that year (summed from the city tables, issue 13); empty without peer_groups_year.csv."""
    if dataset.peers is None:
        empty = {"year": pd.Series(dtype=int), "peer_group": pd.Series(dtype=str)}
        return pd.DataFrame({**empty, "peer_rate": pd.Series(dtype=float)})
    peers = dataset.peers
    return pd.DataFrame(
        {
            "year": peers["year"].astype(int),
            "peer_group": peers["peer_group"],
            "peer_rate": rate_per_100k(peers[offence], peers[f"{offence}_population"]),
        }
    )


def year_snapshot(dataset: Dataset, year: int, offence: str) -> pd.DataFrame:
    """Every city with its value for one year (cities without a figure keep NA values)."""
    values = city_series(dataset, None, offence)
    values = values[values["year"] == year].set_index("geoid")
    snapshot = dataset.cities[
        ["geoid", "label", "name", "state", "cohort", "is_program", "lon", "lat"]
    ].copy()
    columns = ["year", "count", "population", "rate", "national_rate", "ratio", "source", "notes"]
    snapshot = snapshot.join(values[[*columns, "months_reported", "part_year"]], how="left")
    snapshot["part_year"] = snapshot["part_year"].fillna(False).astype(bool)
    snapshot.loc[snapshot["part_year"], "count"] = pd.NA  # the map and ranking draw full years only
    snapshot["year"] = year
    # Program cities last, so their markers draw on top of neighbouring context cities.
    return snapshot.sort_values(["is_program", "label"], kind="stable").reset_index(drop=True)


def measure_column(measure: str) -> str:
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    return measure


def _check_offence(dataset: Dataset, offence: str) -> None:
    if offence not in OFFENCES:
        raise ValueError(f"unknown offence {offence!r}; expected one of {', '.join(OFFENCES)}")
