"""The view state and its query-string form (``?cities=...&offence=...``): a public contract.

Parameters: cities (comma-separated 7-digit GEOIDs, 5-digit for a county site), cohort, offence, measure
(rate|ratio|count), year, from, to, threshold, align (calendar|joined; written only when joined, so
every older link reads and writes as before); issue 18 adds tables (panels shown as a table: map,trends,
ranking), small (show|exclude: the ranking leaves out values resting on few offences), base (a year: the
trends show the change since it, in %), scale (linear|log) and smooth (1|3: a 3-year rolling average),
each written only when not the default; issue 13 adds minpop (0|10k|25k|50k|100k: the population floor of
the map and ranking, default 100k) and band (all|250k+|100k-250k|50k-100k|25k-50k|10k-25k|under-10k: the
ranking among places of one size). Unknown or invalid values never crash:
they are dropped and a notice says what was ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlencode

import pandas as pd

from dashboard.data.dataset import Dataset
from dashboard.data.joined import ALIGNS
from dashboard.data.measures import MEASURES
from dashboard.data.places import BANDS, DEFAULT_MINPOP, MINPOPS
from dashboard.schema import OFFENCES, cohort_slug

__all__ = ["cohort_slug"]  # re-exported: the URL form of a cohort label lives in schema

DEFAULT_RANKING_YEAR = 2015  # latest FBI data published when PSP was announced (June 2017)
DEFAULT_THRESHOLD = 1.5

ALL_PROGRAMS = "all-programs"
ALL_PSP = "all-psp"  # every PSP site, all cohorts (issue 12)
ALL_CITIES = "all-cities"
DEFAULT_COHORT = "psp-2017"
THRESHOLD_RANGE = (1.0, 10.0)
MAX_CITIES = 40
DEFAULT_FROM = 1985
PANELS = ("map", "trends", "ranking", "outcomes")  # what ``tables=`` may name (the registry's charts)
SMALL_CHOICES = ("show", "exclude")
SCALES = ("linear", "log")
SMOOTHS = ("1", "3")


def _cohort_label(rows: pd.DataFrame) -> str:
    """A cohort's picker label, with a visible marker when some of its sites are not confirmed by a source."""
    label = str(rows["cohort"].iloc[0])
    unconfirmed = int((rows["status"] == "unconfirmed").sum())
    return f"{label} ({unconfirmed} of {len(rows)} unconfirmed)" if unconfirmed else label


def cohort_options(dataset: Dataset) -> dict[str, str]:
    """slug -> label, from programs.csv (a new cohort there appears here with no code change): PSP cohorts
    newest first, then every PSP site, the VRN cohorts, every program city and every city."""
    programs = dataset.programs
    options: dict[str, str] = {}
    for program in sorted(programs["program"].unique(), key=lambda name: (name != "PSP", name)):
        mine = programs[programs["program"] == program]
        for cohort in sorted(mine["cohort"].unique(), reverse=True):
            rows = mine[mine["cohort"] == cohort]
            options[str(rows["cohort_id"].iloc[0])] = _cohort_label(rows)
        if program == "PSP":
            options[ALL_PSP] = "All PSP sites (every cohort)"
    options[ALL_PROGRAMS] = "All program cities (PSP + VRN)"
    options[ALL_CITIES] = "All places (no cohort: see the population floor)"
    return options


def cohort_members(dataset: Dataset, slug: str) -> list[str]:
    programs = dataset.programs
    if slug == ALL_CITIES:
        return dataset.cities["geoid"].tolist()
    if slug == ALL_PROGRAMS:
        chosen = programs
    elif slug == ALL_PSP:
        chosen = programs[programs["program"] == "PSP"]
    else:
        chosen = programs[programs["cohort_id"] == slug]
    return sorted(set(chosen["geoid"]), key=dataset.label)


def highlight_cohorts(dataset: Dataset, slug: str) -> list[str]:
    """Program cohorts (labels) that the ranking highlights for a cohort choice."""
    programs = dataset.programs
    if slug in (ALL_PROGRAMS, ALL_CITIES):
        return sorted(programs["cohort"].unique())
    if slug == ALL_PSP:
        return sorted(programs.loc[programs["program"] == "PSP", "cohort"].unique())
    return sorted(programs.loc[programs["cohort_id"] == slug, "cohort"].unique())


