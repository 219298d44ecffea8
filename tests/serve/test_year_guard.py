"""The callback guard and the years after 2019 (issue 12)."""

from __future__ import annotations


def test_the_slider_year_2020_is_accepted_by_the_callback_guard(dataset) -> None:
    """2020 has no city row, but the year slider can stand on it: the guard must not refuse it (400)."""
    from dashboard.serve.security import value_rules
    from dashboard.web import ids

    rule = value_rules(dataset)[(ids.YEAR, "value")]
    assert rule.check(2020) and rule.check(2022) and not rule.check(2023)
