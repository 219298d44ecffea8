"""Every row of the FBI city tables against every Census place (issue 13): the match rate, and why not.

The universe is the Census 2010 Gazetteer of places (29,514: incorporated places and CDPs, with their
internal point). Names are compared after dropping the legal/statistical suffix the Census adds ("Abbeville
city", "Addison town", "Abanda CDP") with the same normaliser and alias table as the study universe. A row
that matches no place is classified, never guessed:

* ``county subdivision``: a township, or a town in a state whose towns are county subdivisions (New England,
  New York, New Jersey, Pennsylvania, Michigan, Wisconsin, Minnesota): not a Census place, so no place
  polygon exists for it (a boundary source for county subdivisions would be needed);
* ``ambiguous``: several places of the state share the name (e.g. a city and a CDP);
* ``not in the 2010 gazetteer``: incorporated or renamed after 2010 (e.g. Jurupa Valley CA, 2011), or
  printed in a form no rule or alias covers yet.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import source_errors
from dashboard.pipeline.names import Place, PlaceMatcher, normalise_name
from dashboard.schema import PEER_GROUPS, peer_group_of

GAZETTEER = Path("boundaries") / "camillol__cs424p3" / "Gaz_places_national.txt"
_SUFFIX = re.compile(
    r"\s+(city and borough|consolidated government|unified government|metropolitan government|"
    r"metro government|urban county|city|town|village|borough|municipality|cdp|plantation|corporation)$",
    re.IGNORECASE,
)
# States whose "towns" (and townships) are county subdivisions, not Census places.
SUBDIVISION_STATES = frozenset({"CT", "MA", "ME", "NH", "RI", "VT", "NY", "NJ", "PA", "MI", "WI", "MN"})
_SUBDIVISION_WORDS = re.compile(r"\b(township|twp|town)\b", re.IGNORECASE)


def base_name(census_name: str) -> str:
    """ "Abbeville city" -> "Abbeville"; "Nashville-Davidson metropolitan government (balance)" -> ..."""
    return _SUFFIX.sub("", re.sub(r"\s*\([^)]*\)", "", census_name).strip())


def gazetteer_places(sources: Path) -> list[Place]:
    """Every 2010 Census place, except a CDP (no government, so no police) that shares its state and name
    with an incorporated place: "Jackson city" and "Jackson CDP" would otherwise be ambiguous."""
    path = Path(sources) / GAZETTEER
    with source_errors(path):
        frame = pd.read_csv(path, sep="\t", encoding="latin-1", dtype=str)
    frame.columns = [c.strip() for c in frame.columns]
    frame["base"] = frame["NAME"].map(base_name)
    frame["key"] = frame["base"].map(normalise_name)
    frame["cdp"] = frame["NAME"].str.endswith(" CDP")
    towns = frame[~frame["cdp"]]
    incorporated = set(zip(towns["STUSPS"], towns["key"], strict=True))
    keys = zip(frame["STUSPS"], frame["key"], strict=True)
    shadowed = frame["cdp"] & pd.Series([key in incorporated for key in keys], index=frame.index)
    kept = frame[~shadowed]
    return [Place(r.GEOID, r.STUSPS, r.base) for r in kept.itertuples()]


def _ambiguous_keys(places: list[Place]) -> set[tuple[str, str]]:
    seen: dict[tuple[str, str], int] = {}
    for place in places:
        key = (place.state, normalise_name(place.name))
        seen[key] = seen.get(key, 0) + 1
    return {k for k, n in seen.items() if n > 1}


def match_all_rows(city_rows: pd.DataFrame, places: list[Place]) -> pd.DataFrame:
    """``city_rows`` (state, agency, year, population) with ``place_geoid`` and ``unmatched_reason``."""
    matcher = PlaceMatcher(places)
    ambiguous = _ambiguous_keys(places)
    out = city_rows[["state", "agency", "year", "population", "source"]].copy()
    out["place_geoid"] = matcher.match_frame(out)
    keys = [(s, normalise_name(a)) for s, a in zip(out["state"], out["agency"], strict=True)]
    # the matcher keeps one GEOID per name: where a state has two places of the name, no match is taken
    out.loc[[k in ambiguous for k in keys], "place_geoid"] = pd.NA
    reasons = []
    for state, agency, geoid in zip(out["state"], out["agency"], out["place_geoid"], strict=True):
        if pd.notna(geoid):
            reasons.append("")
        elif (state, normalise_name(agency)) in ambiguous:
            reasons.append("ambiguous")
        elif _SUBDIVISION_WORDS.search(str(agency)) or state in SUBDIVISION_STATES:
            reasons.append("county subdivision")
        else:
            reasons.append("not in the 2010 gazetteer")
    out["unmatched_reason"] = reasons
    out["peer_group"] = [peer_group_of(None if pd.isna(p) else float(p)) for p in out["population"]]
    return out


def match_rate_markdown(matched: pd.DataFrame) -> list[str]:
    """COVERAGE.md's section: match rate by population group and by state, for the latest year."""
    year = int(matched["year"].max())
    latest = matched[matched["year"] == year]
    places = latest[latest["unmatched_reason"] != "county subdivision"]
    rate = places["place_geoid"].notna().mean()
    lines = [
        f"## Every row of the FBI city tables against every Census place ({year})",
        "",
        f"{len(latest):,} rows in the {year} city table; {latest['place_geoid'].notna().sum():,} "
        f"({latest['place_geoid'].notna().mean():.1%}) match one Census place of the 2010 gazetteer by "
        "state and name. Leaving out the rows that are likely county subdivisions (townships, and towns "
        f"where towns are subdivisions: no place polygon exists for them), {rate:.1%} of the rest match. "
        "Every unmatched row of every year, with its reason, is in `unmatched_places.csv`.",
        "",
        "| Population group | Rows | Matched | County subdivisions | Ambiguous | Not in the 2010 gazetteer |",
        "|---|---|---|---|---|---|",
    ]
    for group, label, *_rest in PEER_GROUPS:
        rows = latest[latest["peer_group"] == group]
        counts = rows["unmatched_reason"].value_counts()
        lines.append(
            f"| {label} | {len(rows):,} | {rows['place_geoid'].notna().mean():.1%} | "
            f"{counts.get('county subdivision', 0):,} | {counts.get('ambiguous', 0):,} | "
            f"{counts.get('not in the 2010 gazetteer', 0):,} |"
        )
    by_state = latest.groupby("state").agg(rows=("agency", "size"), matched=("place_geoid", "count"))
    by_state["share"] = by_state["matched"] / by_state["rows"]
    worst = by_state.sort_values(["share", "rows"], ascending=[True, False]).head(12)
    lines += [
        "",
        "States with the lowest match rate:",
        "",
        "| State | Rows | Matched |",
        "|---|---|---|",
        *(f"| {s} | {int(r.rows):,} | {r.share:.1%} |" for s, r in worst.iterrows()),
        "",
    ]
    return lines


def unmatched_csv(matched: pd.DataFrame) -> pd.DataFrame:
    """Every unmatched row of every year: year, state, agency, population, source, reason."""
    rows = matched[matched["place_geoid"].isna()]
    columns = ["year", "state", "agency", "population", "source", "unmatched_reason"]
    return rows[columns].sort_values(["year", "state", "agency"], kind="stable").reset_index(drop=True)
