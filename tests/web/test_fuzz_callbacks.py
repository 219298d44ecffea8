"""Hostile requests to Dash's callback endpoint (``POST /_dash-update-component``).

The guard in ``dashboard/security.py`` answers malformed bodies (not JSON, not an object,
missing keys, unknown callbacks or controls, values that do not fit their control, oversized
or deeply nested) with a short plain 4xx before Dash or a callback sees them; what it lets
through must be served (200/204). Nothing may answer 5xx.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.data.measures import MEASURES
from dashboard.data.state import MAX_CITIES, cohort_options
from dashboard.schema import OFFENCES
from dashboard.serve.security import (
    CALLBACK_PATH,
    MAX_CALLBACK_BODY,
    MAX_URL_CHARS,
    callback_specs,
    value_rules,
)
from dashboard.web import ids

FUZZ = settings(
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRIED: Counter = Counter()  # requests sent, and how many answered 5xx (reported at the end)

# Controls whose callbacks are cheap (no figure or table is built): fuzzed with accepted values.
SYNC = "..url.search...cohort.value...cities.value...offence.value"
# Links, summaries, embed code and tables: one callback (it also answers the table toggles).
SHARE = "..download-csv."


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    """After the module: how many callback requests were sent and how many answered 5xx."""
    yield
    report(request, f"test_fuzz_callbacks: {TRIED['sent']} callback requests, {TRIED['5xx']} answered 5xx")


def report(request, line: str) -> None:
    """One line on the terminal after the module's tests (not swallowed by output capture)."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + line)


@pytest.fixture(scope="module")
def specs(app):
    return callback_specs(app)


class Target:
    """The app under test with a short repr: Hypothesis prints a failing test's arguments."""

    def __init__(self, client, specs, dataset) -> None:
        self.client, self.specs, self.dataset = client, specs, dataset
        self.rules = value_rules(dataset)
        self.accepted = accepted_values(dataset)

    def __repr__(self) -> str:
        return "<atlas app>"


@pytest.fixture(scope="module")
def target(client, specs, dataset) -> Target:
    return Target(client, specs, dataset)


def post(client, body: Any = None, *, raw: bytes | None = None, content_type: str = "application/json", **kw):
    """Send one callback request; every answer must be < 500, and errors short plain text."""
    data = raw if raw is not None else json.dumps(body, allow_nan=True).encode("utf-8")
    response = client.post(CALLBACK_PATH, data=data, content_type=content_type, **kw)
    TRIED["sent"] += 1
    if response.status_code >= 500:
        TRIED["5xx"] += 1
    assert response.status_code < 500, (response.status_code, data[:400])
    if response.status_code >= 400:
        assert response.mimetype == "text/plain", data[:200]
        text = response.get_data(as_text=True)
        assert len(text) < 300 and "Traceback" not in text
    return response


def sample_values(dataset) -> dict[tuple[str, str], Any]:
    """A value the page itself would send for each control."""
    values = {
        (ids.URL, "search"): "?cohort=psp-2017",
        (ids.URL, "href"): "http://127.0.0.1:8050/?cohort=psp-2017",
        (ids.COHORT, "value"): "psp-2017",
        (ids.CITIES, "value"): ["4748000", "4737640"],
        (ids.OFFENCE, "value"): "violent_crime",
        (ids.MEASURE, "value"): "ratio",
        (ids.YEAR, "value"): 2015,
        (ids.YEAR_RANGE, "value"): [2000, max(dataset.years)],
        (ids.THRESHOLD, "value"): 1.5,
        (ids.ALIGN, "value"): "calendar",
        (ids.MAP, "clickData"): None,
    }
    values.update({(ids.table_toggle(chart), "value"): "chart" for chart in ids.CHARTS})
    values.update(
        {
            (ids.TREND_BASE, "value"): None,
            (ids.TREND_SCALE, "value"): "linear",
            (ids.TREND_SMOOTH, "value"): 1,
            (ids.SMALL, "value"): [],
            (ids.MINPOP, "value"): 100_000,
            (ids.BAND, "value"): "all",
        }
    )
    return values


