"""The precedence rule: primary row from the best source, blanks filled and recorded."""

from __future__ import annotations

import pandas as pd

from dashboard.pipeline.harmonise import apply_breaks, harmonise
from dashboard.schema import OFFENCES, RAW_CITY_COLUMNS


def raw_row(**values) -> dict:
    row = {c: pd.NA for c in RAW_CITY_COLUMNS}
    row.update(state="IL", agency="Chicago", rape_definition="legacy", notes="")
    row.update(values)
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=[*RAW_CITY_COLUMNS, "geoid"])
    for c in ("population", *OFFENCES):
        df[c] = df[c].astype("Int64")
    return df


def test_table8_beats_msa_and_marshall_fills_only_violent() -> None:
    rows = [
        raw_row(
            geoid="1714000",
            year=2010,
            population=2833649,
            murder=436,
            robbery=14000,
            rape=pd.NA,
            violent_crime=pd.NA,
            source="FBI CIUS 2010 Table 8",
            source_kind="cius_city_table",
        ),
        raw_row(
            geoid="1714000",
            year=2010,
            population=2833649,
            murder=999,
            source="FBI CIUS 2010 Table 6 (MSA)",
            source_kind="cius_msa_table",
        ),
        raw_row(
            geoid="1714000",
            year=2010,
            population=2695598,
            murder=435,
            violent_crime=30000,
            rape=1300,
            source="Marshall Project city-crime",
            source_kind="marshall_project",
        ),
    ]
    out = harmonise(frame(rows))
    assert len(out) == 1
    row = out.iloc[0]
    assert row["murder"] == 436  # Table 8 wins over the MSA table and Marshall
    assert row["population"] == 2833649
    assert row["violent_crime"] == 30000  # filled from Marshall, the only source with it
    assert pd.isna(row["rape"])  # Marshall may only fill the violent total
    assert "Marshall Project city-crime (violent_crime)" in row["source"]
    assert "violent_crime from Marshall Project" in row["notes"]


def test_missing_stays_missing_and_unmatched_rows_are_dropped() -> None:
    rows = [
        raw_row(
            geoid="1714000", year=2011, population=100, murder=1, source="a", source_kind="ucr_data_tool"
        ),
        raw_row(geoid=pd.NA, year=2011, population=100, murder=1, source="a", source_kind="ucr_data_tool"),
    ]
    out = harmonise(frame(rows))
    assert list(out["year"]) == [2011]
    assert out["robbery"].isna().all()
    assert (out["murder"] == 1).all()


def test_unknown_source_kind_is_refused() -> None:
    rows = [raw_row(geoid="1714000", year=2011, murder=1, source="a", source_kind="blog")]
    try:
        harmonise(frame(rows))
    except ValueError as exc:
        assert "blog" in str(exc)
    else:
        raise AssertionError("unknown source kind accepted")


def test_break_notes_attach_to_their_years_only() -> None:
    city = pd.DataFrame({"geoid": ["3410000"] * 3, "year": [2012, 2013, 2014], "notes": ["", "x", ""]})
    breaks = pd.DataFrame([{"geoid": "3410000", "year_from": 2013, "year_to": 2019, "note": "county force"}])
    out = apply_breaks(city, breaks)
    assert list(out["notes"]) == ["", "x | county force", "county force"]
