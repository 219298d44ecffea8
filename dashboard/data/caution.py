"""Small-number caution (issue 18): a city-year value resting on few offences is marked, never hidden.

The threshold is data (``config/caution.json``): fewer than ``small_count_below`` offences in a year.
A missing count is not "small": it is a gap, and gaps are said as gaps elsewhere.
"""

from __future__ import annotations

import json
from functools import lru_cache

import pandas as pd

from dashboard.errors import DataFileError
from dashboard.settings import CONFIG_DIR


@lru_cache(maxsize=1)
def small_count_below() -> int:
    """The count under which a value is marked (10 unless ``config/caution.json`` says otherwise)."""
    path = CONFIG_DIR / "caution.json"
    with open(path, encoding="utf-8") as handle:
        value = json.load(handle).get("small_count_below")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise DataFileError(f"{path.name}: small_count_below must be a whole number >= 1, not {value!r}")
    return value


def small_count(counts: pd.Series, below: int | None = None) -> pd.Series:
    """True where a count is under the threshold, False where it is not, <NA> where it is missing."""
    below = small_count_below() if below is None else below
    counts = counts.astype("Float64")
    return (counts < below).astype("boolean").where(counts.notna())


def caution_phrase(offence_label: str, below: int | None = None) -> str:
    """ "fewer than 10 murders in the year" style wording, used wherever the mark is explained."""
    below = small_count_below() if below is None else below
    return f"fewer than {below} {offence_label.lower()} offences in the year"
