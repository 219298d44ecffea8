"""Briefing mode (/?present=1) without a browser: every year of the slider gives a deck."""

from __future__ import annotations


def test_a_year_no_city_has_data_for_still_gives_a_deck(client, dataset) -> None:
    """The soak found 500s here: the ranking is then a message figure with no legend."""
    first_year_with_rates = int(dataset.crime["year"].min())
    year = min(dataset.years)
    assert year <= first_year_with_rates
    response = client.get(f"/?present=1&year={year}&offence=property_crime&measure=count")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "data for" in page and "Traceback" not in page


def test_the_first_years_of_the_slider_give_a_deck(client, dataset) -> None:
    """The slider starts before the first year with national figures: each such year is a deck."""
    years = range(min(dataset.years), min(dataset.years) + 12)
    failures = [
        y for y in years if client.get(f"/?present=1&year={y}&offence=property_crime").status_code != 200
    ]
    assert failures == []


def test_the_deck_ends_with_the_outcomes_slide_for_psp_sites(client, dataset) -> None:
    """Issue 14: a presenter's last slide is what happened after the sites joined, from the URL's view."""
    page = client.get("/?present=1&cohort=psp-2017&threshold=2").get_data(as_text=True)
    assert page.count('class="slide"') == 14  # overview + 12 cities + outcomes
    last = page[page.rindex('<section class="slide"') :]
    assert 'data-position="Outcomes"' in last and "What happened after they joined?" in last
    assert "12 sites, each against places in no program" in last and "not proof" in last
    sites = dataset.outcomes[dataset.outcomes["cohort"] == "psp-2017"].drop_duplicates("geoid")
    same = int((sites["verdict"] == "no clear difference").sum())
    assert f"No clear difference</strong> ({same})" in last and same > 0
    assert all(str(name) in last for name in sites["site"])
    assert "at least 2× the US rate in 2015" in last  # the threshold of the link
    assert "fig-13-outcomes" in last
    vrn = client.get("/?present=1&cohort=vrn-2014").get_data(as_text=True)
    assert "Outcomes" not in vrn and vrn.count('class="slide"') == 1 + vrn.count('data-position="City ')
