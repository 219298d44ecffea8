"""A raw source the pipeline cannot parse stops the build: one message naming the file, nothing written.

Each case builds a tree of symlinks to ``../shared/sources`` (the boundaries alone are 63 MB),
replaces one file with a broken copy and runs the build or the step that reads it. Faults are
chosen in files the build reads early (the raw CSVs are checked whole before any parsing, the
Census place lists and the first CIUS workbook come next), so these tests take seconds; one test
runs a build that fails late, at the boundary archives, to show nothing is written then either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard.errors import DataFileError
from dashboard.pipeline.build import build, check_boundary_sources
from dashboard.pipeline.io import SourceFileError, check_source_csv, write_files_atomic
from dashboard.pipeline.sources.kaplan import parse_kaplan_extracts
from tests.conftest import GEODATA, PROJECT_ROOT, SOURCES

pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="raw sources (../shared/sources) not present")

CITY_TABLE_2010 = "crime/eam17__460finalproject/10tbl08.xls"  # the first CIUS city table the build parses
MSA_2007 = "crime/cferggie__MSA-Data/MSA07.csv"
MARSHALL = "crime/themarshallproject__city-crime/ucr_crime_1975_2015.csv"
UCR_CITIES = "crime/ChrisBeaumont__crime/city_crime.csv"
KAPLAN_JACKSON = (
    "crime/jacobkap__crimedatatool_helper/Tennessee_Jackson_Police_Department.csv.first35cols_1985-2016.csv"
)
CDE = (
    "crime/lucag25__Crime-Trends-and-Socioeconomic-Differences-Across-The-U.S./estimated_crimes_1979_2019.csv"
)
PROGRAM_PLACES = "boundaries/program_cities.geojson"
CB_PLACES_CA = "boundaries/NYPL-Simplified__geojson-places-us/cb_2015_06_place_500k.zip"
CB_STATES = "boundaries/NYPL-Simplified__geojson-places-us/cb_2015_us_state_500k.zip"
PEP = "boundaries/Urban-Ocean-Lab__coastal_cities/SUB-IP-EST2019-ANNRNK.csv"
OUTPUTS = (
    "cities.geojson",
    "states.geojson",
    "crime_city_year.csv",
    "crime_national_year.csv",
    "COVERAGE.md",
)


# ----------------------------------------------------------------------------------------------------
# Fixtures and corruption helpers
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A tree of symlinks to the raw sources; tests replace single files with broken copies."""
    root = tmp_path / "sources"
    for folder, _, files in os.walk(SOURCES):
        target = root / Path(folder).relative_to(SOURCES)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            (target / name).symlink_to(Path(folder) / name)
    return root


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An output folder holding copies of the committed geodata (curated inputs and outputs)."""
    folder = tmp_path / "out"
    folder.mkdir()
    for name in ("programs.csv", "breaks.csv", *OUTPUTS):
        shutil.copy2(GEODATA / name, folder / name)
    return folder


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def private(sources: Path, rel: str) -> Path:
    """Replace a symlink with a real copy so it can be corrupted."""
    path = sources / rel
    original = path.resolve()
    path.unlink()
    shutil.copyfile(original, path)
    return path


def cut_mid_row(path: Path) -> None:
    data = path.read_bytes()
    cut = len(data) // 2
    while data[cut - 1 : cut] in (b"\n", b"\r") or data[cut : cut + 1] in (b"\n", b"\r"):
        cut += 1
    path.write_bytes(data[:cut])


def cut_mid_row_then_newline(path: Path) -> None:
    """A cut that an editor 'repaired' with a final newline: the last row is short.

    The cut falls after the third field of an unquoted row past the middle, so the quotes stay
    balanced and only the row width can tell that the file was cut.
    """
    lines = path.read_bytes().split(b"\n")
    index = next(
        i for i in range(len(lines) // 2, len(lines)) if b'"' not in lines[i] and lines[i].count(b",") > 3
    )
    short = b",".join(lines[index].split(b",")[:3])
    path.write_bytes(b"\n".join([*lines[:index], short]) + b"\n")


def garbage(path: Path) -> None:
    """Bytes that are no known format (and not UTF-8)."""
    path.write_bytes(bytes((i * 151 + 7) % 256 for i in range(8192)))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def delete(path: Path) -> None:
    path.unlink()


def invalid_utf8(line_number: int) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        lines[line_number - 1] = lines[line_number - 1][:10] + b"\xff\xfe" + lines[line_number - 1][10:]
        path.write_bytes(b"\n".join(lines))

    return corrupt


def rename_column(old: str, new: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        head, sep, rest = path.read_bytes().partition(b"\n")
        assert old.encode() in head
        path.write_bytes(head.replace(old.encode(), new.encode(), 1) + sep + rest)

    return corrupt


def replace_first(old: str, new: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        data = path.read_bytes()
        assert old.encode() in data
        path.write_bytes(data.replace(old.encode(), new.encode(), 1))

    return corrupt


def flip_middle_bytes(path: Path) -> None:
    """Damage compressed data inside a zip while its directory stays intact."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))


