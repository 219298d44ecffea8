"""Build the project's curated ``geodata/`` files from the raw public sources.

    python -m dashboard.pipeline build --sources ../shared/sources --out geodata/

Inputs are the raw files under ``--sources`` plus two curated tables already in
``--out`` (``programs.csv``: which city is in which program; ``breaks.csv``: known
breaks and gaps with citations). Outputs are written atomically and deterministically,
so running the build twice gives identical bytes.

Failure is all-or-nothing: every output's text is computed in memory first, then all
files are staged as temporary files and renamed together (:func:`write`). A source the
build cannot parse raises :class:`~dashboard.pipeline.io.SourceFileError` naming the file
(and row when known); the raw CSV sources are checked whole before any parsing starts, so
a truncated copy is refused in seconds rather than after the slow steps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard.data import validate as validation
from dashboard.pipeline import (
    coverage,
    dispositions,
    outcomes,
    peers,
    place_series,
    screening,
    screens,
    sites,
)
from dashboard.pipeline import places as all_places
from dashboard.pipeline.boundaries import assemble, census
from dashboard.pipeline.boundaries.counties import add_counties
from dashboard.pipeline.harmonise import apply_breaks, harmonise
from dashboard.pipeline.io import (
    SourceFileError,
    check_source_csv,
    check_zip,
    csv_text,
    describe,
    geojson_text,
    load_source_json,
    write_files_atomic,
)
from dashboard.pipeline.names import Place, PlaceMatcher
from dashboard.pipeline.sources import kaplan, marshall, ucr_data_tool
from dashboard.pipeline.sources.cius_city import parse_city_tables
from dashboard.pipeline.sources.cius_county import parse_camden_county
from dashboard.pipeline.sources.cius_groups import parse_table_16
from dashboard.pipeline.sources.cius_msa import MSA_DIR, parse_msa_metro_totals, parse_msa_tables
from dashboard.pipeline.sources.kaplan import parse_kaplan_extracts
from dashboard.pipeline.sources.marshall import parse_marshall
from dashboard.pipeline.sources.national import _CDE_COLUMNS as CDE_COLUMNS
from dashboard.pipeline.sources.national import CDE_FILE, build_national_series
from dashboard.pipeline.sources.ucr_data_tool import parse_ucr_data_tool_cities
from dashboard.pipeline.subdivisions import county_subdivision_codes
from dashboard.schema import RAW_CITY_COLUMNS

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
    for rel in census.TIGER_PLACE_FILES:
        path = sources / rel
        collection = load_source_json(path)
        features = collection.get("features") if isinstance(collection, dict) else None
        if not isinstance(features, list) or not features:
            raise SourceFileError(path, "is not a GeoJSON FeatureCollection with features")
        for number, feature in enumerate(features, start=1):
            props = feature.get("properties") if isinstance(feature, dict) else None
            missing = [
                k for k in ("GEOID", "STUSPS", "NAME") if not isinstance(props, dict) or k not in props
            ]
            if missing:
                raise SourceFileError(path, f"feature {number} lacks properties: {', '.join(missing)}")
            places[props["GEOID"]] = Place(props["GEOID"], props["STUSPS"], props["NAME"])
    # Issue 12: program cities under 100,000 that the TIGER files lack are named from CB 2015.
    extra = sites.cb_places(sources, sorted(set(sites.place_geoids(programs["geoid"])) - set(places)))
    places.update({place.geoid: place for place in extra})
    missing = sorted(set(sites.place_geoids(programs["geoid"])) - set(places))
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


def raw_csv_sources(sources: Path) -> dict[Path, tuple[str, ...]]:
    """Every raw CSV the city and national parsers read, with the header columns each needs.

    The column lists are the ones the parsers themselves look up (MSA tables and Kaplan
    extracts are laid out per edition or schema, so their parsers find their own headers).
    """
    sources = Path(sources)
    ucr_columns = ("Agency", "State", "Population", "Year", *ucr_data_tool.RATE_COLUMNS.values())
    found: dict[Path, tuple[str, ...]] = dict.fromkeys(sorted((sources / MSA_DIR).glob("MSA*.csv")), ())
    kaplan_columns = ("ORI", "state", "agency", "year", "population")
    found.update(dict.fromkeys(sorted((sources / kaplan.FOLDER).glob("*.csv")), kaplan_columns))
    found[sources / ucr_data_tool.CITY_FILE] = ucr_columns
    found[sources / ucr_data_tool.STATE_FILE] = tuple(c for c in ucr_columns if c != "Agency")
    marshall_columns = ("ORI", "year", "department_name", "total_pop", "months_reported", "source")
    found[sources / marshall.FILE] = (*marshall_columns, *marshall._COUNT_COLUMNS.values())
    found[sources / CDE_FILE] = ("year", "state_abbr", "caveats", *CDE_COLUMNS)
    return found


def check_sources(sources: Path) -> None:
    """Fail fast on a truncated, garbled or missing raw CSV: before the slow parsing steps."""
    for path, columns in raw_csv_sources(sources).items():
        check_source_csv(path, columns=columns)


def check_boundary_sources(sources: Path, geoids: list[str]) -> None:
    """The zip archives the boundary step reads open and pass their CRC checks.

    GDAL reports a cut or garbled zip only as "does not exist in the file system", so the
    archives are tested here first; the message then says which file is broken and how.
    """
    sources = Path(sources)
    check_zip(sources / census.CB_STATE_ZIP, (".shp", ".dbf", ".shx"))
    for statefp in sorted({g[:2] for g in geoids}):
        path = sources / str(census.CB_PLACE_ZIP).format(statefp=statefp)
        if path.exists():  # a state without a CB file falls back to TIGER (boundaries/census.py)
            check_zip(path, (".shp", ".dbf", ".shx"))
    check_source_csv(sources / census.PEP_CSV, final_newline=False)


@contextmanager
def step(name: str, where: Path) -> Iterator[None]:
    """Any failure in a build step that did not already name its file names the step and folder."""
    try:
        yield
    except validation.DataFileError:
        raise
    except Exception as exc:  # a parser bug or a library error: still one clear line
        raise SourceFileError(where, f"{name} failed ({describe(exc)})") from exc


def read_curated(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """programs.csv and breaks.csv from ``out``, validated with the app's own start-up checks."""
    for name, columns in (
        ("programs.csv", validation.PROGRAM_COLUMNS),
        ("breaks.csv", validation.BREAK_COLUMNS),
    ):
        frame = validation.read_csv_strict(out / name, columns)
        if name == "programs.csv":
            validation.validate_programs(frame, out / name)
        else:
            validation.validate_breaks(frame, out / name)
    programs = pd.read_csv(out / "programs.csv", dtype=str, keep_default_na=False)
    breaks = pd.read_csv(out / "breaks.csv", dtype={"geoid": str}, keep_default_na=False)
    return programs, breaks


