"""The outcomes panel in the real app (issue 14): one load of cohort=psp-2017, read as a person sees it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import graph_data

pytestmark = pytest.mark.browser


def test_psp_2017_outcomes_panel(page, server_url, dataset) -> None:
    page.goto(f"{server_url}/?cohort=psp-2017")
    page.wait_for_selector("#outcomes .js-plotly-plot .main-svg")
    page.wait_for_function("() => document.querySelector('#outcomes-summary').textContent.length > 0")
    panel = page.locator("section.panel", has=page.locator("#outcomes"))
    panel.scroll_into_view_if_needed()
    assert panel.locator("h2").inner_text() == "What happened after they joined?"
    summary = page.inner_text("#outcomes-summary")
    assert summary.startswith("Violent crime in 12 sites after joining")
    assert "no clear difference" in summary and "not proof" in summary
    titles = page.evaluate(
        "() => [...document.querySelectorAll('#outcomes .annotation-text')].map(e => e.textContent)"
    )
    site_rows = dataset.outcomes[dataset.outcomes["cohort"] == "psp-2017"].drop_duplicates("geoid")
    for row in site_rows.itertuples():  # each panel names its site and its verdict
        assert any(t.startswith(row.site) and row.verdict in t for t in titles), (row.site, titles)
    source = next(t for t in titles if t.startswith("Source"))
    assert "synthetic control" in source and "not what caused it" in source
    traces = graph_data(page, "outcomes")
    assert len(traces) == 24 and {t["name"] for t in traces} == {"Site", "Comparison (places not chosen)"}
    for trace in traces:  # 2020 (3 years after joining) has no FBI city table: a gap in every line
        assert trace["y"][list(trace["x"]).index(3)] is None
    assert "cohort=psp-2017" in page.get_attribute("#export-outcomes-csv", "href")
    assert page.get_attribute("#export-outcomes-png", "href").startswith("/export/outcomes.png?")
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "outcomes-psp-2017.png"))