@dataclass(frozen=True)
class ViewState:
    cohort: str = DEFAULT_COHORT
    cities: tuple[str, ...] = ()
    offence: str = "violent_crime"
    measure: str = "ratio"
    year: int = DEFAULT_RANKING_YEAR
    year_from: int = DEFAULT_FROM
    year_to: int = 2019
    threshold: float = DEFAULT_THRESHOLD
    align: str = "calendar"  # trends x axis: calendar years, or years since each site joined (issue 12)
    tables: tuple[str, ...] = ()  # panels switched to their table (issue 18)
    small: str = "show"  # "exclude": the ranking leaves out values resting on few offences (issue 18)
    base: int | None = None  # trends: change since this year, in % (issue 18)
    scale: str = "linear"  # trends y axis (issue 18)
    smooth: int = 1  # trends: 3 = a 3-year rolling average (issue 18)
    minpop: int = DEFAULT_MINPOP  # the map and ranking's population floor (issue 13; 0 = every place)
    band: str = "all"  # the ranking's population group (issue 13): "all", or a schema.PEER_GROUPS id
    notices: tuple[str, ...] = field(default=(), compare=False)
    cities_cut: bool = field(default=False, compare=False)  # the link named more than MAX_CITIES cities

    def to_query(self) -> str:
        params = {
            "cohort": self.cohort,
            "cities": ",".join(self.cities),
            "offence": self.offence,
            "measure": self.measure,
            "year": self.year,
            "from": self.year_from,
            "to": self.year_to,
            "threshold": f"{self.threshold:g}",
        }
        if self.align != "calendar":
            params["align"] = self.align
        extra = {
            "tables": ",".join(t for t in PANELS if t in self.tables),
            "small": "" if self.small == "show" else self.small,
            "base": "" if self.base is None else str(self.base),
            "scale": "" if self.scale == "linear" else self.scale,
            "smooth": "" if self.smooth == 1 else str(self.smooth),
            "minpop": "" if self.minpop == DEFAULT_MINPOP else minpop_token(self.minpop),
            "band": "" if self.band == "all" else self.band,
        }
        params.update({k: v for k, v in extra.items() if v})
        return "?" + urlencode(params, safe=",")