def build(sources: Path, out: Path) -> BuildResult:
    """Compute every output file's text; nothing is written here (see :func:`write`)."""
    sources, out = Path(sources), Path(out)
    programs, breaks = read_curated(out)
    check_sources(sources)
    places = universe_places(sources, programs)
    with step("parsing the crime sources", sources / "crime"):
        raw = parse_all_city_sources(sources)
    raw["geoid"] = PlaceMatcher(places).match_frame(raw)
    with step("parsing the county table", sources / "crime"):  # issue 12: county sites, by GEOID
        raw = sites.with_county_rows(raw, sources, programs)
    unmatched = unmatched_rows(raw)
    for row in unmatched.itertuples():
        log.warning(
            "unmatched FBI row: %s | %s | %s | years %s", row.source, row.state, row.agency, row.years
        )

    with step("harmonising the city rows", sources / "crime"):
        city_years = apply_breaks(harmonise(raw), breaks)
    with step("building the national series", sources / "crime"):
        national = build_national_series(sources)
    with step("summing the population groups", sources / "crime"):  # issue 13: peers of a place's size
        city_table_rows = raw[raw["source_kind"] == "cius_city_table"]
        peer_groups = peers.peer_group_rows(city_table_rows)
        peer_groups = peers.with_published_check(peer_groups, parse_table_16(sources))
    with step("matching every city-table row to a Census place", sources / "boundaries"):
        every_place = all_places.match_all_rows(
            city_table_rows,
            all_places.gazetteer_places(sources),
            county_subdivision_codes(sources),
        )

    with_data = set(city_years["geoid"])
    included = sorted(with_data | set(programs["geoid"]))
    city_years = city_years[city_years["geoid"].isin(included)]
    check_boundary_sources(sources, included)
    with step("building the city boundaries", sources / "boundaries"):
        cities = assemble.build_cities(sources, sites.place_geoids(included))
        cities = add_counties(cities, sources, sites.county_geoids(included))  # issue 12
        fill_missing_populations(cities, city_years)
    with step("building the state outlines", sources / "boundaries"):
        states = assemble.build_states(sources)

    city_years, report = screen_figures(city_years, breaks, cities, out, metro_by_place(raw, sources))
    with step("comparing the sites with places in no program", out):  # issue 14: synthetic controls
        outcome_rows = outcomes.outcome_rows(city_years, programs)
    result = BuildResult(unmatched=unmatched)
    result.files = {
        "cities.geojson": geojson_text(cities),
        "states.geojson": geojson_text(states),
        "crime_city_year.csv": csv_text(city_years),
        "crime_national_year.csv": csv_text(national),
        "peer_groups_year.csv": csv_text(peer_groups),
        "outcomes.csv": csv_text(outcome_rows),
        "COVERAGE.md": coverage.coverage_markdown(city_years, programs, cities, unmatched)
        + "\n".join(["", *all_places.match_rate_markdown(every_place)]),
        "unmatched_places.csv": csv_text(all_places.unmatched_csv(every_place)),
    }
    with step("writing every place's rows", sources / "boundaries"):  # issue 13: the all-places map
        places_year = place_series.places_year_rows(every_place, city_table_rows)
        result.files["places_year.csv"] = csv_text(places_year)
        points = place_series.place_points(sources, set(places_year["geoid"].dropna()))
        result.files["places.csv"] = csv_text(points)
    result.files["SCREENING.md"] = report
    return result