def outputs_of(key: str) -> list[dict] | dict:
    """The ``outputs`` the renderer sends for a callback key (a list for multi-output)."""
    if key.startswith(".."):
        return [dict(zip(("id", "property"), o.split(".", 1), strict=True)) for o in key[2:-2].split("...")]
    cid, prop = key.split(".", 1)
    return {"id": cid, "property": prop}


def payload(key: str, spec, values: dict, changed: list[str] | None = None) -> dict:
    inputs = [{"id": c, "property": p, "value": values[(c, p)]} for c, p in spec.inputs]
    names = [f"{c}.{p}" for c, p in spec.inputs]
    body = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": inputs,
        "changedPropIds": changed if changed is not None else names[:1],
    }
    if spec.state:  # sent by the page as ``state`` (values read, not listened to)
        body["state"] = [{"id": c, "property": p, "value": values[(c, p)]} for c, p in spec.state]
    return body


def key_starting(specs, prefix: str) -> str:
    return next(k for k in specs if k.startswith(prefix))


# --- The contract -----------------------------------------------------------------------------


def test_every_callback_input_has_a_value_rule(specs, dataset) -> None:
    rules = value_rules(dataset)
    used = {pair for spec in specs.values() for pair in (*spec.inputs, *spec.state)}
    assert used - set(rules) == set(), "add a row to security.value_rules for each new control"


def test_the_requests_the_page_sends_are_served(client, specs, dataset) -> None:
    values = sample_values(dataset)
    for key, spec in specs.items():
        response = post(client, payload(key, spec, values))
        assert response.status_code == 200, (key, response.get_data(as_text=True))


# --- Hand-picked malformed requests -----------------------------------------------------------


