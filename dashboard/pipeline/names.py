"""Match FBI agency labels to Census place GEOIDs.

FBI tables print city names with footnote digits and agency variants ("Chicago3",
"Nashville Metropolitan", "Indianapolis", "Louisville Metro"). We match on state +
a normalised name, and consult an explicit alias table (``aliases.csv``, data not code)
for the consolidated governments whose Census names differ from the FBI's. Anything
ambiguous or unmatched is reported, never guessed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

ALIASES_CSV = Path(__file__).with_name("aliases.csv")

_AGENCY_SUFFIXES = tuple(
    sorted(
        (
            "metropolitan police department",
            "metropolitan police dept",
            "police department",
            "police dept",
            "dept of public safety",
            "department of public safety",
            "bureau of police",
            "police bureau",
            "police",
            "pd",
        ),
        key=len,
        reverse=True,  # longest first
    )
)


@dataclass(frozen=True)
class Place:
    geoid: str
    state: str
    name: str


def normalise_name(label: str) -> str:
    """Reduce a city/agency label to a comparable key.

    Drops footnote digits, a leading "City of", a trailing ", ST", agency words such as
    "Police Dept", punctuation and accents; spells "St."/"Saint" and "Ft."/"Fort" one way.
    """
    text = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode("ascii")
    text = text.lower().strip()
    text = re.sub(r"\s*\([^)]*\)\s*", " ", text)  # "(balance)", "(Ventura)"
    text = re.sub(r"^city of\s+", "", text)
    text = re.sub(r"[\d,]+$", "", text).strip()  # footnote digits "Chicago3", "Mobile4,5"
    text = re.sub(r",.*$", "", text)  # ", TN", ", TN-MS-AR", ", Tenn.", ", N.Y."
    for suffix in _AGENCY_SUFFIXES:
        if text.endswith(" " + suffix):
            text = text[: -len(suffix) - 1]
            break
    text = re.sub(r"\bst\.?\s", "saint ", text + " ").strip()
    text = re.sub(r"\bft\.?\s", "fort ", text + " ").strip()
    text = re.sub(r"[.'`]", "", text)
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"[\d]+$", "", text)
    return re.sub(r"\s+", " ", text).strip()


_COUNTY = re.compile(r",\s*(?P<county>[^,]+?)\s+county\b", re.IGNORECASE)


def qualified_key(label: str) -> str:
    """The normalised name plus a county the FBI printed after a comma ("reno lamar county"), so an alias
    for "Reno, Lamar County" never applies to a plain "Reno"."""
    county = _COUNTY.search(str(label))
    key = normalise_name(label)
    return f"{key} {normalise_name(county.group('county'))} county" if county else key


def load_aliases(path: Path = ALIASES_CSV) -> pd.DataFrame:
    """The explicit alias table: state, agency (as printed, any variant), geoid, reason."""
    aliases = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    aliases["key"] = aliases["agency"].map(qualified_key)
    return aliases


class PlaceMatcher:
    """Resolve (state or "ST|ST", agency label) pairs to a GEOID of the study universe."""

    def __init__(self, places: Iterable[Place], aliases: pd.DataFrame | None = None) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        for place in places:
            self._by_key[(place.state, normalise_name(place.name))] = place.geoid
        known = set(self._by_key.values())
        aliases = load_aliases() if aliases is None else aliases
        for row in aliases.itertuples():
            if row.geoid not in known:
                log.debug("alias %s/%s points outside the universe (%s)", row.state, row.agency, row.geoid)
                continue
            self._by_key[(row.state, row.key)] = row.geoid

    def match(self, state: str, agency: str) -> str | None:
        """GEOID for one label, or None when unmatched or ambiguous across candidate states.

        "Flint City Police Dept" normalises to "flint city"; when that is no place, the
        trailing "city" is dropped ("Kansas City" itself is a place and matches first).
        """
        key = normalise_name(agency)
        for candidate in dict.fromkeys((key, key.removesuffix(" city"))):
            hits = {
                self._by_key[(st, candidate)]
                for st in str(state).split("|")
                if (st, candidate) in self._by_key
            }
            if hits:
                return hits.pop() if len(hits) == 1 else None
        return None

    def match_frame(self, frame: pd.DataFrame) -> pd.Series:
        """Vectorised :meth:`match` over a frame with ``state`` and ``agency`` columns."""
        pairs = frame[["state", "agency"]].drop_duplicates()
        lookup = {(s, a): self.match(s, a) for s, a in pairs.itertuples(index=False)}
        return pd.Series(
            [lookup[(s, a)] for s, a in zip(frame["state"], frame["agency"], strict=True)],
            index=frame.index,
            dtype="string",
        )