def metro_by_place(raw: pd.DataFrame, sources: Path) -> pd.DataFrame:
    """The CIUS MSA tables' area totals keyed by the GEOID their principal-city row matched."""
    key = ["source", "state", "agency", "year"]
    matched = raw.loc[raw["source_kind"] == "cius_msa_table", [*key, "geoid"]].dropna(subset=["geoid"])
    metro = parse_msa_metro_totals(sources).merge(matched, on=key)
    return metro.drop(columns=["source", "state", "agency"]).drop_duplicates(["geoid", "year"])


def screen_figures(
    city_years: pd.DataFrame, breaks: pd.DataFrame, cities: dict, out: Path, metro: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, str]:
    """Run the plausibility screens, apply the curated dispositions (``geodata/screening.csv``) and word
    the report. Withheld figures are blanked first and the screens run again, so a jump back from a
    withheld year is not a hit of its own; any hit left without a disposition stops the build."""
    thresholds = screens.load_thresholds()
    labels = {f["properties"]["geoid"]: f["properties"]["label"] for f in cities["features"]}
    with step("screening the figures", out):
        found = screening.run_screens(city_years, breaks, cities, thresholds, metro)
    path = out / dispositions.FILE
    chosen = dispositions.read_dispositions(path, {name for name, _, _ in found})
    city_years = dispositions.apply_withheld(city_years, chosen)
    remaining = screening.run_screens(city_years, breaks, cities, thresholds, metro)
    left = dispositions.undisposed(pd.concat([hits for *_, hits in remaining], ignore_index=True), chosen)
    if not left.empty:
        listed = "; ".join(
            f"{labels.get(h.geoid, h.geoid)} {'' if pd.isna(h.year) else int(h.year)} {h.screen} = {h.value}"
            for h in left.head(10).itertuples()
        )
        raise validation.DataFileError(path, f"{len(left)} screen hit(s) have no disposition: {listed}")
    city_years = dispositions.apply_flags(city_years, chosen)
    outlines = next(hits for name, _, hits in found if name == "polygon beyond land")
    dispositions.outline_notes(cities, outlines, chosen)
    return city_years, screening.screening_markdown(found, remaining, chosen, labels)


def write(result: BuildResult, out: Path) -> None:
    """Replace the outputs together: all are staged as temporary files, then renamed."""
    write_files_atomic(out, result.files)
    for name, text in result.files.items():
        log.info("wrote %s (%d bytes)", Path(out) / name, len(text.encode("utf-8")))