def malformed(specs, dataset) -> list[tuple[str, dict | bytes, int]]:
    """(what, body or raw bytes, expected status)."""
    values = sample_values(dataset)
    sync = key_starting(specs, SYNC)
    good = payload(sync, specs[sync], values)

    def with_value(control: tuple[str, str], value: Any, key: str = SYNC) -> dict:
        full = key_starting(specs, key)
        return payload(full, specs[full], {**values, control: value})

    def without(name: str) -> dict:
        return {k: v for k, v in good.items() if k != name}

    year = (ids.YEAR, "value")
    cities = (ids.CITIES, "value")
    span = (ids.YEAR_RANGE, "value")
    threshold = (ids.THRESHOLD, "value")
    years = dataset.years
    return [
        ("empty body", b"", 400),
        ("not JSON", b"output=map.figure", 400),
        ("truncated JSON", json.dumps(good).encode()[:-7], 400),
        ("invalid UTF-8", b'{"output": "\xff\xfe"}', 400),
        ("JSON array", b"[]", 400),
        ("JSON string", b'"map.figure"', 400),
        ("JSON null", b"null", 400),
        ("JSON number", b"1e999", 400),
        ("deeply nested", b"[" * 50_000 + b"]" * 50_000, 400),
        ("nested junk inside", {**good, "junk": json.loads("[" * 900 + "]" * 900)}, 200),
        ("no output", without("output"), 400),
        ("no inputs", without("inputs"), 400),
        ("output not a string", {**good, "output": ["map.figure"]}, 400),
        ("unknown output", {**good, "output": "secret.value"}, 400),
        ("output of another callback", {**good, "output": "trends.figure"}, 400),
        ("inputs not a list", {**good, "inputs": {"id": "url"}}, 400),
        ("an input missing", {**good, "inputs": good["inputs"][:-1]}, 400),
        ("an input too many", {**good, "inputs": [*good["inputs"], good["inputs"][0]]}, 400),
        ("inputs reordered", {**good, "inputs": good["inputs"][::-1]}, 400),
        (
            "unknown input id",
            {**good, "inputs": [{**good["inputs"][0], "id": "admin"}, *good["inputs"][1:]]},
            400,
        ),
        (
            "pattern id",
            {**good, "inputs": [{**good["inputs"][0], "id": {"type": "x"}}, *good["inputs"][1:]]},
            400,
        ),
        ("input not an object", {**good, "inputs": ["url.search", *good["inputs"][1:]]}, 400),
        ("state not a list", {**good, "state": "x"}, 400),
        ("state for a callback without", {**good, "state": [good["inputs"][0]]}, 400),
        ("outputs mismatched", {**good, "outputs": [{"id": "x", "property": "children"}]}, 400),
        ("outputs junk", {**good, "outputs": [1, None, "a"]}, 400),
        ("changedPropIds junk", {**good, "changedPropIds": ['{"a":', None]}, 400),
        ("changedPropIds unknown", {**good, "changedPropIds": ["secret.value"]}, 400),
        ("changedPropIds not a list", {**good, "changedPropIds": "url.search"}, 400),
        ("year as text", with_value(year, "2015"), 400),
        ("year as float", with_value(year, 2015.5), 400),
        ("year as bool", with_value(year, True), 400),
        ("year outside the data", with_value(year, max(years) + 1), 400),
        ("year huge", with_value(year, 10**400), 400),
        ("year null", with_value(year, None), 400),
        ("offence unknown", with_value((ids.OFFENCE, "value"), "arson'; DROP TABLE crime; --"), 400),
        ("measure unknown", with_value((ids.MEASURE, "value"), "<script>alert(1)</script>"), 400),
        ("cohort unknown", with_value((ids.COHORT, "value"), "../../etc/passwd"), 400),
        ("cohort as list", with_value((ids.COHORT, "value"), ["psp-2017"]), 400),
        ("cities as text", with_value(cities, "4748000"), 400),
        ("cities not text", with_value(cities, [4748000]), 400),
        ("cities too many", with_value(cities, ["4748000"] * (MAX_CITIES + 1)), 400),
        ("cities huge list", with_value(cities, ["x"] * 20_000), 400),
        ("city code huge", with_value(cities, ["4" * 10_000]), 400),
        ("year range of three", with_value(span, [2000, 2010, 2019]), 400),
        ("year range of one", with_value(span, [2000]), 400),
        ("year range swapped", with_value(span, [2019, 1985]), 400),
        ("year range as text", with_value(span, "2000-2019"), 400),
        ("threshold NaN", with_value(threshold, math.nan), 400),
        ("threshold infinite", with_value(threshold, math.inf), 400),
        ("threshold too high", with_value(threshold, 11), 400),
        ("threshold as text", with_value(threshold, "2"), 400),
        ("search too long", with_value((ids.URL, "search"), "?" + "a" * MAX_URL_CHARS), 400),
        ("search not text", with_value((ids.URL, "search"), {"cohort": "x"}), 400),
        ("clickData a list", with_value((ids.MAP, "clickData"), [1, 2]), 400),
        ("clickData a string", with_value((ids.MAP, "clickData"), "points"), 400),
        ("view switch unknown", with_value((ids.table_toggle("map"), "value"), "both", key=SHARE), 400),
        ("view switch a number", with_value((ids.table_toggle("map"), "value"), 1, key=SHARE), 400),
        ("base year outside the data", with_value((ids.TREND_BASE, "value"), 1066, key=SHARE), 400),
        ("scale unknown", with_value((ids.TREND_SCALE, "value"), "sqrt", key=SHARE), 400),
        ("smooth 2", with_value((ids.TREND_SMOOTH, "value"), 2, key=SHARE), 400),
        ("small as text", with_value((ids.SMALL, "value"), "exclude", key=SHARE), 400),
        ("href unparsable", with_value((ids.URL, "href"), "http://[::1", key=SHARE), 400),
    ]


def test_malformed_requests_get_a_short_plain_4xx(client, specs, dataset) -> None:
    for what, body, status in malformed(specs, dataset):
        response = post(client, raw=body) if isinstance(body, bytes) else post(client, body)
        assert response.status_code == status, (what, response.status_code, response.get_data(as_text=True))


def test_wrong_content_type_and_method(client, specs, dataset) -> None:
    body = json.dumps(
        payload(key_starting(specs, SYNC), specs[key_starting(specs, SYNC)], sample_values(dataset))
    )
    assert post(client, raw=body.encode(), content_type="text/plain").status_code == 415
    assert post(client, raw=b"a=1", content_type="application/x-www-form-urlencoded").status_code == 415
    for method in (client.get, client.put, client.delete):
        response = method(CALLBACK_PATH)
        TRIED["sent"] += 1
        assert 400 <= response.status_code < 500 and response.mimetype == "text/plain"


