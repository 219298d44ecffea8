"""geodata/programs.csv against the researched list of PSP sites (../shared/sources/programs/psp_sites.csv).

Every researched row must be in programs.csv under its cohort, with its announcement date, a source URL that
the researched row cites (in its URL or note), and a row flagged "unconfirmed" wherever the research could
not confirm the site; nothing else may be a PSP site. Issue 12.
"""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from dashboard.data import validate as v
from dashboard.pipeline.boundaries.census import read_cb2015_places
from tests.conftest import GEODATA, SOURCES

RESEARCHED = SOURCES / "programs" / "psp_sites.csv"
# Sites per cohort as the researched list gives them (North Charleston/Charleston: one site, two rows here).
EXPECTED_ROWS = {
    "PSP 2017": 12,
    "PSP 2017 (VRN pilot)": 11,
    "PSP 2018": 5,
    "PSP 2019": 10,
    "PSP 2021": 11,
    "PSP 2022": 6,
    "PSP 2023": 5,
    "PSP 2024": 5,
}
BJA_2023 = "https://bja.ojp.gov/news/justice-department-announces-new-nationwide-public-safety-commitments"
UNCONFIRMED = {("Chicago, IL", "PSP 2017 (VRN pilot)")} | {
    (name, "PSP 2022") for name in ("Greensboro, NC", "Sacramento, CA", "Tucson, AZ", "Washington, DC")
}


def researched_rows() -> list[dict[str, str]]:
    """The researched list; its Chicago row has an unquoted comma in ``source_title`` (10 fields for 9), which
    is joined back here rather than silently shifting the URL and note columns."""
    with RESEARCHED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    fixed = []
    for row in body:
        if len(row) == len(header) + 1:
            row = [*row[:6], ", ".join(row[6:8]), *row[8:]]
        assert len(row) == len(header), row
        fixed.append(dict(zip(header, row, strict=True)))
    return fixed


def cohort_of(cohort_year: str) -> str:
    return "PSP 2017 (VRN pilot)" if "carry-over" in cohort_year else f"PSP {cohort_year}"


@pytest.fixture(scope="module")
def programs() -> pd.DataFrame:
    path = GEODATA / "programs.csv"
    return v.validate_programs(v.read_csv_strict(path, v.PROGRAM_COLUMNS), path)


def test_every_researched_site_is_in_programs_csv_with_its_date_and_a_cited_url(programs) -> None:
    psp = programs[programs["program"] == "PSP"]
    rows = researched_rows()
    assert len(rows) == 64  # PROVENANCE.md: 64 rows
    cited = " ".join(f"{row['source_url']} {row['note']}" for row in rows)
    for row in rows:
        cohort = cohort_of(row["cohort_year"])
        names = (
            ["North Charleston, SC", "Charleston, SC"]
            if row["site"] == "North Charleston/Charleston"
            else [f"{row['site']}, {row['state']}"]
        )
        for name in names:
            mine = psp[(psp["name"] == name) & (psp["cohort"] == cohort)]
            assert len(mine) == 1, (name, cohort)
            mine = mine.iloc[0]
            assert mine["announced"] == row["announced"].split(" ")[0], name
            if name == "Chicago, IL":  # no URL in the research; its note cites the Nov 2023 BJA release
                assert "Knoxville 2023 release" in row["note"] and mine["source_url"] == BJA_2023
            else:  # a URL the research cites; its own URL where that is a government (DOJ, OJP, BJA) page
                assert mine["source_url"] in cited, name
                if ".gov/" in row["source_url"]:
                    assert mine["source_url"] == row["source_url"], name
            assert mine["geography"] == ("county" if row["kind"] == "county" else "place")
            assert len(mine["geoid"]) == (5 if row["kind"] == "county" else 7)
            if row["site_type"] in ("diagnostic", "operations"):
                assert mine["role"] == f"{row['site_type']} site"
    assert psp.groupby("cohort").size().to_dict() == EXPECTED_ROWS


def test_unconfirmed_sites_are_flagged_with_the_reason(programs) -> None:
    flagged = programs[programs["status"] == "unconfirmed"]
    assert set(zip(flagged["name"], flagged["cohort"], strict=True)) == UNCONFIRMED
    assert flagged["note"].str.startswith("UNCONFIRMED:").all()
    # Albuquerque and Rochester are confirmed by reports the researched notes cite; the note cites them too.
    for name, source in (("Albuquerque, NM", "abqjournal.com"), ("Rochester, NY", "thebeat1055fm.com")):
        row = programs[programs["name"] == name].iloc[0]
        assert row["status"] == "confirmed" and source in row["note"]


def test_existing_rows_keep_their_values() -> None:
    """Issue 12 extends programs.csv: the 2017 and VRN rows keep every value of the old columns."""
    frame = pd.read_csv(GEODATA / "programs.csv", dtype=str, keep_default_na=False)
    old = frame[(frame["cohort"] == "PSP 2017") | (frame["program"] == "VRN")]
    assert len(old) == 28
    assert set(old.loc[old["cohort"] == "PSP 2017", "source_url"]) == {
        "https://www.bja.gov/Events/national-psp-symposium-2018.html"
    }
    assert list(frame.columns[:8]) == [
        "geoid", "program", "cohort", "role", "announced", "source_url", "site", "name"
    ]  # fmt: skip


def test_every_place_geoid_names_the_place_in_the_census_file(programs) -> None:
    places = programs[programs["geography"] == "place"]
    cb = read_cb2015_places(SOURCES, places["geoid"]).set_index("GEOID")
    for row in places.itertuples():
        city = row.name.rsplit(", ", 1)[0]
        census = str(cb.at[row.geoid, "NAME"])
        assert census == city or census.startswith(city) or city in census, (row.geoid, city, census)


def test_cohort_ids_are_the_url_values(programs) -> None:
    ids = set(programs["cohort_id"])
    for year in (2017, 2018, 2019, 2021, 2022, 2023, 2024):
        assert f"psp-{year}" in ids
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)
