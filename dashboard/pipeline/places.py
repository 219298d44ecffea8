"""Every row of the FBI city tables against every Census place (issue 13): the match rate, and why not.

The universe is the Census 2010 Gazetteer of places (29,514: incorporated places and CDPs, with their
internal point). A printed label finds its place by the stated rules of :mod:`place_names` (name forms,
printed types, Census alternate names) and the alias table ``aliases.csv``; every match records its rule.
A row that matches no place is classified, never guessed:

* ``county subdivision``: a town or township (no place polygon exists for it): coded so by Data Commons'
  FBI-city crosswalk, or else by a stated rule (:func:`subdivisions.rule_evidence`);
* ``several jurisdictions`` / ``not a city police``: one police for two or more places ("Snowflake-Taylor",
  or a row of ``not_places.csv``), or a row that is no municipal police;
* ``ambiguous``: two incorporated places of the state fit the label equally (an incorporated place is
  taken over a CDP of its name; two CDPs, or two cities, are refused);
* ``not in the 2010 gazetteer``: incorporated or renamed after 2010 (e.g. Jurupa Valley CA, 2011), or
  printed in a form no rule or alias covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboard.pipeline import place_report
from dashboard.pipeline.io import source_errors
from dashboard.pipeline.names import Place, load_aliases, normalise_name, qualified_key
from dashboard.pipeline.place_names import GazetteerIndex, Resolution, regional_word
from dashboard.pipeline.subdivisions import crosswalk_key, load_not_places, rule_evidence
from dashboard.schema import peer_group_of

GAZETTEER = Path("boundaries") / "camillol__cs424p3" / "Gaz_places_national.txt"
_SUFFIX = re.compile(
    r"\s+(city and borough|consolidated government|unified government|metropolitan government|"
    r"metro government|urban county|city|town|village|borough|municipality|cdp|plantation|corporation)$",
    re.IGNORECASE,
)
# Rows with these reasons are no single Census place: the "rows that are Census places" leave them out.
NOT_A_PLACE = ("county subdivision", "several jurisdictions", "not a city police")
REASONS = (*NOT_A_PLACE, "ambiguous", "not in the 2010 gazetteer")
MATCH_COLUMNS = (
    "state",
    "agency",
    "year",
    "population",
    "source",
    "place_geoid",
    "match_rule",
    "unmatched_reason",
    "evidence",
    "county_subdivision_geoid",
    "candidates",
    "peer_group",
)


@dataclass(frozen=True)
class GazetteerPlace(Place):
    """A 2010 Census place with its type ("city", "village", "cdp", ...) and bracketed second name."""

    kind: str = ""
    alternate: str = ""


def base_name(census_name: str) -> str:
    """ "Abbeville city" -> "Abbeville"; "Nashville-Davidson metropolitan government (balance)" -> ..."""
    return _SUFFIX.sub("", re.sub(r"\s*\([^)]*\)", "", census_name).strip())


def census_kind(census_name: str) -> str:
    """ "Abbeville city" -> "city"; "Urban Honolulu CDP" -> "cdp"; "" when the name has no type word."""
    found = _SUFFIX.search(re.sub(r"\s*\([^)]*\)", "", census_name).strip())
    return found.group(1).lower() if found else ""


def gazetteer_places(sources: Path) -> list[GazetteerPlace]:
    """Every 2010 Census place, with its type: where an incorporated place and a CDP share a state and
    name, the matcher takes the incorporated place (a CDP has no government, so no police)."""
    path = Path(sources) / GAZETTEER
    with source_errors(path):
        frame = pd.read_csv(path, sep="\t", encoding="latin-1", dtype=str)
    frame.columns = [c.strip() for c in frame.columns]
    alternates = frame["NAME"].str.extract(r"\(([^)]*)\)", expand=False).fillna("")
    return [
        GazetteerPlace(geoid, state, base_name(name), census_kind(name), "" if alt == "balance" else alt)
        for geoid, state, name, alt in zip(
            frame["GEOID"], frame["STUSPS"], frame["NAME"], alternates, strict=True
        )
    ]


_AMBIGUOUS = (
    "two or more incorporated places (or CDPs) of the state have the name",
    "the FBI names a county, which the gazetteer cannot confirm: an alias row must settle it",
)


@dataclass(frozen=True)
class _Verdict:
    geoid: str | None
    rule: str = ""
    reason: str = ""
    evidence: str = ""
    subdivision: str = ""
    candidates: str = ""


class _Matcher:
    """One verdict per (state, printed label); see the module docstring for the order of the checks."""

    def __init__(self, places: list[Place], subdivisions: dict[str, str]) -> None:
        indexed = []
        for p in places:
            alternate = getattr(p, "alternate", "")
            name = f"{p.name} ({alternate})" if alternate else p.name
            indexed.append((p.geoid, p.state, name, getattr(p, "kind", "")))
        self.index = GazetteerIndex(indexed)
        self.kinds = {p.geoid: getattr(p, "kind", "") for p in places}
        self.subdivisions = subdivisions
        self.not_places = load_not_places()
        aliases = load_aliases()
        self.aliases = {
            (r.state, qualified_key(r.agency)): (r.geoid, r.reason)
            for r in aliases.itertuples()
            if r.geoid in self.kinds
        }

    def verdict(self, state: str, label: str) -> _Verdict:
        key = normalise_name(label)
        if (state, key) in self.not_places:
            reason, why = self.not_places[(state, key)]
            return _Verdict(None, reason=reason, evidence=f"not_places.csv: {why}")
        alias = self.aliases.get((state, qualified_key(label)))
        if alias:
            return _Verdict(alias[0], rule="alias", evidence=alias[1])
        found: Resolution = self.index.resolve(state, label)
        if found.geoid and qualified_key(label) != key:  # "Reno, Lamar County": the gazetteer has no county
            found = Resolution(None, "ambiguous", (found.geoid,))
        code = self.subdivisions.get(crosswalk_key(state, label), "")
        crosswalk = f"Data Commons crosswalk codes it county subdivision {code}" if code else ""
        if found.geoid and not (code and self.kinds.get(found.geoid) == "cdp"):
            return _Verdict(found.geoid, rule=found.rule)
        if found.geoid:  # a CDP of the name, but the police serve the town or township around it
            return _Verdict(None, reason="county subdivision", evidence=crosswalk, subdivision=code)
        if found.rule == "ambiguous":
            return _Verdict(
                None,
                reason="ambiguous",
                candidates=" ".join(found.candidates),
                evidence=_AMBIGUOUS[len(found.candidates) == 1],
            )
        if code:
            return _Verdict(None, reason="county subdivision", evidence=crosswalk, subdivision=code)
        parts = self.index.joint_parts(state, label)
        if parts:
            return _Verdict(
                None,
                reason="several jurisdictions",
                evidence="rule: joint name, a part of which names a place or town: " + " + ".join(parts),
            )
        word = regional_word(label)
        if word:
            return _Verdict(
                None,
                reason="several jurisdictions",
                evidence=f'rule: a regional police, by the word "{word}" in its name',
            )
        rule = rule_evidence(state, found.rule)
        if rule:
            return _Verdict(None, reason="county subdivision", evidence=rule)
        return _Verdict(None, reason="not in the 2010 gazetteer", evidence="no rule or alias fits")


def match_all_rows(
    city_rows: pd.DataFrame, places: list[Place], subdivisions: dict[str, str] | None = None
) -> pd.DataFrame:
    """``city_rows`` (state, agency, year, population, source) with their place or why not.

    Columns :data:`MATCH_COLUMNS`: ``place_geoid`` (7-digit, or NA), ``match_rule`` (a key of
    ``place_names.RULES``), ``unmatched_reason`` (one of :data:`REASONS`, "" when matched), ``evidence``,
    ``county_subdivision_geoid`` (10-digit, where the crosswalk gives it), ``candidates`` (the GEOIDs an
    ambiguous label fits) and ``peer_group``. ``subdivisions``: :func:`subdivisions.county_subdivision_codes`.
    """
    matcher = _Matcher(places, subdivisions or {})
    out = city_rows[["state", "agency", "year", "population", "source"]].copy()
    pairs = out[["state", "agency"]].drop_duplicates()
    verdicts = {(s, a): matcher.verdict(s, a) for s, a in pairs.itertuples(index=False)}
    rows = [verdicts[pair] for pair in zip(out["state"], out["agency"], strict=True)]
    out["place_geoid"] = pd.array([v.geoid for v in rows], dtype="string")
    for column, attribute in (
        ("match_rule", "rule"),
        ("unmatched_reason", "reason"),
        ("evidence", "evidence"),
        ("county_subdivision_geoid", "subdivision"),
        ("candidates", "candidates"),
    ):
        out[column] = [getattr(v, attribute) for v in rows]
    out["peer_group"] = [peer_group_of(None if pd.isna(p) else float(p)) for p in out["population"]]
    return out[list(MATCH_COLUMNS)]


def match_rate_markdown(matched: pd.DataFrame) -> list[str]:
    """COVERAGE.md's section: match rates by year, population group and state, and the rules used."""
    return place_report.markdown(matched, NOT_A_PLACE)


def unmatched_csv(matched: pd.DataFrame) -> pd.DataFrame:
    """Every unmatched row of every year: year, state, agency, population, source, reason, then (appended
    columns) the evidence for the reason, the crosswalk's county subdivision GEOID and the candidates."""
    rows = matched[matched["place_geoid"].isna()]
    columns = [
        "year",
        "state",
        "agency",
        "population",
        "source",
        "unmatched_reason",
        "evidence",
        "county_subdivision_geoid",
        "candidates",
    ]
    return rows[columns].sort_values(["year", "state", "agency"], kind="stable").reset_index(drop=True)
