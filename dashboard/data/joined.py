"""The year each site joined its program, for the trends' ``align=joined`` view and the CSV (issue 12).

Cohorts of different years are read together when each city's x axis counts years from its own
announcement. A city in several cohorts (Kansas City: PSP 2017 and 2018; Baton Rouge: 2017 and 2019)
counts from the cohort being viewed when it is in it, else from its first PSP announcement, else from its
first program (VRN) announcement; a city in no program has no such year.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.dataset import Dataset

ALIGNS = ("calendar", "joined")


def joined_years(dataset: Dataset, geoids: list[str], cohort: str = "") -> dict[str, int | None]:
    """geoid -> year of announcement (see the module docstring for the choice), None outside the programs."""
    programs = dataset.programs.assign(year=pd.to_numeric(dataset.programs["announced"].str[:4]))
    result: dict[str, int | None] = {}
    for geoid in geoids:
        rows = programs[programs["geoid"] == geoid]
        chosen = rows[rows["cohort_id"] == cohort]
        if chosen.empty:
            psp = rows[rows["program"] == "PSP"]
            chosen = psp if not psp.empty else rows
        result[geoid] = int(chosen["year"].min()) if not chosen.empty else None
    return result
