"""A malformed or truncated data file stops start-up with a message naming file, line and problem."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.data import load_dataset
from dashboard.validation import DataFileError

from .conftest import GEODATA, PROJECT_ROOT


@pytest.fixture
def broken_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "geodata"
    shutil.copytree(GEODATA, folder)
    return folder


def edit_line(path: Path, line_number: int, transform) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line_number - 1] = transform(lines[line_number - 1])
    path.write_text("".join(lines), encoding="utf-8")


def test_committed_data_loads() -> None:
    dataset = load_dataset(GEODATA)
    assert len(dataset.cities) > 300
    assert dataset.version.startswith("data ")


def test_non_numeric_count_names_file_line_and_column(broken_copy: Path) -> None:
    path = broken_copy / "crime_city_year.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    murder = header.index("murder")

    def corrupt(line: str) -> str:
        cells = line.rstrip("\n").split(",")
        cells[murder] = "twelve"
        return ",".join(cells) + "\n"

    edit_line(path, 10, corrupt)
    with pytest.raises(DataFileError) as info:
        load_dataset(broken_copy)
    message = str(info.value)
    assert "crime_city_year.csv" in message and "line 10" in message and "murder" in message
    assert "twelve" in message


def test_duplicate_city_year_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "crime_city_year.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines[:6], lines[5], *lines[6:]]), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"line 7: duplicate row for geoid=\d{7}, year=\d{4}"):
        load_dataset(broken_copy)


def test_truncated_file_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "crime_national_year.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2 - 7], encoding="utf-8")  # cut mid-row
    with pytest.raises(DataFileError, match=r"crime_national_year\.csv"):
        load_dataset(broken_copy)


def test_missing_column_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "crime_city_year.csv"
    edit_line(path, 1, lambda line: line.replace("robbery", "robery"))
    with pytest.raises(DataFileError, match=r"line 1: missing column.*robbery"):
        load_dataset(broken_copy)


def test_negative_count_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "crime_national_year.csv"
    edit_line(path, 3, lambda line: line.replace(",", ",-", 2).replace(",-", ",", 1))
    with pytest.raises(DataFileError, match="line 3"):
        load_dataset(broken_copy)


def test_broken_geojson_is_refused(broken_copy: Path) -> None:
    path = broken_copy / "cities.geojson"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 3], encoding="utf-8")
    with pytest.raises(DataFileError, match=r"cities\.geojson.*not valid JSON"):
        load_dataset(broken_copy)


def test_missing_file_is_refused(broken_copy: Path) -> None:
    (broken_copy / "programs.csv").unlink()
    with pytest.raises(DataFileError, match=r"programs\.csv: file is missing"):
        load_dataset(broken_copy)


def test_app_refuses_to_start_on_bad_data(broken_copy: Path) -> None:
    path = broken_copy / "crime_city_year.csv"
    edit_line(path, 4, lambda line: line.replace(",", ",x", 3).replace(",x", ",", 2))
    result = subprocess.run(
        [sys.executable, "app.py", "--port", "1"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "ATLAS_GEODATA": str(broken_copy)},
    )
    assert result.returncode == 2
    assert "crime_city_year.csv, line 4" in result.stderr
    assert "Traceback" not in result.stderr