def test_bodies_over_the_limit_get_413(client, specs, dataset) -> None:
    key = key_starting(specs, SYNC)
    good = json.dumps(payload(key, specs[key], sample_values(dataset))).encode()
    at_limit = good + b" " * (MAX_CALLBACK_BODY - len(good))
    over = at_limit + b" "
    assert post(client, raw=at_limit).status_code == 200
    assert post(client, raw=over).status_code == 413
    # No Content-Length (a chunked upload, as gunicorn passes it): the limit holds while reading.
    for body, status in ((at_limit, 200), (over, 413), (over * 8, 413)):
        response = client.post(
            CALLBACK_PATH,
            input_stream=io.BytesIO(body),
            content_type="application/json",
            environ_overrides={"wsgi.input_terminated": True},
        )
        TRIED["sent"] += 1
        assert response.status_code == status


# --- Generated requests -----------------------------------------------------------------------

JSON_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["<script>alert(1)</script>", "../../etc/passwd", "\x00", "' OR 1=1 --", "{{7*7}}"]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=12,
)


@settings(FUZZ, max_examples=120)
@given(body=JSON_JUNK)
def test_any_json_that_is_no_callback_request_is_refused(client, body) -> None:
    assert post(client, body).status_code == 400


@settings(FUZZ, max_examples=60)
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_refused_or_served(client, raw) -> None:
    assert post(client, raw=raw).status_code in (200, 204, 400)


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_values_that_do_not_fit_their_control_are_refused(target, data) -> None:
    """A real request with one or more values replaced by junk (and its structure maybe damaged)."""
    client, specs, dataset, rules = target.client, target.specs, target.dataset, target.rules
    key = data.draw(st.sampled_from(sorted(specs)), label="callback")
    spec = specs[key]
    values = sample_values(dataset)
    chosen = data.draw(st.lists(st.sampled_from(spec.inputs), min_size=1, unique=True), label="replaced")
    for control in chosen:
        values[control] = data.draw(
            JSON_JUNK.filter(lambda v, c=control: not rules[c].check(v)), label=str(control)
        )
    body = payload(key, spec, values)
    damage = data.draw(st.sampled_from(["none", "drop", "junk"]), label="damage")
    if damage != "none":
        field = data.draw(st.sampled_from(["output", "outputs", "inputs", "changedPropIds", "state"]))
        if damage == "drop":
            body.pop(field, None)
        else:
            body[field] = data.draw(JSON_JUNK, label="junk field")
    assert post(client, body).status_code == 400


def accepted_values(dataset) -> dict[tuple[str, str], st.SearchStrategy]:
    """Values the guard lets through, edge cases included, for the cheap callbacks."""
    geoids = dataset.cities.index.tolist()
    years = st.sampled_from(sorted(dataset.years))
    text = st.text(max_size=60) | st.sampled_from(["?cohort=<script>", "?cities=" + ",".join(geoids[:50])])
    point = st.fixed_dictionaries(
        {},
        optional={
            "location": st.sampled_from(geoids) | JSON_JUNK,
            "lon": st.floats() | JSON_JUNK,
            "lat": st.floats() | JSON_JUNK,
        },
    )
    click = (
        st.none()
        | st.fixed_dictionaries({"points": st.lists(point | JSON_JUNK, max_size=3)})
        | st.dictionaries(st.text(max_size=6), JSON_JUNK, max_size=3)
    )
    return {
        (ids.URL, "search"): st.none() | text,
        (ids.URL, "href"): st.none() | text.map(lambda t: "http://127.0.0.1:8050/" + t),
        (ids.COHORT, "value"): st.sampled_from(sorted(cohort_options(dataset))),
        (ids.CITIES, "value"): st.none()
        | st.lists(st.sampled_from(geoids) | st.text(max_size=16), max_size=MAX_CITIES),
        (ids.OFFENCE, "value"): st.sampled_from(OFFENCES),
        (ids.MEASURE, "value"): st.sampled_from(MEASURES),
        (ids.YEAR, "value"): years,
        (ids.YEAR_RANGE, "value"): st.lists(years, min_size=2, max_size=2).map(sorted),
        (ids.THRESHOLD, "value"): st.floats(1, 10) | st.integers(1, 10),
        (ids.ALIGN, "value"): st.sampled_from(["calendar", "joined"]),
        (ids.MAP, "clickData"): click,
        # Charts only: a table builds a whole grid (covered by the hand-picked tests).
        **{(ids.table_toggle(c), "value"): st.just("chart") for c in ids.CHARTS},
        (ids.TREND_BASE, "value"): st.none() | years,
        (ids.TREND_SCALE, "value"): st.sampled_from(["linear", "log"]),
        (ids.TREND_SMOOTH, "value"): st.sampled_from([1, 3]),
        (ids.SMALL, "value"): st.sampled_from([[], ["exclude"]]),
        (ids.MINPOP, "value"): st.sampled_from([0, 10_000, 25_000, 50_000, 100_000]),
        (ids.BAND, "value"): st.sampled_from(["all", "250k+", "10k-25k", "under-10k"]),
    }


