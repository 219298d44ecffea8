"""Data access: load the curated geodata once, and derive rates and ratios from counts.

Pure pandas, no Dash. This is where the national average is computed and where every
city value is compared with it ("ratio_to_national"). Rates are always derived here
from counts and population, never read from a file.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from dashboard import validation as v
from dashboard.config import CONFIG_DIR, geodata_dir
from dashboard.pipeline.schema import OFFENCES

log = logging.getLogger(__name__)

PER = 100_000
DATA_FILES = (
    "cities.geojson",
    "states.geojson",
    "crime_city_year.csv",
    "crime_national_year.csv",
    "programs.csv",
    "breaks.csv",
)
MEASURES = ("rate", "ratio", "count")


@dataclass(frozen=True, eq=False)  # identity hash: one loaded dataset per process
class Dataset:
    cities: pd.DataFrame  # one row per city: geoid, name, state, label, population, ..., cohorts
    city_geojson: dict
    state_geojson: dict
    crime: pd.DataFrame  # city-year counts
    national: pd.DataFrame  # year x rape_definition counts
    programs: pd.DataFrame
    breaks: pd.DataFrame
    offences: pd.DataFrame
    version: str

    @property
    def years(self) -> list[int]:
        return sorted(self.crime["year"].unique().tolist())

    def label(self, geoid: str) -> str:
        return str(self.cities.at[geoid, "label"]) if geoid in self.cities.index else geoid

    def offence_label(self, offence: str) -> str:
        return str(self.offences.at[offence, "label"])


def load_offences(config_dir: Path | None = None) -> pd.DataFrame:
    """The offence list (labels, order, rape link) from ``config/offences.csv``, validated."""
    frame = v.load_offence_config(Path(config_dir or CONFIG_DIR) / "offences.csv")
    return frame.reset_index(drop=True).sort_values("order").set_index("offence")


def dataset_version(folder: Path) -> str:
    """Content hash of the data files: changes whenever any published number changes."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return f"data {digest.hexdigest()[:10]}"


def _cities_frame(collection: dict, programs: pd.DataFrame) -> pd.DataFrame:
    cities = pd.DataFrame([f["properties"] for f in collection["features"]])
    cities["geoid"] = cities["geoid"].astype(str)
    cohorts = programs.groupby("geoid")["cohort"].agg(lambda c: "; ".join(sorted(set(c))))
    cities["cohort"] = cities["geoid"].map(cohorts).fillna("")
    cities["is_program"] = cities["cohort"] != ""
    return cities.set_index("geoid", drop=False).sort_values("label")


def load_dataset(folder: Path | None = None, config_dir: Path | None = None) -> Dataset:
    """Read and validate every data and config file; raise DataFileError naming the first problem.

    Nothing is half-loaded: each file is checked on its own (shape, types, duplicates, encoding),
    then across files (every geoid has a boundary, every city has figures, every city figure has
    a national figure to compare with). ``config_dir`` defaults to ``dashboard/config``.
    """
    folder = Path(folder) if folder is not None else geodata_dir()
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    for name in DATA_FILES:
        if not (folder / name).is_file():
            raise v.DataFileError(folder / name, "file is missing")
    offences = load_offences(config_dir)
    v.load_theme(config_dir / "theme.json")

    path = folder / "programs.csv"
    programs = v.validate_programs(v.read_csv_strict(path, v.PROGRAM_COLUMNS), path)
    path = folder / "breaks.csv"
    breaks = v.validate_breaks(v.read_csv_strict(path, v.BREAK_COLUMNS), path)
    path = folder / "crime_city_year.csv"
    crime = v.validate_crime_table(
        v.read_csv_strict(path, v.CITY_YEAR_COLUMNS, exact=True), path, ("geoid", "year")
    )
    path = folder / "crime_national_year.csv"
    national = v.validate_crime_table(
        v.read_csv_strict(path, v.NATIONAL_COLUMNS, exact=True), path, ("year", "rape_definition")
    )
    v.validate_national_years(national, path)
    v.check_national_coverage(crime, national, path)

    city_geojson, feature_at = v.load_cities(folder / "cities.geojson")
    state_geojson = v.load_states(folder / "states.geojson")
    known = set(feature_at)
    v.check_known_geoids(crime, known, folder / "crime_city_year.csv", "cities.geojson")
    v.check_known_geoids(programs, known, folder / "programs.csv", "cities.geojson")
    v.check_known_geoids(breaks, known, folder / "breaks.csv", "cities.geojson")
    # Every feature is a program city or a city with figures (geodata/README.md): a city without
    # rows means crime_city_year.csv lost them (cut at a line boundary passes the row checks).
    without_rows = sorted(known - set(crime["geoid"]) - set(programs["geoid"]), key=feature_at.get)
    if without_rows:
        number, line = feature_at[without_rows[0]]
        raise v.DataFileError(
            folder / "cities.geojson",
            f"feature {number} (geoid {without_rows[0]}) has no rows in crime_city_year.csv and is not a "
            "program city (is crime_city_year.csv truncated?)",
            line,
        )

    programs, breaks, crime, national = (
        frame.reset_index(drop=True) for frame in (programs, breaks, crime, national)
    )
    cities = _cities_frame(city_geojson, programs)
    dataset = Dataset(
        cities=cities,
        city_geojson=city_geojson,
        state_geojson=state_geojson,
        crime=crime,
        national=national,
        programs=programs,
        breaks=breaks,
        offences=offences,
        version=dataset_version(folder),
    )
    log.info("loaded %s: %d cities, %d city-years", dataset.version, len(cities), len(crime))
    return dataset


@lru_cache(maxsize=4)
def get_dataset(folder: str | None = None) -> Dataset:
    """The process-wide dataset, loaded once."""
    return load_dataset(Path(folder) if folder else None)


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
    rape_definition, source, notes. The national value is matched on year and, for
    violent crime and rape, on the same rape definition as the city's figure.
    """
    _check_offence(dataset, offence)
    crime = dataset.crime if geoids is None else dataset.crime[dataset.crime["geoid"].isin(geoids)]
    frame = crime[["geoid", "year", "population", offence, "rape_definition", "source", "notes"]]
    frame = frame.rename(columns={offence: "count"}).copy()
    frame["rate"] = rate_per_100k(frame["count"], frame["population"])
    national = national_series(dataset, offence)
    if bool(dataset.offences.at[offence, "rape_linked"]):
        keys = ["year", "rape_definition"]
        national = national[[*keys, "rate"]]
    else:
        keys = ["year"]
        national = national.drop_duplicates("year")[["year", "rate"]]
    frame = frame.merge(national.rename(columns={"rate": "national_rate"}), on=keys, how="left")
    frame["ratio"] = ratio_to_national(frame["rate"], frame["national_rate"])
    frame.insert(1, "label", frame["geoid"].map(dataset.cities["label"]))
    return frame.sort_values(["label", "year"]).reset_index(drop=True)


def year_snapshot(dataset: Dataset, year: int, offence: str) -> pd.DataFrame:
    """Every city with its value for one year (cities without a figure keep NA values)."""
    values = city_series(dataset, None, offence)
    values = values[values["year"] == year].set_index("geoid")
    snapshot = dataset.cities[
        ["geoid", "label", "name", "state", "cohort", "is_program", "lon", "lat"]
    ].copy()
    snapshot = snapshot.join(
        values[["year", "count", "population", "rate", "national_rate", "ratio", "source", "notes"]],
        how="left",
    )
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