# ----------------------------------------------------------------------------------------------------
# build() refuses the broken source and names it
# ----------------------------------------------------------------------------------------------------

BUILD_FAULTS = [
    pytest.param(
        CITY_TABLE_2010,
        cut_mid_row,
        r"10tbl08\.xls: cannot be read as an Excel \.xls workbook \(\w+: .*\); is the file truncated",
        id="xls-truncated",
    ),
    pytest.param(
        CITY_TABLE_2010,
        garbage,
        r"10tbl08\.xls: cannot be read as an Excel \.xls workbook \(XLRDError: Unsupported format",
        id="xls-garbage-bytes",
    ),
    pytest.param(CITY_TABLE_2010, empty, r"10tbl08\.xls: is empty", id="xls-empty"),
    pytest.param(
        MSA_2007, cut_mid_row, r"MSA07\.csv, line \d+: does not end with a newline", id="csv-truncated"
    ),
    pytest.param(
        MSA_2007,
        cut_mid_row_then_newline,
        r"MSA07\.csv, line \d+: has \d+ fields, expected 22 \(truncated or garbled row\)",
        id="csv-truncated-short-row",
    ),
    pytest.param(
        CDE, garbage, r"estimated_crimes_1979_2019\.csv, line \d+: is not UTF-8 text", id="csv-garbage"
    ),
    pytest.param(
        KAPLAN_JACKSON,
        invalid_utf8(5),
        r"Tennessee_Jackson_Police_Department\.csv\.first35cols_1985-2016\.csv, line 5: is not UTF-8 text",
        id="csv-invalid-utf8",
    ),
    pytest.param(
        MARSHALL,
        rename_column("homs_sum", "homicides"),
        r"ucr_crime_1975_2015\.csv, line 1: missing column\(s\): homs_sum",
        id="csv-wrong-columns",
    ),
    pytest.param(UCR_CITIES, delete, r"city_crime\.csv: file is missing", id="csv-missing"),
    pytest.param(
        PROGRAM_PLACES,
        cut_mid_row,
        r"program_cities\.geojson, line \d+: is not valid JSON",
        id="geojson-truncated",
    ),
    pytest.param(
        PROGRAM_PLACES,
        replace_first('"GEOID"', '"GEO_ID"'),
        r"program_cities\.geojson: feature 1 lacks properties: GEOID",
        id="geojson-wrong-properties",
    ),
]


@pytest.mark.parametrize(("rel", "corrupt", "message"), BUILD_FAULTS)
def test_build_refuses_a_broken_source(
    sources: Path, out: Path, rel: str, corrupt: Callable[[Path], None], message: str
) -> None:
    corrupt(private(sources, rel))
    before = snapshot(out)
    with pytest.raises(SourceFileError, match=message) as info:
        build(sources, out)
    assert info.value.path.name == Path(rel).name
    assert "\n" not in str(info.value)
    assert snapshot(out) == before


