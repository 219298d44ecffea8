"""The outcomes chart (issue 14): a pure figure, a view over outcomes.csv, its CSV route and its embed."""

from __future__ import annotations

import csv
import io

import pandas as pd

from dashboard.data.state import parse_query
from dashboard.figures.outcomes import outcomes_spec
from dashboard.schema import OUTCOME_COLUMNS
from dashboard.views.outcomes import outcome_rows, outcomes_summary, outcomes_table

MEMPHIS, KANSAS_CITY, HARRIS = "4748000", "2938000", "48201"


def _rows(text: str) -> list[dict[str, str]]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


def test_figure_draws_site_and_comparison_with_the_verdict_in_each_title() -> None:
    rows = pd.DataFrame(
        {
            "site": ["A, XX"] * 3 + ["B, YY"] * 3,
            "geoid": ["0100001"] * 3 + ["0100002"] * 3,
            "cohort": ["psp-2017"] * 6,
            "year": [2016, 2017, 2018] * 2,
            "years_since_joining": [-1, 0, 1] * 2,
            "value": [500.0, float("nan"), 450.0, 900.0, 950.0, 1000.0],
            "comparison_value": [505.0, 520.0, 530.0, float("nan"), float("nan"), float("nan")],
            "gap": [-5.0, float("nan"), -80.0, float("nan"), float("nan"), float("nan")],
            "placebo_rank": pd.array([3, 3, 3, pd.NA, pd.NA, pd.NA], dtype="Int64"),
            "placebo_count": pd.array([40, 40, 40, pd.NA, pd.NA, pd.NA], dtype="Int64"),
            "pre_fit_rmspe": [5.0] * 3 + [float("nan")] * 3,
            "verdict": ["below comparison"] * 3 + ["no claim: too few comparison places"] * 3,
        },
        columns=list(OUTCOME_COLUMNS),
    )
    spec = outcomes_spec(rows, title="t", version="data abc", note="extra note")
    assert len(spec["data"]) == 4  # site and comparison per panel
    site, comparison = spec["data"][:2]
    assert site["x"] == [-1, 0, 1] and site["y"] == [500.0, None, 450.0]  # a gap, not a zero
    assert comparison["line"]["dash"] == "dash"
    titles = [a["text"] for a in spec["layout"]["annotations"] if "<b>" in a["text"]]
    assert "below comparison, rank 3/41" in titles[0]
    assert "no claim: too few comparison places" in titles[1] and "rank" not in titles[1]
    source = next(a for a in spec["layout"]["annotations"] if a.get("name") == "source")["text"]
    assert "synthetic control" in source and "extra note" in source and "not what caused it" in source
    assert [s["x0"] for s in spec["layout"]["shapes"]] == [0, 0]  # year 0 marked in each panel


def test_view_rows_follow_the_cohort_viewed_and_say_what_is_missing(dataset) -> None:
    state = parse_query("cohort=psp-2018", dataset)
    rows = outcome_rows(dataset, state)
    assert set(rows.loc[rows["geoid"] == KANSAS_CITY, "cohort"]) == {"psp-2018"}
    state = parse_query(f"cities={KANSAS_CITY},{HARRIS}&cohort=psp-2017", dataset)
    rows = outcome_rows(dataset, state)
    assert set(rows["cohort"]) == {"psp-2017"} and set(rows["geoid"]) == {KANSAS_CITY}
    summary = outcomes_summary(dataset, parse_query("cohort=psp-2017", dataset))
    assert summary.startswith("Violent crime in 12 sites after joining")
    assert "not proof" in summary
    table = outcomes_table(dataset, parse_query(f"cities={MEMPHIS}&cohort=psp-2017", dataset))
    years = [r[0] for r in table.rows]
    assert years[0] == "Memphis, TN 2007 (-10)" and "Memphis, TN 2017 (joined)" in years
    by_year = {r[0]: r for r in table.rows}
    assert by_year["Memphis, TN 2020 (+3)"][1:3] == ("not reported", "no comparison")


def test_outcomes_csv_route_and_embed(client, dataset) -> None:
    response = client.get("/export/outcomes.csv?cohort=psp-2017")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "atlas-outcomes-violent-crime-psp-2017.csv" in response.headers["Content-Disposition"]
    rows = _rows(response.get_data(as_text=True))
    assert list(rows[0]) == list(OUTCOME_COLUMNS)
    committed = dataset.outcomes[dataset.outcomes["cohort"] == "psp-2017"]
    assert len(rows) == len(committed) == 12 * 16  # 12 sites x 2007-2022
    memphis_2018 = next(r for r in rows if r["geoid"] == MEMPHIS and r["year"] == "2018")
    assert memphis_2018["years_since_joining"] == "1"
    assert memphis_2018["verdict"] == "no claim: poor pre-period fit" and memphis_2018["placebo_rank"] == ""
    assert client.get("/export/map.csv").status_code == 400  # no CSV of its own: data.csv has its numbers
    embed = client.get("/embed/outcomes?cohort=psp-2017")
    assert embed.status_code == 200
    assert "Violent crime after joining" in embed.get_data(as_text=True)
