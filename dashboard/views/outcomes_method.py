"""The outcomes method note in plain English (issue 14): one text for the panel and the data notes.

The numbers in it are the build's rules (``pipeline/synth.py``, ``pipeline/outcomes.py``) and the
selection lag (``config/outcomes.json``); ``tests/publish/test_outcomes_view.py`` checks that they agree,
so the rule a reader is told is the rule the build applied.
"""

from __future__ import annotations

from dashboard.data.regression import selection_lag
from dashboard.data.state import DEFAULT_THRESHOLD

# The build's rules, as the note states them (checked against pipeline/ by the tests).
NEAREST_DONORS = 40
YEARS_BEFORE = 10
MIN_DONORS = 10
MIN_MATCH_YEARS = 5
MIN_POST_YEARS = 3
POOR_FIT_PERCENT = 10
CLAIM_LEVEL = 0.10
BAND_PERCENTILES = (5, 95)

REFERENCES = (
    "Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic Control Methods for Comparative Case "
    "Studies: Estimating the Effect of California's Tobacco Control Program. Journal of the American "
    "Statistical Association 105(490), 493–505.",
    "Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-Differences with multiple time periods. "
    "Journal of Econometrics 225(2), 200–230.",
    "pysyncon 1.7.0 (Synth), https://github.com/sdfordham/pysyncon.",
)


def method_paragraphs() -> list[tuple[str, str]]:
    """(heading, paragraph) pairs: what was compared, how, the placebo rank and band, the verdict rule,
    regression to the mean, why this library, and what it cannot say."""
    lag = selection_lag()
    band = BAND_PERCENTILES[1] - BAND_PERCENTILES[0]
    max_rank = int(CLAIM_LEVEL * (NEAREST_DONORS + 1))
    return [
        (
            "What is compared",
            "Each PSP site's violent crime per 100,000 residents, year by year from "
            f"{YEARS_BEFORE} years before it joined to 2022, against a comparison: a weighted mix of places "
            "that were in no program (neither PSP nor VRN, in any cohort). The weights are chosen so that "
            "the mix follows the site as closely as possible in the years before it joined (the synthetic "
            "control method of Abadie, Diamond & Hainmueller, 2010). After joining, the gap between the site "
            "and its comparison is the change beyond what similar places did. Year 0 is the announcement "
            "year: shown, but used neither to match nor to judge.",
        ),
        (
            "How comparison places were picked",
            "Places of 100,000+ people in no program, with a figure in every year matched on and in every "
            "year after joining in which the site has one; of those, the "
            f"{NEAREST_DONORS} whose average rate before joining was nearest the site's. 2020 (no FBI city "
            "table) and 2021 (many agencies did not report during the FBI's move to NIBRS) are never "
            "matched on. Nothing is filled in: a missing year is a gap.",
        ),
        (
            "What the placebo rank and the grey band mean",
            f"The same method is run for each of the {NEAREST_DONORS} comparison places as if it had joined "
            "at the same time. For each place, how far it moved from its own comparison after joining is "
            "divided by how far it was before (the post/pre RMSPE ratio). The site's rank among these "
            f"{NEAREST_DONORS + 1} numbers (1 = largest) says how unusual its change is: rank 10/41 means "
            "nine places that never joined moved at least as far. The grey band shows, year by year, where "
            f"{band}% of those places' gaps fell ({BAND_PERCENTILES[0]}th to {BAND_PERCENTILES[1]}th "
            "percentile), drawn around the site's comparison: a site line inside the band looks like a "
            "place that did not join.",
        ),
        (
            "The verdict (the first rule that applies)",
            f"Fewer than {MIN_DONORS} comparison places: “no claim: too few comparison places”. Fewer than "
            f"{MIN_POST_YEARS} years after the joining year with a figure and a comparison: “no claim: too "
            f"few years after joining”. Fewer than {MIN_MATCH_YEARS} years to match on, or a comparison that "
            f"missed the site before joining by more than {POOR_FIT_PERCENT}% of its average rate: “no "
            "claim: poor pre-period fit”. A rank no more than "
            f"{CLAIM_LEVEL:g} × (places + 1) (rank 1 to {max_rank} of {NEAREST_DONORS + 1}): “below "
            "comparison” or “above comparison”, by the sign of the average gap after joining. Otherwise: "
            "“no clear difference”. The rules were fixed before any site was fitted.",
        ),
        (
            "Would they have fallen anyway? (regression to the mean)",
            "Sites were chosen because their violence was high, and places picked at a high point tend to "
            "fall back toward the average anyway. The first panel shows, by years since joining, the median "
            "violent crime (as a multiple of the US rate) of the shown sites and of the places in no program "
            "that met the same criterion when the sites were picked: at least the ranking's threshold "
            f"({DEFAULT_THRESHOLD:g}× the US rate unless changed) in the latest year of FBI city figures at "
            f"the announcement, {lag} years before it (2015 for PSP 2017). If the sites fell no more than "
            "those places, the fall is no sign of the partnership.",
        ),
        (
            "Why this library",
            "The estimates come from pysyncon 1.7.0 (pinned): an open-source Python implementation of "
            "synthetic control that reproduces the California tobacco example of Abadie, Diamond & "
            "Hainmueller (2010), with equal weights on every matching year. The atlas gives its inner "
            "optimisation the exact gradient (the same weights within 2e-5, checked in the tests), so every "
            "site and its placebos are computed when the data are built, in seconds, never while you wait. "
            "A staggered difference-in-differences event study (Callaway & Sant'Anna, 2021) would average "
            "over cohorts; with at most two years of figures after 2019 for most cohorts it would rest "
            "almost wholly on the 2017 and 2018 sites, so it is not used yet.",
        ),
        (
            "What it cannot say",
            "A comparison is an estimate, not a twin: it cannot separate the partnership from anything else "
            "that happened to a site alone at the same time, and a comparison place may have had programs "
            "of its own. A difference beside similar places is not proof that the partnership caused it.",
        ),
    ]


def data_note() -> str:
    """The method in one paragraph for the data notes, with the references."""
    return (
        "Outcomes panel (what happened after they joined): each PSP site's violent crime rate against a "
        f"weighted mix of up to {NEAREST_DONORS} places of 100,000+ people in no program that followed it "
        "before joining (synthetic control); the same test run on each comparison place gives the "
        "placebo rank (1 = the most unusual change) and the grey band (where "
        f"{BAND_PERCENTILES[1] - BAND_PERCENTILES[0]}% of those places' gaps fell); “below” or “above” only "
        f"with rank ≤ {CLAIM_LEVEL:g} × (places + 1), no claim with a poor fit before joining or under "
        f"{MIN_POST_YEARS} years of figures since; the first panel sets the sites beside the places as "
        "violent when they were picked that were never chosen (regression to the mean). Computed at build "
        "time with pysyncon 1.7.0 (geodata/outcomes.csv; the method in the panel's note and "
        "geodata/SOURCES.md). References: " + " ".join(REFERENCES)
    )