def test_build_refuses_a_broken_curated_table(sources: Path, out: Path) -> None:
    """programs.csv and breaks.csv in --out get the app's own start-up checks."""
    path = out / "programs.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines[:3], lines[2], *lines[3:]]), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"programs\.csv, line 4: duplicate row for geoid=\d{7}"):
        build(sources, out)


def test_non_numeric_cell_names_the_extract(sources: Path) -> None:
    path = private(sources, KAPLAN_JACKSON)
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("act_murder")] = "twelve"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceFileError, match=r"Tennessee_Jackson.*\.csv: cannot be parsed \(.*twelve"):
        parse_kaplan_extracts(sources)


# ----------------------------------------------------------------------------------------------------
# The boundary archives and the population table (read last by the build)
# ----------------------------------------------------------------------------------------------------

BOUNDARY_FAULTS = [
    pytest.param(
        CB_PLACES_CA, cut_mid_row, r"cb_2015_06_place_500k\.zip: is not a readable zip", id="zip-cut"
    ),
    pytest.param(CB_STATES, garbage, r"cb_2015_us_state_500k\.zip: is not a readable zip", id="zip-garbage"),
    pytest.param(
        CB_PLACES_CA,
        flip_middle_bytes,
        r"cb_2015_06_place_500k\.zip: (member \S+ is corrupt|is not a readable zip)",
        id="zip-damaged-member",
    ),
    pytest.param(CB_STATES, delete, r"cb_2015_us_state_500k\.zip: file is missing", id="zip-missing"),
    pytest.param(
        PEP,
        cut_mid_row_then_newline,
        r"SUB-IP-EST2019-ANNRNK\.csv, line \d+: has \d+ fields, expected 14 \(truncated",
        id="population-table-cut",
    ),
]


@pytest.mark.parametrize(("rel", "corrupt", "message"), BOUNDARY_FAULTS)
def test_boundary_sources_are_checked(
    sources: Path, rel: str, corrupt: Callable[[Path], None], message: str
) -> None:
    corrupt(private(sources, rel))
    with pytest.raises(SourceFileError, match=message):
        check_boundary_sources(sources, ["0644000", "4748000"])  # Los Angeles CA, Memphis TN


def test_committed_sources_pass_the_checks() -> None:
    check_boundary_sources(SOURCES, ["0644000", "4748000"])
    check_source_csv(SOURCES / MSA_2007)


# ----------------------------------------------------------------------------------------------------
# Atomic output and the command line
# ----------------------------------------------------------------------------------------------------


def test_failed_write_replaces_nothing_and_leaves_no_temporary_files(out: Path) -> None:
    before = snapshot(out)
    files = {"crime_city_year.csv": "new text\n", "cities.geojson": None}  # the second cannot be written
    with pytest.raises(TypeError):
        write_files_atomic(out, files)  # type: ignore[arg-type]
    assert snapshot(out) == before


def test_write_replaces_all_files(out: Path) -> None:
    write_files_atomic(out, {"crime_city_year.csv": "a\n", "COVERAGE.md": "b\n"})
    assert (out / "crime_city_year.csv").read_text() == "a\n"
    assert (out / "COVERAGE.md").read_text() == "b\n"
    assert oct((out / "COVERAGE.md").stat().st_mode & 0o777) == "0o644"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def run_cli(sources: Path, out: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.pipeline", "build", "--sources", str(sources), "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_cli_exits_non_zero_with_one_line(sources: Path, out: Path) -> None:
    cut_mid_row(private(sources, CITY_TABLE_2010))
    before = snapshot(out)
    result = run_cli(sources, out)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1
    assert "build failed, nothing written:" in errors[0] and "10tbl08.xls: cannot be read" in errors[0]
    assert snapshot(out) == before


def test_late_failure_leaves_out_untouched(sources: Path, out: Path) -> None:
    """The one full-length run: every crime source parses, then the state archive is found broken."""
    cut_mid_row(private(sources, CB_STATES))
    before = snapshot(out)
    result = run_cli(sources, out)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "cb_2015_us_state_500k.zip: is not a readable zip archive" in result.stderr
    assert snapshot(out) == before
