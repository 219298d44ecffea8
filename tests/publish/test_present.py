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
