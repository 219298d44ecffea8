"""Build the project's curated ``geodata/`` files from the raw public sources.

    python -m dashboard.pipeline build --sources ../shared/sources --out geodata/

Inputs are the raw files under ``--sources`` plus two curated tables already in
``--out`` (``programs.csv``: which city is in which program; ``breaks.csv``: known
breaks and gaps with citations). Outputs are written atomically and deterministically,
so running the build twice gives identical bytes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import boundaries, coverage
from .harmonise import apply_breaks, harmonise
from .io import csv_text, geojson_text, write_text_atomic
from .names import Place, PlaceMatcher
from .schema import RAW_CITY_COLUMNS
from .sources.cius_city import parse_city_tables
from .sources.cius_county import parse_camden_county
from .sources.cius_msa import parse_msa_tables
from .sources.kaplan import parse_kaplan_extracts
from .sources.marshall import parse_marshall
from .sources.national import build_national_series
from .sources.ucr_data_tool import parse_ucr_data_tool_cities

log = logging.getLogger(__name__)

# Rows from places this large that match no GEOID are reported: they should be in the universe.
UNMATCHED_REPORT_MIN_POPULATION = 100_000


@dataclass
class BuildResult:
    files: dict[str, str] = field(default_factory=dict)  # file name -> text
    unmatched: pd.DataFrame | None = None


def universe_places(sources: Path, programs: pd.DataFrame) -> list[Place]:
    """Program cities plus every Census place of 100,000+ people (boundaries PROVENANCE)."""
    places: dict[str, Place] = {}
    for name in ("places_pop100k.geojson", "program_cities.geojson"):
        with open(sources / "boundaries" / name, encoding="utf-8") as handle:
            for feature in json.load(handle)["features"]:
                props = feature["properties"]
                places[props["GEOID"]] = Place(props["GEOID"], props["STUSPS"], props["NAME"])
    missing = sorted(set(programs["geoid"]) - set(places))
    if missing:
        raise ValueError(f"programs.csv names GEOIDs with no boundary in the sources: {missing}")
    return sorted(places.values(), key=lambda p: p.geoid)


def parse_all_city_sources(sources: Path) -> pd.DataFrame:
    frames = [
        parse_city_tables(sources),
        parse_msa_tables(sources),
        parse_camden_county(sources),
        parse_kaplan_extracts(sources),
        parse_ucr_data_tool_cities(sources),
        parse_marshall(sources),
    ]
    raw = pd.concat([f[list(RAW_CITY_COLUMNS)] for f in frames], ignore_index=True)
    log.info("parsed %d source rows from %d source kinds", len(raw), raw["source_kind"].nunique())
    return raw


def unmatched_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Large agencies that matched no place: the build reports them, it never drops them silently."""
    big = raw["geoid"].isna() & (raw["population"].fillna(0) >= UNMATCHED_REPORT_MIN_POPULATION)
    report = (
        raw[big]
        .groupby(["source", "state", "agency"], as_index=False)
        .agg(
            years=("year", lambda y: ",".join(str(v) for v in sorted(set(y)))),
            max_population=("population", "max"),
        )
        .sort_values(["state", "agency", "source"], kind="stable")
    )
    return report.reset_index(drop=True)


def fill_missing_populations(cities: dict, city_years: pd.DataFrame) -> None:
    """Places outside the Census 50k+ estimates table get the latest FBI agency population."""
    latest = city_years.dropna(subset=["population"]).sort_values("year").groupby("geoid").tail(1)
    by_geoid = latest.set_index("geoid")
    for feature in cities["features"]:
        props = feature["properties"]
        if props.get("population") is None and props["geoid"] in by_geoid.index:
            row = by_geoid.loc[props["geoid"]]
            props["population"] = int(row["population"])
            props["population_year"] = int(row["year"])
            props["population_source"] = f"FBI UCR agency population ({row['source'].split(' + ')[0]})"


def build(sources: Path, out: Path) -> BuildResult:
    """Compute every output file's text; nothing is written here (see :func:`write`)."""
    programs = pd.read_csv(out / "programs.csv", dtype=str, keep_default_na=False)
    breaks = pd.read_csv(out / "breaks.csv", dtype={"geoid": str}, keep_default_na=False)
    places = universe_places(sources, programs)
    raw = parse_all_city_sources(sources)
    raw["geoid"] = PlaceMatcher(places).match_frame(raw)
    unmatched = unmatched_rows(raw)
    for row in unmatched.itertuples():
        log.warning(
            "unmatched FBI row: %s | %s | %s | years %s", row.source, row.state, row.agency, row.years
        )

    city_years = apply_breaks(harmonise(raw), breaks)
    national = build_national_series(sources)

    with_data = set(city_years["geoid"])
    included = sorted(with_data | set(programs["geoid"]))
    city_years = city_years[city_years["geoid"].isin(included)]
    cities = boundaries.build_cities(sources, included)
    fill_missing_populations(cities, city_years)
    states = boundaries.build_states(sources)

    result = BuildResult(unmatched=unmatched)
    result.files = {
        "cities.geojson": geojson_text(cities),
        "states.geojson": geojson_text(states),
        "crime_city_year.csv": csv_text(city_years),
        "crime_national_year.csv": csv_text(national),
        "COVERAGE.md": coverage.coverage_markdown(city_years, programs, cities, unmatched),
    }
    return result


def write(result: BuildResult, out: Path) -> None:
    for name, text in result.files.items():
        write_text_atomic(out / name, text)
        log.info("wrote %s (%d bytes)", out / name, len(text.encode("utf-8")))
