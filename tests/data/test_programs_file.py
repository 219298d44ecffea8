"""programs.csv rules (issue 12): one row per site and cohort, county GEOIDs, cohort ids, status flags."""

from __future__ import annotations

import pytest

from dashboard.data import validate as v

HEADER = "geoid,program,cohort,role,announced,source_url"
ROW = "4748000,PSP,PSP 2017,operations site,2017-06-20,https://example.org/a"


def load(tmp_path, header: str, *rows: str):
    path = tmp_path / "programs.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return v.validate_programs(v.read_csv_strict(path, v.PROGRAM_COLUMNS), path)


def test_an_older_file_without_the_new_columns_still_loads(tmp_path) -> None:
    frame = load(tmp_path, HEADER, ROW)
    row = frame.iloc[0]
    assert (row["cohort_id"], row["geography"], row["status"]) == ("psp-2017", "place", "confirmed")


def test_a_site_may_be_in_two_cohorts_but_not_twice_in_one(tmp_path) -> None:
    second = "4748000,PSP,PSP 2018,operations site,2018-08-20,https://example.org/b"
    assert len(load(tmp_path, HEADER, ROW, second)) == 2
    with pytest.raises(v.DataFileError, match="duplicate row") as error:
        load(tmp_path, HEADER, ROW, ROW)
    assert error.value.line == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (",county,confirmed,psp-2017", "county site needs a 5-digit"),
        (",place,maybe,psp-2017", "column 'status' must be one of"),
        (",place,confirmed,psp-17", "cohort_id"),
        (",city,confirmed,psp-2017", "column 'geography' must be one of"),
    ],
)
def test_new_columns_are_checked_with_the_line(tmp_path, extra, message) -> None:
    with pytest.raises(v.DataFileError, match=message) as error:
        load(tmp_path, f"{HEADER},geography,status,cohort_id", ROW + extra)
    assert error.value.line == 2


def test_a_county_site_takes_a_five_digit_geoid(tmp_path) -> None:
    county = (
        "48201,PSP,PSP 2019,site (type not stated),2019-06-03,https://example.org/c,county,confirmed,psp-2019"
    )
    frame = load(tmp_path, f"{HEADER},geography,status,cohort_id", county)
    assert frame.iloc[0]["geoid"] == "48201"
    with pytest.raises(v.DataFileError, match=r"7 digits \(place\) or 5 digits \(county\)"):
        load(tmp_path, HEADER, ROW.replace("4748000", "474800"))
