"""A malformed or truncated data file stops start-up with a message naming file, line and problem.

Every file the app reads at start-up (the six ``geodata/`` files and the two ``dashboard/config/``
files) is corrupted in each way that matters: missing, empty, cut mid-row or mid-JSON, cut at a
line boundary, duplicated rows or features, non-numeric or non-finite values, invalid UTF-8,
references to unknown cities or offences. Each case builds a data folder of symlinks to the
committed files, replaces the one file under test with a broken copy, and checks the message.
A few cases run ``python app.py``, the WSGI module and gunicorn for exit codes and the absence
of a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.data.dataset import DATA_FILES, load_dataset
from dashboard.errors import DataFileError
from dashboard.settings import CONFIG_DIR
from tests.conftest import GEODATA, PROJECT_ROOT

CONFIG_FILES = ("offences.csv", "theme.json")


# ----------------------------------------------------------------------------------------------------
# Corruption helpers: each takes the path of a private copy and edits it in place.
# ----------------------------------------------------------------------------------------------------


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def edit_line(path: Path, line_number: int, transform: Callable[[str], str]) -> None:
    lines = read_lines(path)
    lines[line_number - 1] = transform(lines[line_number - 1])
    write_lines(path, lines)


def set_cell(line_number: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one CSV cell (quoting kept right by the csv module)."""

    def corrupt(path: Path) -> None:
        lines = read_lines(path)
        header = next(csv.reader([lines[0]]))
        row = next(csv.reader([lines[line_number - 1]]))
        row[header.index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(row)
        lines[line_number - 1] = out.getvalue()
        write_lines(path, lines)

    return corrupt


def delete_file(path: Path) -> None:
    path.unlink()


def empty_file(path: Path) -> None:
    path.write_bytes(b"")


def cut_mid_row(path: Path) -> None:
    """Cut the file in the middle of a line (not right after a newline)."""
    data = path.read_bytes()
    cut = len(data) // 2
    while data[cut - 1 : cut] == b"\n" or data[cut : cut + 1] == b"\n":
        cut += 1
    path.write_bytes(data[:cut])


def keep_first_lines(count: int) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        write_lines(path, read_lines(path)[:count])

    return corrupt


def drop_last_lines(count: int) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        write_lines(path, read_lines(path)[:-count])

    return corrupt


def duplicate_line(line_number: int) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        lines = read_lines(path)
        write_lines(path, [*lines[:line_number], lines[line_number - 1], *lines[line_number:]])

    return corrupt


def delete_line_starting(prefix: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        lines = read_lines(path)
        index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
        write_lines(path, lines[:index] + lines[index + 1 :])

    return corrupt


def insert_blank_line(line_number: int) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        lines = read_lines(path)
        write_lines(path, [*lines[: line_number - 1], "\n", *lines[line_number - 1 :]])

    return corrupt


def invalid_utf8(line_number: int) -> Callable[[Path], None]:
    """A Latin-1 byte in the middle of a line, as a spreadsheet export might leave."""

    def corrupt(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        line = lines[line_number - 1]
        lines[line_number - 1] = line[: len(line) // 2] + b"\xff" + line[len(line) // 2 :]
        path.write_bytes(b"\n".join(lines))

    return corrupt


def replace_text(old: str, new: str, line_number: int | None = None) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        if line_number is None:
            text = path.read_text(encoding="utf-8")
            assert old in text
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
        else:
            edit_line(path, line_number, lambda line: line.replace(old, new, 1))

    return corrupt


def add_column(name: str, value: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        lines = read_lines(path)
        out = [lines[0].rstrip("\n") + f",{name}\n"] + [
            line.rstrip("\n") + f",{value}\n" for line in lines[1:]
        ]
        write_lines(path, out)

    return corrupt


def edit_feature(number: int, transform: Callable[[dict], object]) -> Callable[[Path], None]:
    """Edit feature ``number`` (1-based) of a one-feature-per-line GeoJSON file (line number + 1)."""

    def corrupt(path: Path) -> None:
        lines = read_lines(path)
        line = lines[number]
        body, tail = (line[:-2], ",\n") if line.endswith(",\n") else (line[:-1], "\n")
        feature = json.loads(body)
        transform(feature)
        lines[number] = json.dumps(feature, separators=(",", ":")) + tail
        write_lines(path, lines)

    return corrupt


def first_position(feature: dict) -> list:
    coordinates = feature["geometry"]["coordinates"]
    while isinstance(coordinates[0][0], list):
        coordinates = coordinates[0]
    return coordinates[0]


def set_first_coordinate(value: object) -> Callable[[dict], None]:
    def transform(feature: dict) -> None:
        first_position(feature)[0] = value

    return transform


def set_property(key: str, value: object) -> Callable[[dict], None]:
    def transform(feature: dict) -> None:
        feature["properties"][key] = value

    return transform


def drop_property(key: str) -> Callable[[dict], None]:
    def transform(feature: dict) -> None:
        del feature["properties"][key]

    return transform


def open_first_ring(feature: dict) -> None:
    coordinates = feature["geometry"]["coordinates"]
    while isinstance(coordinates[0][0][0], list):
        coordinates = coordinates[0]
    ring = coordinates[0]
    ring[-1] = [ring[-1][0] + 0.5, ring[-1][1]]


def edit_json(transform: Callable[[dict], None]) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        transform(document)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    return corrupt


def first_non_program_city_rows_removed(path: Path) -> None:
    """Drop every crime row of one non-program city: what a cut at a line boundary would do."""
    text = (GEODATA / "programs.csv").read_text(encoding="utf-8")
    programs = {row["geoid"] for row in csv.DictReader(io.StringIO(text))}
    lines = read_lines(path)
    victim = next(line.split(",")[0] for line in lines[1:] if line.split(",")[0] not in programs)
    write_lines(path, [line for line in lines if not line.startswith(victim + ",")])


# ----------------------------------------------------------------------------------------------------
# The matrix: file x fault -> expected message (a regular expression)
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    file: str
    fault: str
    corrupt: Callable[[Path], None]
    message: str

    @property
    def id(self) -> str:
        return f"{self.file}-{self.fault}"


def common_faults(name: str, esc: str) -> list[Fault]:
    """Missing, empty and cut mid-row/mid-JSON: every file must refuse these."""
    cut = (
        rf"{esc}, line \d+: does not end with a newline: the file looks truncated"
        if not name.endswith("json")
        else rf"{esc}, line \d+: (feature \d+.*: )?is not valid JSON \(.*\); the file looks truncated"
    )
    return [
        Fault(name, "missing", delete_file, rf"{esc}: file is missing"),
        Fault(name, "empty", empty_file, rf"{esc}: is empty"),
        Fault(name, "cut-mid-row", cut_mid_row, cut),
    ]


CITY = "crime_city_year.csv"
NATIONAL = "crime_national_year.csv"
FAULTS: list[Fault] = [
    *common_faults(CITY, r"crime_city_year\.csv"),
    Fault(CITY, "header-only", keep_first_lines(1), r"crime_city_year\.csv: has a header but no data rows"),
    Fault(
        CITY,
        "cut-at-line-boundary",
        first_non_program_city_rows_removed,
        r"cities\.geojson, line \d+: feature \d+ \(geoid \d{7}\) has no rows in crime_city_year\.csv",
    ),
    Fault(
        CITY,
        "duplicated-row",
        duplicate_line(6),
        r"crime_city_year\.csv, line 7: duplicate row for geoid=\d{7}, year=\d{4} \(first on line 6\)",
    ),
    Fault(
        CITY,
        "non-numeric",
        set_cell(10, "murder", "twelve"),
        r"crime_city_year\.csv, line 10: column 'murder' must be a whole non-negative number, found 'twelve'",
    ),
    Fault(CITY, "negative", set_cell(3, "robbery", "-5"), r"crime_city_year\.csv, line 3: column 'robbery'"),
    Fault(CITY, "fraction", set_cell(4, "burglary", "12.5"), r"crime_city_year\.csv, line 4: .*'12\.5'"),
    Fault(CITY, "infinite", set_cell(5, "population", "inf"), r"crime_city_year\.csv, line 5: .*'inf'"),
    Fault(
        CITY,
        "bad-year",
        set_cell(8, "year", "19x5"),
        r"crime_city_year\.csv, line 8: column 'year' must be a year, found '19x5'",
    ),
    Fault(CITY, "invalid-utf8", invalid_utf8(12), r"crime_city_year\.csv, line 12: is not valid UTF-8 text"),
    Fault(
        CITY,
        "city-without-geometry",
        set_cell(5, "geoid", "9999999"),
        r"crime_city_year\.csv, line 5: geoid 9999999 has no boundary in cities\.geojson",
    ),
    Fault(
        CITY, "bad-geoid", set_cell(5, "geoid", "107000"), r"crime_city_year\.csv, line 5: geoid must be 7"
    ),
    Fault(
        CITY,
        "unknown-offence-column",
        add_column("arson", "0"),
        r"crime_city_year\.csv, line 1: unknown column\(s\): arson",
    ),
    Fault(
        CITY,
        "missing-column",
        replace_text("robbery", "robery", 1),
        r"crime_city_year\.csv, line 1: missing column.*robbery",
    ),
    Fault(CITY, "blank-line", insert_blank_line(20), r"crime_city_year\.csv, line 20: blank line inside"),
    Fault(
        CITY,
        "extra-field",
        replace_text("\n", ",9\n", 11),
        r"crime_city_year\.csv, line 11: has 17 fields, expected 16",
    ),
    Fault(
        CITY,
        "months-out-of-range",
        set_cell(8, "months_reported", "13"),
        r"crime_city_year\.csv.*months_reported must be empty or 1-12",
    ),
    Fault(
        CITY,
        "unknown-rape-definition",
        set_cell(8, "rape_definition", "new"),
        r"crime_city_year\.csv, line 8: column 'rape_definition' must be one of legacy, revised, found 'new'",
    ),
    Fault(
        CITY,
        "no-source",
        set_cell(9, "source", ""),
        r"crime_city_year\.csv, line 9: column 'source' is empty",
    ),
    *common_faults(NATIONAL, r"crime_national_year\.csv"),
    Fault(
        NATIONAL,
        "cut-at-line-boundary",
        drop_last_lines(3),
        r"crime_national_year\.csv: no row for year \d{4} \(revised rape definition\), "
        r"which crime_city_year\.csv needs",
    ),
    Fault(
        NATIONAL,
        "row-missing-inside",
        delete_line_starting("1970,"),
        r"crime_national_year\.csv: no row for year\(s\) 1970",
    ),
    Fault(
        NATIONAL,
        "duplicated-row",
        duplicate_line(5),
        r"crime_national_year\.csv, line 6: duplicate row for year=\d{4}, rape_definition=legacy",
    ),
    Fault(
        NATIONAL,
        "non-numeric",
        set_cell(3, "population", "n/a"),
        r"crime_national_year\.csv, line 3: column 'population' .* found 'n/a'",
    ),
    Fault(NATIONAL, "invalid-utf8", invalid_utf8(4), r"crime_national_year\.csv, line 4: is not valid UTF-8"),
    *common_faults("programs.csv", r"programs\.csv"),
    Fault(
        "programs.csv",
        "duplicated-row",
        duplicate_line(3),
        r"programs\.csv, line 4: duplicate row for geoid=\d{7}, program=\w+",
    ),
    Fault(
        "programs.csv",
        "city-not-in-cities-geojson",
        set_cell(2, "geoid", "9999999"),
        r"programs\.csv, line 2: geoid 9999999 has no boundary in cities\.geojson",
    ),
    Fault(
        "programs.csv",
        "bad-date",
        set_cell(4, "announced", "June 2017"),
        r"programs\.csv, line 4: column 'announced' must be a date",
    ),
    Fault(
        "programs.csv", "empty-cohort", set_cell(5, "cohort", ""), r"programs\.csv, line 5: column 'cohort'"
    ),
    Fault("programs.csv", "invalid-utf8", invalid_utf8(6), r"programs\.csv, line 6: is not valid UTF-8"),
    *common_faults("breaks.csv", r"breaks\.csv"),
    Fault("breaks.csv", "duplicated-row", duplicate_line(4), r"breaks\.csv, line 5: duplicate row"),
    Fault(
        "breaks.csv",
        "non-numeric",
        set_cell(3, "year_from", "19x5"),
        r"breaks\.csv, line 3: column 'year_from' must be a year, found '19x5'",
    ),
    Fault(
        "breaks.csv",
        "unknown-city",
        set_cell(2, "geoid", "9999999"),
        r"breaks\.csv, line 2: geoid 9999999 has no boundary in cities\.geojson",
    ),
    Fault(
        "breaks.csv",
        "unknown-offence",
        set_cell(4, "offences", "violent_crime;arson"),
        r"breaks\.csv, line 4: .*unknown offence 'arson'",
    ),
    Fault("breaks.csv", "unknown-kind", set_cell(5, "kind", "oops"), r"breaks\.csv, line 5: column 'kind'"),
    Fault(
        "breaks.csv",
        "reversed-years",
        set_cell(3, "year_to", "1900"),
        r"breaks\.csv, line 3: year_from is after year_to",
    ),
    Fault("breaks.csv", "invalid-utf8", invalid_utf8(2), r"breaks\.csv, line 2: is not valid UTF-8"),
    *common_faults("cities.geojson", r"cities\.geojson"),
    Fault(
        "cities.geojson",
        "duplicated-feature",
        duplicate_line(3),
        r"cities\.geojson, line 4: feature 3 \(geoid \d{7}\) repeats the geoid of feature 2",
    ),
    Fault(
        "cities.geojson",
        "nan-coordinate",
        edit_feature(5, set_first_coordinate(float("nan"))),
        r"cities\.geojson, line 6: feature 5 \(geoid \d{7}\): NaN is not a valid JSON number",
    ),
    Fault(
        "cities.geojson",
        "infinite-coordinate",
        edit_feature(5, set_first_coordinate(1e999)),
        r"cities\.geojson, line 6: feature 5 \(geoid \d{7}\): Infinity is not a valid JSON number",
    ),
    Fault(
        "cities.geojson",
        "overflowing-coordinate",
        replace_text("[[-", "[[-1e999,0],[-", 8),
        r"cities\.geojson, line 8: feature 7 \(geoid \d{7}\): invalid coordinate \[-inf",
    ),
    Fault(
        "cities.geojson",
        "text-coordinate",
        edit_feature(5, set_first_coordinate("-86.6")),
        r"cities\.geojson, line 6: feature 5 \(geoid \d{7}\): invalid coordinate \['-86\.6'",
    ),
    Fault(
        "cities.geojson",
        "non-numeric-property",
        edit_feature(7, set_property("population", "many")),
        r"cities\.geojson, line 8: feature 7 \(geoid \d{7}\): 'population' must be a whole number",
    ),
    Fault(
        "cities.geojson",
        "nan-marker",
        edit_feature(7, set_property("lat", float("nan"))),
        r"cities\.geojson, line 8: feature 7 \(geoid \d{7}\): NaN is not a valid JSON number",
    ),
    Fault(
        "cities.geojson",
        "missing-property",
        edit_feature(9, drop_property("label")),
        r"cities\.geojson, line 10: feature 9 \(geoid \d{7}\) lacks properties: label",
    ),
    Fault(
        "cities.geojson",
        "point-geometry",
        edit_feature(2, lambda f: f.update(geometry={"type": "Point", "coordinates": [0, 0]})),
        r"cities\.geojson, line 3: feature 2 \(geoid \d{7}\): has no polygon geometry",
    ),
    Fault(
        "cities.geojson",
        "open-ring",
        edit_feature(4, open_first_ring),
        r"cities\.geojson, line 5: feature 4 \(geoid \d{7}\): a polygon ring is not closed",
    ),
    Fault(
        "cities.geojson", "invalid-utf8", invalid_utf8(11), r"cities\.geojson, line 11: is not valid UTF-8"
    ),
    Fault(
        "cities.geojson",
        "not-a-collection",
        replace_text('"type":"FeatureCollection"', '"type":"Feature"', 1),
        r"cities\.geojson: is not a GeoJSON FeatureCollection",
    ),
    *common_faults("states.geojson", r"states\.geojson"),
    Fault(
        "states.geojson",
        "duplicated-feature",
        duplicate_line(2),
        r"states\.geojson, line 3: feature 2 \(statefp \d\d\) repeats the statefp of feature 1",
    ),
    Fault(
        "states.geojson",
        "nan-coordinate",
        edit_feature(3, set_first_coordinate(float("nan"))),
        r"states\.geojson, line 4: feature 3 \(statefp \d\d\): NaN is not a valid JSON number",
    ),
    Fault(
        "states.geojson",
        "bad-statefp",
        edit_feature(3, set_property("statefp", 4)),
        r"states\.geojson, line 4: feature 3 \(statefp 4\): 'statefp' must be a 2-digit string",
    ),
    Fault("states.geojson", "invalid-utf8", invalid_utf8(5), r"states\.geojson, line 5: is not valid UTF-8"),
    *common_faults("offences.csv", r"offences\.csv"),
    Fault(
        "offences.csv",
        "duplicated-row",
        duplicate_line(3),
        r"offences\.csv, line 4: duplicate row for offence=",
    ),
    Fault(
        "offences.csv",
        "unknown-offence",
        set_cell(10, "offence", "arson"),
        r"offences\.csv, line 10: column 'offence' must be one of .*found 'arson'",
    ),
    Fault(
        "offences.csv",
        "offence-missing",
        drop_last_lines(1),
        r"offences\.csv: no row for offence\(s\): \w+",
    ),
    Fault(
        "offences.csv",
        "non-numeric",
        set_cell(4, "order", "third"),
        r"offences\.csv, line 4: column 'order' .*'third'",
    ),
    Fault(
        "offences.csv",
        "bad-boolean",
        set_cell(2, "rape_linked", "yes"),
        r"offences\.csv, line 2: column 'rape_linked' must be true or false",
    ),
    Fault("offences.csv", "invalid-utf8", invalid_utf8(3), r"offences\.csv, line 3: is not valid UTF-8"),
    *common_faults("theme.json", r"theme\.json"),
    Fault(
        "theme.json",
        "duplicated-key",
        replace_text('"font_size": 15,', '"font_size": 15,\n  "font_size": 16,'),
        r"theme\.json, line \d+: key 'font_size' appears twice",
    ),
    Fault(
        "theme.json",
        "bad-colour",
        edit_json(lambda t: t.update(city_colour="crimson-ish")),
        r"theme\.json, line \d+: 'city_colour' must be a colour",
    ),
    Fault(
        "theme.json",
        "non-numeric",
        edit_json(lambda t: t.update(font_size="15px")),
        r"theme\.json, line \d+: 'font_size' must be a positive number, found '15px'",
    ),
    Fault(
        "theme.json",
        "nan",
        edit_json(lambda t: t.update(map_zoom=float("nan"))),
        r"theme\.json, line \d+: NaN is not a valid JSON number",
    ),
    Fault(
        "theme.json",
        "unknown-colour-scale",
        edit_json(lambda t: t.update(rate_colorscale="Rainbowish")),
        r"theme\.json, line \d+: 'rate_colorscale' is not a plotly colour scale name",
    ),
    Fault("theme.json", "missing-key", edit_json(lambda t: t.pop("map_center")), r"theme\.json: missing key"),
    Fault("theme.json", "invalid-utf8", invalid_utf8(2), r"theme\.json, line 2: is not valid UTF-8"),
]


def linked_copy(source: Path, target: Path, names: tuple[str, ...]) -> Path:
    """A folder of symlinks to ``source``'s files; a test replaces one link with a broken copy."""
    target.mkdir()
    for name in names:
        (target / name).symlink_to(source / name)
    return target


def make_private(path: Path) -> Path:
    """Replace a symlink with a real copy of the file it points to, so it can be corrupted."""
    original = path.resolve()
    path.unlink()
    shutil.copyfile(original, path)
    return path


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return (
        linked_copy(GEODATA, tmp_path / "geodata", DATA_FILES),
        linked_copy(CONFIG_DIR, tmp_path / "config", CONFIG_FILES),
    )


def test_committed_data_loads() -> None:
    dataset = load_dataset(GEODATA)
    assert len(dataset.cities) > 300
    assert dataset.version.startswith("data ")
    assert list(dataset.crime.index[:3]) == [0, 1, 2]  # line-number index is not leaked


def test_every_file_is_covered() -> None:
    covered = {fault.file for fault in FAULTS}
    assert covered == set(DATA_FILES) | set(CONFIG_FILES)
    for name in covered:
        kinds = {fault.fault for fault in FAULTS if fault.file == name}
        assert {"missing", "empty", "cut-mid-row", "invalid-utf8"} <= kinds, name
        assert kinds & {"duplicated-row", "duplicated-feature", "duplicated-key"}, name


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_fault_is_refused_with_file_line_and_problem(fault: Fault, folders: tuple[Path, Path]) -> None:
    geodata, config = folders
    folder = config if fault.file in CONFIG_FILES else geodata
    fault.corrupt(make_private(folder / fault.file))
    with pytest.raises(DataFileError, match=fault.message) as info:
        load_dataset(geodata, config_dir=config)
    assert info.value.path.name in str(info.value)
    assert "\n" not in str(info.value)


def test_bom_and_crlf_are_accepted(folders: tuple[Path, Path]) -> None:
    """A spreadsheet round trip of a curated table (BOM, CRLF) is not an error."""
    geodata, config = folders
    path = make_private(geodata / "programs.csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    dataset = load_dataset(geodata, config_dir=config)
    assert dataset.programs.equals(load_dataset(GEODATA).programs)


# ----------------------------------------------------------------------------------------------------
# Start-up entry points: exit status, one clear line, no traceback
# ----------------------------------------------------------------------------------------------------


def run(args: list[str], geodata: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "ATLAS_GEODATA": str(geodata)},
    )


def test_app_refuses_to_start_on_bad_data(folders: tuple[Path, Path]) -> None:
    geodata, _ = folders
    path = make_private(geodata / CITY)
    edit_line(path, 4, lambda line: line.replace(",", ",x", 3).replace(",x", ",", 2))
    result = run([sys.executable, "app.py", "--port", "1"], geodata)
    assert result.returncode == 2
    assert "crime_city_year.csv, line 4" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_refuses_truncated_geojson(folders: tuple[Path, Path]) -> None:
    geodata, _ = folders
    cut_mid_row(make_private(geodata / "cities.geojson"))
    result = run([sys.executable, "app.py", "--port", "1"], geodata)
    assert result.returncode == 2
    assert "cities.geojson, line" in result.stderr and "truncated" in result.stderr
    assert "Traceback" not in result.stderr


def test_wsgi_import_exits_with_app_load_error(folders: tuple[Path, Path]) -> None:
    geodata, _ = folders
    duplicate_line(7)(make_private(geodata / "breaks.csv"))
    result = run([sys.executable, "-c", "import dashboard.wsgi"], geodata)
    assert result.returncode == 4
    assert "breaks.csv, line 8: duplicate row" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("gunicorn") is None, reason="gunicorn is in the [serve] extra")
def test_gunicorn_preload_stops_with_one_clear_line(folders: tuple[Path, Path]) -> None:
    geodata, _ = folders
    invalid_utf8(3)(make_private(geodata / "programs.csv"))
    result = run(
        ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "dashboard.wsgi:server"], geodata
    )
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    problem = [line for line in result.stderr.splitlines() if "programs.csv" in line]
    assert len(problem) == 1 and "line 3: is not valid UTF-8" in problem[0]