def _clip(text: str, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _choice(key: str, raw: str, options, current: str, hint: str, notices: list[str]) -> str:
    """One of ``options`` for a URL value, in any case ("Murder", "RATE"); a notice says which value is
    used when it is not exactly what the link said."""
    by_lower = {option.lower(): option for option in options}
    chosen = by_lower.get(raw.strip().lower())
    if chosen is None:
        notices.append(f"Unknown {key} “{_clip(raw)}” ignored{hint}; showing “{current}”.")
        return current
    if chosen != raw:
        notices.append(f"{key.capitalize()} “{_clip(raw)}” read as “{chosen}”.")
    return chosen


def minpop_token(minpop: int) -> str:
    """100000 -> "100k"; 0 -> "0" (every place): the URL form of a population floor."""
    return f"{minpop // 1000}k" if minpop else "0"


def _minpop(raw: str, notices: list[str]) -> int | None:
    """``minpop=10k`` / ``10000`` / ``10,000`` / ``all`` -> 10000 (or 0); None, with a notice, otherwise."""
    text = raw.strip().lower().replace(",", "").replace("_", "")
    value = 0 if text in ("all", "0") else None
    if text.endswith("k") and text[:-1].isdigit():
        value = int(text[:-1]) * 1000
    elif text.isascii() and text.isdigit():
        value = int(text)
    if value not in MINPOPS:
        allowed = ", ".join(minpop_token(m) for m in MINPOPS)
        notices.append(f"Population floor “{_clip(raw)}” ignored (use {allowed}).")
        return None
    return value


def _panels(raw: str, notices: list[str]) -> tuple[str, ...]:
    """``tables=trends,Ranking`` -> ("trends", "ranking"); unknown names are dropped with a notice."""
    chosen, unknown = [], []
    for token in raw.split(","):
        name = token.strip().lower()
        if name in PANELS and name not in chosen:
            chosen.append(name)
        elif token.strip():
            unknown.append(token.strip())
    if unknown:
        notices.append(
            f"Unknown panel(s) in tables ignored: {_clip(', '.join(unknown))} (use {', '.join(PANELS)})."
        )
    return tuple(t for t in PANELS if t in chosen)


def parse_query(query: str | Mapping[str, list[str]], dataset: Dataset) -> ViewState:
    """A ViewState from a query string; invalid parts are dropped with a notice."""
    params = parse_qs(query.lstrip("?"), keep_blank_values=False) if isinstance(query, str) else dict(query)
    first = {k: v[-1] for k, v in params.items() if v}
    notices: list[str] = []
    years = dataset.years
    state = ViewState(year_to=max(years), year_from=max(DEFAULT_FROM, min(years)))

    choices = (
        ("cohort", cohort_options(dataset), ""),
        ("offence", OFFENCES, ""),
        ("measure", MEASURES, " (use rate, ratio or count)"),
        ("align", ALIGNS, " (use calendar or joined)"),
        ("small", SMALL_CHOICES, " (use show or exclude)"),
        ("scale", SCALES, " (use linear or log)"),
    )
    for key, options, hint in choices:
        if key in first:
            value = _choice(key, first[key], options, getattr(state, key), hint, notices)
            state = replace(state, **{key: value})
    for key, attr in (("year", "year"), ("from", "year_from"), ("to", "year_to")):
        if key in first:
            raw = first[key].strip()
            if raw.isascii() and raw.isdigit() and min(years) <= int(raw) <= max(years):
                state = replace(state, **{attr: int(raw)})
            else:
                notices.append(
                    f"Year “{_clip(raw)}” for {key} ignored (data cover {min(years)}–{max(years)})."
                )
    if "smooth" in first:
        value = _choice("smooth", first["smooth"], SMOOTHS, str(state.smooth), " (use 1 or 3)", notices)
        state = replace(state, smooth=int(value))
    if "base" in first:
        raw = first["base"].strip()
        if raw.isascii() and raw.isdigit() and min(years) <= int(raw) <= max(years):
            state = replace(state, base=int(raw))
        else:
            notices.append(f"Base year “{_clip(raw)}” ignored (data cover {min(years)}–{max(years)}).")
    if "tables" in first:
        state = replace(state, tables=_panels(first["tables"], notices))
    if "minpop" in first and (minpop := _minpop(first["minpop"], notices)) is not None:
        state = replace(state, minpop=minpop)
    if "band" in first:
        band = _choice("band", first["band"], BANDS, state.band, f" (use {', '.join(BANDS)})", notices)
        state = replace(state, band=band)
    if state.year_from > state.year_to:
        notices.append("“from” was after “to”; the two were swapped.")
        state = replace(state, year_from=state.year_to, year_to=state.year_from)
    if "threshold" in first:
        try:
            value = float(first["threshold"])
            if not THRESHOLD_RANGE[0] <= value <= THRESHOLD_RANGE[1]:
                raise ValueError
            state = replace(state, threshold=round(value, 2))
        except ValueError:
            notices.append(f"Threshold “{_clip(first['threshold'])}” ignored (use a number from 1 to 10).")

    if "cities" in first:
        known, dropped = [], []
        for token in first["cities"].split(","):
            token = token.strip()
            if not token:
                continue
            (known if token in dataset.cities.index and token not in known else dropped).append(token)
        if dropped:
            notices.append(f"Unknown or repeated city code(s) ignored: {_clip(', '.join(dropped), 80)}.")
        known_before_cut = list(known)
        if len(known) > MAX_CITIES:
            notices.append(f"Only the first {MAX_CITIES} cities are shown.")
            known = known[:MAX_CITIES]
        state = replace(state, cities=tuple(known), cities_cut=len(known) < len(known_before_cut))
    else:
        members = cohort_members(dataset, state.cohort)
        if state.cohort != ALL_CITIES and len(members) > MAX_CITIES:  # all-psp, all-programs (issue 12)
            notices.append(f"Only the first {MAX_CITIES} of the cohort's {len(members)} cities are shown.")
        state = replace(state, cities=tuple(members[:MAX_CITIES] if state.cohort != ALL_CITIES else ()))
    return replace(state, notices=tuple(notices))
