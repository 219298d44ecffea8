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
    assert "were as violent when the sites were picked" in summary and "in 2015" in summary  # regression
    titles = page.evaluate(
        "() => [...document.querySelectorAll('#outcomes .annotation-text')].map(e => e.textContent)"
    )
    site_rows = dataset.outcomes[dataset.outcomes["cohort"] == "psp-2017"].drop_duplicates("geoid")
    for row in site_rows.itertuples():  # each panel names its site and its verdict
        assert any(t.startswith(row.site) and row.verdict in t for t in titles), (row.site, titles)
    assert any(t.startswith("Would they have fallen anyway?") for t in titles)
    assert "selection threshold: 1.5× the US rate" in titles and "selected: 2015" in titles
    source = next(t for t in titles if t.startswith("Source"))
    assert "synthetic control" in source and "not what caused it" in source and "Grey band" in source
    traces = graph_data(page, "outcomes")
    lines = [t for t in traces if t["name"] in ("Site", "Comparison (places not chosen)")]
    assert len(lines) == 24
    for trace in lines:  # 2020 (3 years after joining) has no FBI city table: a gap in every line
        assert trace["y"][list(trace["x"]).index(3)] is None
    bands = [t for t in traces if t.get("fill") == "toself"]
    judged = site_rows["verdict"].isin(["below comparison", "above comparison", "no clear difference"])
    assert len(bands) >= int(judged.sum()) > 0  # every site with a verdict shows its placebo band
    top = {t["name"]: t for t in traces if t.get("legend") == "legend2"}
    assert set(top) == {"Sites shown (median)", "Not chosen, as violent in 2015 (median)"}
    for trace in top.values():  # the medians by years since joining, with the 2020 gap kept
        assert trace["y"][list(trace["x"]).index(3)] is None and trace["y"][list(trace["x"]).index(-2)] > 1.5
    note = panel.locator("details.method-note")
    assert not note.evaluate("e => e.open")
    note.locator("summary").click()
    text = note.inner_text()
    for words in ("placebo rank", "Abadie, Diamond & Hainmueller", "Callaway & Sant'Anna", "pysyncon 1.7.0",
                  "regression to the mean", "The verdict"):  # fmt: skip
        assert words in text, words
    assert "pysyncon 1.7.0" in page.inner_text("#data-notes")  # and in the data notes
    assert "cohort=psp-2017" in page.get_attribute("#export-outcomes-csv", "href")
    assert page.get_attribute("#export-outcomes-png", "href").startswith("/export/outcomes.png?")
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "outcomes-psp-2017.png"))
