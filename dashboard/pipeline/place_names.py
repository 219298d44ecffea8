"""How one printed FBI city label finds its Census place: stated name-form rules, never a fuzzy guess.

The FBI prints a municipality's name, sometimes with its type ("Chittenango Village", "Edison Township",
"Village of Pinecrest") or a county ("Reno, Lamar County"); the Census 2010 gazetteer names a place with
its legal/statistical type ("Chittenango village", "Palmer Town city", "El Paso de Robles (Paso Robles)
city"). Each rule below is one sentence in :data:`RULES`, and every match records the rule that made it, so
the coverage report can count them and a test can name an example of each. A label that two places fit
equally is refused ("ambiguous"), never settled by order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from dashboard.pipeline.names import normalise_name

# States whose towns (New England, New York, Wisconsin) or townships (New Jersey, Pennsylvania, Michigan,
# Minnesota, and the Ohio townships with police) are governments that are county subdivisions, not
# Census places. There a CDP of the same name is only the town's built-up core, not what its police serve.
SUBDIVISION_STATES = frozenset({"CT", "MA", "ME", "NH", "RI", "VT", "NY", "NJ", "PA", "MI", "WI", "MN"})
NEW_ENGLAND = frozenset({"CT", "MA", "ME", "NH", "RI", "VT"})

RULES: dict[str, str] = {
    "alias": "an alias row in pipeline/aliases.csv names the GEOID and says why",
    "name": "the state and the normalised name equal one Census place's",
    "incorporated over CDP": "an incorporated place and a CDP share the name: the incorporated place, "
    "which has a government and police (a CDP has neither)",
    "printed type": "the label ends in the place's type as the Census spells it "
    '("Chittenango Village" = Chittenango village)',
    "printed prefix": 'the label starts with the type ("Village of Pinecrest" = Pinecrest village)',
    "type differs": 'the label ends in "City", "Village" or "Borough", no place of that type has the '
    'name, and exactly one incorporated place has it ("Sansom Park Village" = Sansom Park city)',
    "Census alternate name": "the Census prints a second name in brackets "
    '("El Paso de Robles (Paso Robles) city")',
    "Census name with type word": "the Census name ends in Village, Town or City before its type "
    '("Westworth Village city", "Palmer Town city", "Amite City town"), the place is incorporated, and '
    "no other place has the shorter name",
    "particle joined": "the names are equal once a particle (De, Du, La, Le, Mc, Wa...) is joined to the "
    'next word ("De Witt" = DeWitt, "La Fayette" = LaFayette), and only one place is equal that way',
}

_TYPE_WORDS = {
    "city": "city",
    "town": "town",
    "village": "village",
    "borough": "borough",
    "township": "township",
    "twp": "township",
    "boro": "borough",
}
_PRINTED_TYPE = re.compile(
    r"^(?P<base>.+?) (?:charter )?(?P<type>city|town|village|borough|boro|township|twp)$"
)
_PRINTED_PREFIX = re.compile(r"^(?:the )?(?P<type>town|village|borough|city) of (?P<base>.+)$")
_CENSUS_TYPE_WORD = re.compile(r"^(?:(?:the )?village of )?(?P<base>.+?)(?: (?:village|town|city))?$")
_JOINT = re.compile(r"\s*[-/]\s*|\s+and\s+", re.IGNORECASE)
_REGIONAL = re.compile(r"\b(regional|region|area|authority|metro|metropolitan)\b", re.IGNORECASE)
_PARTICLE = re.compile(r"\b(de|du|da|di|la|le|mc|mac|van|von|wa) (?=\w)")


@dataclass(frozen=True)
class Candidate:
    geoid: str
    kind: str  # the Census type: "city", "town", "village", "borough", "cdp", ... ("" when unknown)


@dataclass(frozen=True)
class Resolution:
    geoid: str | None
    rule: str  # a key of RULES when matched; otherwise why not ("ambiguous", "printed town", ...)
    candidates: tuple[str, ...] = ()


class GazetteerIndex:
    """Census places of every state, indexed by the name forms of :data:`RULES`."""

    def __init__(self, places: list[tuple[str, str, str, str]]) -> None:
        """``places``: (geoid, state, base name, Census type) for every place."""
        self.names: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        self.alternate: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        self.shortened: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        self.compact: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        for geoid, state, base, kind in places:
            candidate = Candidate(geoid, kind.lower())
            bracket = re.search(r"\(([^)]*)\)", base)
            key = normalise_name(base)
            self.names[(state, key)].append(candidate)
            if bracket and bracket.group(1).lower() != "balance":
                self.alternate[(state, normalise_name(bracket.group(1)))].append(candidate)
            short = _CENSUS_TYPE_WORD.match(key)
            if short and short.group("base") != key and candidate.kind != "cdp":
                self.shortened[(state, short.group("base"))].append(candidate)
            self.compact[(state, _joined(key))].append(candidate)

    def resolve(self, state: str, label: str) -> Resolution:
        """The place one label names, or why none (see :data:`RULES`)."""
        key = normalise_name(label)
        found = _pick(state, self.names.get((state, key), []), "name")
        if found.geoid or found.rule != "no name":
            return found
        typed = _PRINTED_TYPE.match(key) or _PRINTED_PREFIX.match(key)
        if typed:
            base, kind = typed.group("base"), _TYPE_WORDS[typed.group("type")]
            rule = "printed type" if _PRINTED_TYPE.match(key) else "printed prefix"
            same_type = [c for c in self.names.get((state, base), []) if _same_kind(c.kind, kind)]
            if same_type:
                return _pick(state, same_type, rule)
            if kind in {"town", "township"}:
                return Resolution(None, f"printed {kind}")
            found = _pick(state, self.names.get((state, base), []), "type differs")
            if found.geoid or found.rule != "no name":
                return found if found.rule != "CDP in a subdivision state" else Resolution(None, found.rule)
            key = base
        for index, rule in (
            (self.alternate, "Census alternate name"),
            (self.shortened, "Census name with type word"),
            (self.compact, "particle joined"),
        ):
            lookup = _joined(key) if index is self.compact else key
            found = _pick(state, index.get((state, lookup), []), rule)
            if found.geoid or found.rule != "no name":
                return found
        return Resolution(None, "no name")

    def joint_parts(self, state: str, label: str) -> list[str] | None:
        """The parts of "Snowflake-Taylor", "Fraser/Winter Park" or "Camillus Town and Village" when at
        least one part names a place or a printed town: one police for several jurisdictions."""
        text = re.sub(r"[\d,\s]+$", "", str(label).split(",")[0]).strip()
        parts = [p for p in _JOINT.split(text) if p]
        if len(parts) < 2:
            return None
        resolved = [self.resolve(state, part) for part in parts]
        known = [r.geoid or r.rule in {"printed town", "printed township", "ambiguous"} for r in resolved]
        return parts if any(known) else None


def regional_word(label: str) -> str:
    """ "Stroud Area Regional" -> "Regional": the word that names a police of several places ("" if none)."""
    found = _REGIONAL.findall(str(label))
    return found[-1] if found else ""


def _joined(key: str) -> str:
    return _PARTICLE.sub(r"\1", key)


def _same_kind(census: str, printed: str) -> bool:
    return census == printed or (printed == "city" and census.startswith("city"))


def _pick(state: str, candidates: list[Candidate], rule: str) -> Resolution:
    if not candidates:
        return Resolution(None, "no name")
    geoids = tuple(sorted({c.geoid for c in candidates}))
    incorporated = sorted({c.geoid for c in candidates if c.kind != "cdp"})
    if len(incorporated) == 1:
        return Resolution(incorporated[0], rule if len(geoids) == 1 else "incorporated over CDP")
    if len(incorporated) > 1:
        return Resolution(None, "ambiguous", geoids)
    if state in SUBDIVISION_STATES:
        return Resolution(None, "CDP in a subdivision state", geoids)
    return Resolution(geoids[0], rule) if len(geoids) == 1 else Resolution(None, "ambiguous", geoids)