@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_accepted_values_never_crash_the_cheap_callbacks(target, data) -> None:
    """State sync (URL <-> controls, map clicks), the map recolour/outline and the table toggles."""
    client, specs, strategies = target.client, target.specs, target.accepted
    cheap = sorted(k for k in specs if k.startswith((SYNC, "map.figure")) or "-table." in k)
    key = data.draw(st.sampled_from(cheap), label="callback")
    spec = specs[key]
    values = {c: data.draw(strategies[c], label=str(c)) for c in (*spec.inputs, *spec.state)}
    names = [f"{c}.{p}" for c, p in spec.inputs]
    changed = data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True), label="changed")
    response = post(client, payload(key, spec, values, changed))
    assert response.status_code in (200, 204), response.get_data(as_text=True)


HEAVY_EDGES = [
    {(ids.YEAR_RANGE, "value"): [1975, 1975]},
    {(ids.YEAR_RANGE, "value"): [2019, 2019], (ids.OFFENCE, "value"): "rape"},
    {(ids.YEAR, "value"): 1975, (ids.OFFENCE, "value"): "motor_vehicle_theft", (ids.THRESHOLD, "value"): 10},
    {(ids.CITIES, "value"): ["nope", "<script>", ""], (ids.MEASURE, "value"): "count"},
    {(ids.CITIES, "value"): None, (ids.COHORT, "value"): "all-cities"},
    {(ids.URL, "search"): "?cities=" + "9" * 7000, (ids.URL, "href"): None},
    {(ids.table_toggle("map"), "value"): "table", (ids.table_toggle("trends"), "value"): "table"},
    {(ids.table_toggle("ranking"), "value"): "table", (ids.URL, "search"): "?year=1975&offence=murder"},
    {(ids.TREND_BASE, "value"): 1975, (ids.TREND_SCALE, "value"): "log", (ids.TREND_SMOOTH, "value"): 3},
    {(ids.SMALL, "value"): ["exclude"], (ids.OFFENCE, "value"): "murder", (ids.YEAR, "value"): 2020},
    # issue 13: every place, in a year with no table of every place, and one band in a table year
    {(ids.MINPOP, "value"): 0, (ids.YEAR, "value"): 2005, (ids.table_toggle("ranking"), "value"): "table"},
    {(ids.BAND, "value"): "under-10k", (ids.YEAR, "value"): 2022, (ids.OFFENCE, "value"): "rape"},
]


@pytest.mark.parametrize("edge", HEAVY_EDGES, ids=lambda e: "+".join(f"{c}.{p}" for c, p in e))
def test_accepted_edge_values_are_served_by_every_callback(client, specs, dataset, edge) -> None:
    values = {**sample_values(dataset), **edge}
    for key, spec in specs.items():
        if not set(edge) & set(spec.inputs):
            continue
        changed = [f"{c}.{p}" for c, p in spec.inputs if (c, p) in edge]
        response = post(client, payload(key, spec, values, changed))
        assert response.status_code in (200, 204), (key, response.get_data(as_text=True))
