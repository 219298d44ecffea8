"""The CSV after 2019 (issue 12): "not reported" where a year has no figure, and years since joining."""

from __future__ import annotations

import csv
import io

from dashboard.data.state import parse_query
from dashboard.publish.exports.csv import CSV_COLUMNS, NO_TABLE, NOT_REPORTED, view_csv
from dashboard.views.trends import trends_table

CHICAGO, KANSAS_CITY = "1714000", "2938000"


def rows(text: str) -> list[dict[str, str]]:
    return list(
        csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#"))))
    )


def test_missing_years_say_not_reported_and_carry_no_number(dataset) -> None:
    state = parse_query(f"cities={CHICAGO}&from=2019&to=2022&cohort=psp-2017-vrn-pilot&align=joined", dataset)
    table = {int(r["year"]): r for r in rows(view_csv(dataset, state))}
    assert list(table) == [2019, 2020, 2021, 2022]
    assert table[2020]["notes"] == NO_TABLE and table[2021]["notes"] == NOT_REPORTED
    for year in (2020, 2021):
        assert all(
            table[year][c] == "" for c in ("count", "population", "rate_per_100k", "ratio_to_national")
        )
    assert table[2022]["count"] == "14321"  # CIUS 2022 Table 8, Illinois, Chicago
    assert [table[y]["years_since_joined"] for y in table] == ["2", "3", "4", "5"]  # PSP 2017 pilot site
    assert CSV_COLUMNS[12:15] == ("years_since_joined", "months_reported", "flags")  # appended, not renamed
    assert CSV_COLUMNS[15:] == (
        "peer_group",
        "peer_rate_per_100k",
        "ratio_to_peer",
        "small_count",
    )  # issue 18: small_count
    assert CSV_COLUMNS[:12][-1] == "notes"


def test_years_since_joined_follows_the_cohort_viewed(dataset) -> None:
    for cohort, first in (("psp-2018", "-1"), ("psp-2017", "0")):
        state = parse_query(f"cities={KANSAS_CITY}&from=2017&to=2018&cohort={cohort}", dataset)
        assert rows(view_csv(dataset, state))[0]["years_since_joined"] == first


def test_the_trends_table_says_not_reported(dataset) -> None:
    state = parse_query(f"cities={CHICAGO}&from=2019&to=2022", dataset)
    table = {r[0]: r[1:] for r in trends_table(dataset, state).rows}
    assert table["Chicago, IL 2021"] == ("not reported", "", "", "", "", "")  # ..., Review flag, Caution
    assert table["Chicago, IL 2020"] == ("not reported (no FBI city table)", "", "", "", "", "")
    assert table["Chicago, IL 2022"][0] == "14,321"
