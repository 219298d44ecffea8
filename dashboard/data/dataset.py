"""Load the curated geodata once, validated, into one read-only ``Dataset``."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from dashboard.data import validate as v
from dashboard.settings import CONFIG_DIR, geodata_dir

log = logging.getLogger(__name__)
DATA_FILES = (
    "cities.geojson",
    "states.geojson",
    "crime_city_year.csv",
    "crime_national_year.csv",
    "programs.csv",
    "breaks.csv",
)
# Loaded when present (issues 13, 14): a data folder from before them still opens, without peer comparison
# or the outcomes panel.
OPTIONAL_DATA_FILES = ("peer_groups_year.csv", "outcomes.csv", "places_year.csv", "places.csv")


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
    places_year: pd.DataFrame | None = None  # every city-table row (places_year.csv, issue 13)
    place_points: pd.DataFrame | None = None  # name and point per Census place, by geoid (places.csv)
    peers: pd.DataFrame | None = None  # year x FBI population group sums (peer_groups_year.csv)
    outcomes: pd.DataFrame | None = None  # PSP site x year against its synthetic control (outcomes.csv)

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
    for name in (*DATA_FILES, *(n for n in OPTIONAL_DATA_FILES if (folder / n).is_file())):
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return f"data {digest.hexdigest()[:10]}"


def _cities_frame(collection: dict, programs: pd.DataFrame) -> pd.DataFrame:
    cities = pd.DataFrame([f["properties"] for f in collection["features"]])
    cities["geoid"] = cities["geoid"].astype(str)
    cohorts = programs.groupby("geoid")["cohort"].agg(lambda c: "; ".join(sorted(set(c))))
    cities["cohort"] = cities["geoid"].map(cohorts).fillna("")
    cities["is_program"] = cities["cohort"] != ""
    # cohorts whose membership no source confirms (programs.csv status, issue 12): a marker in pickers
    unconfirmed = programs[programs["status"] == "unconfirmed"].groupby("geoid")["cohort"]
    unconfirmed = unconfirmed.agg(lambda c: "; ".join(sorted(set(c))))
    cities["unconfirmed"] = cities["geoid"].map(unconfirmed).fillna("")
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
    path = folder / "peer_groups_year.csv"
    peers = None
    if path.is_file():
        peers = v.validate_peer_groups(v.read_csv_strict(path, v.PEER_COLUMNS, exact=True), path)
    path = folder / "outcomes.csv"
    outcomes = None
    if path.is_file():
        outcomes = v.validate_outcomes(v.read_csv_strict(path, v.OUTCOME_COLUMNS, exact=True), path)
        v.check_known_geoids(outcomes, known, path, "cities.geojson")
    places_year, place_points = _all_places(folder)
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
        peers=peers,
        outcomes=outcomes,
        places_year=places_year,
        place_points=place_points,
    )
    log.info("loaded %s: %d cities, %d city-years", dataset.version, len(cities), len(crime))
    return dataset


def _all_places(folder: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """places_year.csv and places.csv (issue 13), both or neither: without them the map and ranking keep to
    the cities of crime_city_year.csv."""
    rows_path, points_path = folder / "places_year.csv", folder / "places.csv"
    if not (rows_path.is_file() and points_path.is_file()):
        return None, None
    rows = v.read_csv_strict(rows_path, v.PLACES_YEAR_COLUMNS, exact=True)
    rows = v.validate_places_year(rows, rows_path)
    points = v.read_csv_strict(points_path, v.PLACES_COLUMNS, exact=True)
    points = v.validate_place_points(points, points_path)
    return rows, points.set_index("geoid", drop=False)


@lru_cache(maxsize=4)
def get_dataset(folder: str | None = None) -> Dataset:
    """The process-wide dataset, loaded once."""
    return load_dataset(Path(folder) if folder else None)
