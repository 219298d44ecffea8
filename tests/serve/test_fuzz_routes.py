"""Hostile URLs: the query-string parser and every route, with random, oversized, unicode,
repeated and injected values (``<script>``, SQL-ish, ``../../etc/passwd``, ``%00``).

Promise (SECURITY.md): a 2xx page with a visible notice for values it ignores, or a 4xx with
a short plain message; never a 5xx or a traceback, never the input echoed unescaped; path
traversal through any route is a 404. Image and PDF exports are fuzzed with values they
refuse before rendering (valid renders are tested in test_exports.py); the CSV is fuzzed fully.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dashboard.data.measures import MEASURES
from dashboard.data.state import MAX_CITIES, THRESHOLD_RANGE, ViewState, cohort_options, parse_query
from dashboard.publish.standalone import STATIC_FILES
from dashboard.schema import OFFENCES
from dashboard.serve.routes import PUBLIC_DATA_FILES

FUZZ = settings(
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRIED: Counter = Counter()
PARAMS = ("cohort", "cities", "offence", "measure", "year", "from", "to", "threshold")
MARKER = "atlasxss"
INJECTIONS = (
    f"<script>alert('{MARKER}')</script>",
    f'"><img src=x onerror=alert("{MARKER}")>',
    f"'><svg/onload=alert('{MARKER}')>",
    f"</script><script>alert('{MARKER}')</script>",
    f"<!--<script>{MARKER}</script>-->",
    f"javascript:alert('{MARKER}')",
    "' OR '1'='1' --",
    "1; DROP TABLE crime_city_year; --",
    "../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%00",
    "\x00",
    "\r\nSet-Cookie: atlas=1",
    "{{7*7}}${7*7}",
    "\u202etxt.exe",
    "İstanbul ﷽ 𝕏 🚓",
    "-1",
    "1e309",
    "NaN",
)
# An unescaped echo would put one of these into an HTML page (the notices clip input at 40 chars).
ECHOES = tuple(p[:24] for p in INJECTIONS if "<" in p or '"' in p)
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"/")
CHEAP_PAGES = ("/", "/export/data.csv", "/healthz", "/data/")
# Pages whose render is cached per view *and notices*: fuzzed with unknown parameters only.
RENDERED_PAGES = ("/embed/map", "/embed/trends", "/embed/ranking", "/?present=1")


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    """After the module: how many requests were sent and how many answered 5xx."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\ntest_fuzz_routes: {TRIED['sent']} requests, {TRIED['5xx']} answered 5xx")


def fetch(client, path: str, query: str | bytes = "", **kw):
    """GET with the promise checked: < 500, plain short errors, no traceback, no unescaped echo."""
    response = client.get(path, query_string=query, **kw)
    TRIED["sent"] += 1
    if response.status_code >= 500:
        TRIED["5xx"] += 1
    where = f"{path}?{query!r}"[:300]
    assert response.status_code < 500, where
    body = response.get_data(as_text=True) if response.mimetype.startswith("text") else ""
    assert not TRACEBACK.search(body), where
    if response.status_code >= 400:
        assert response.mimetype == "text/plain" and len(body) < 400, where
    if response.mimetype == "text/html":
        assert not [e for e in ECHOES if e in body], where
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value, name
    assert "Set-Cookie" not in response.headers
    return response


def query_of(pairs: list[tuple[str, str]], *, raw: bool = False) -> str:
    """A query string; ``raw`` leaves <>"'()/;: unencoded as a hostile client may."""
    if not raw:
        return urlencode(pairs)
    safe = "<>\"'()/;:!*$@[]{}|^`~ "
    return "&".join(f"{quote(k, safe=safe)}={quote(v, safe=safe)}" for k, v in pairs)


def notice_shown(body: str) -> bool:
    return "ignored" in body or "Only the first" in body or "were swapped" in body


# --- The parser -------------------------------------------------------------------------------


class Data:
    """The dataset with a short repr: Hypothesis prints a failing test's arguments."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __repr__(self) -> str:
        return "<dataset>"


@pytest.fixture(scope="module")
def data(dataset) -> Data:
    return Data(dataset)


VALUES = (
    st.text(max_size=60)
    | st.sampled_from(INJECTIONS)
    | st.integers(-(10**30), 10**30).map(str)
    | st.floats().map(str)
    | st.lists(st.text(alphabet="0123456789,", max_size=9), max_size=60).map(",".join)
    | st.builds(lambda s, n: s * n, st.sampled_from(["a", "<", "9,", "%"]), st.integers(10_240, 12_000))
)
KEYS = st.sampled_from(PARAMS) | st.text(max_size=12)


def assert_valid(state: ViewState, dataset) -> None:
    years = dataset.years
    assert state.offence in OFFENCES and state.measure in MEASURES
    assert state.cohort in cohort_options(dataset)
    assert min(years) <= state.year_from <= state.year_to <= max(years)
    assert min(years) <= state.year <= max(years)
    assert THRESHOLD_RANGE[0] <= state.threshold <= THRESHOLD_RANGE[1]
    assert len(state.cities) <= MAX_CITIES and len(set(state.cities)) == len(state.cities)
    assert all(g in dataset.cities.index for g in state.cities)
    assert all(len(n) < 300 for n in state.notices), "notices clip what they quote"


@settings(FUZZ, max_examples=300)
@given(query=st.text() | st.binary().map(lambda b: b.decode("latin-1")))
def test_parser_takes_any_text(data, query: str) -> None:
    assert_valid(parse_query(query, data.dataset), data.dataset)


@settings(FUZZ, max_examples=150)
@given(pairs=st.lists(st.tuples(KEYS, VALUES), max_size=12), raw=st.booleans())
def test_parser_takes_any_parameters(data, pairs, raw: bool) -> None:
    state = parse_query(query_of(pairs, raw=raw), data.dataset)
    assert_valid(state, data.dataset)
    again = parse_query(state.to_query(), data.dataset)
    assert again.notices == (), "a state's own query is clean"
    # An empty selection is written as "cities=" and read back as the cohort's cities
    # (state.py drops blank values): a known round-trip gap, so only non-empty ones compare.
    assert again == state or not state.cities


@settings(FUZZ, max_examples=100)
@given(params=st.dictionaries(KEYS, st.lists(VALUES, max_size=4), max_size=10))
def test_parser_takes_repeated_parameters(data, params) -> None:
    assert_valid(parse_query(params, data.dataset), data.dataset)


@pytest.mark.parametrize("value", INJECTIONS)
def test_every_injected_value_is_ignored_with_a_notice(dataset, value: str) -> None:
    default = parse_query("", dataset)
    for key in PARAMS:
        state = parse_query({key: [value]}, dataset)
        assert state.notices, (key, value)
        assert state == (replace(default, cities=()) if key == "cities" else default), (key, value)


# --- Routes -----------------------------------------------------------------------------------


@settings(FUZZ, max_examples=80)
@given(
    path=st.sampled_from(CHEAP_PAGES),
    pairs=st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=8),
    raw=st.booleans(),
)
def test_cheap_routes_take_any_query(client, path: str, pairs, raw: bool) -> None:
    # A valid view may be chosen by chance; it is served like any other.
    response = fetch(client, path, query_of(pairs, raw=raw))
    assert response.status_code == 200


@settings(FUZZ, max_examples=25)
@given(
    path=st.sampled_from(RENDERED_PAGES),
    pairs=st.lists(st.tuples(st.text(max_size=12).filter(lambda k: k not in PARAMS), VALUES), max_size=6),
    raw=st.booleans(),
)
def test_rendered_pages_take_unknown_parameters(client, path: str, pairs, raw: bool) -> None:
    sep = "&" if "?" in path else "?"
    base, _, fixed = path.partition("?")
    response = fetch(client, base, (fixed + sep if fixed else "") + query_of(pairs, raw=raw))
    assert response.status_code == 200 and response.mimetype == "text/html"


@settings(FUZZ, max_examples=120)
@given(path=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=4).map("/".join))
def test_any_path_is_a_page_or_a_plain_404(client, path: str) -> None:
    url = "/" + quote(path.lstrip("/"), safe="/")  # a leading // would name a host in the test client
    assume(not re.fullmatch(r"/export/((map|trends|ranking)\.(png|svg|pdf)|briefing\.pdf)", url))
    response = fetch(client, url)
    assert response.status_code in (200, 308, 404), url
    if response.status_code == 308:  # Werkzeug's slash redirects stay on this host
        assert urlsplit(response.headers["Location"]).netloc in ("", "localhost"), url


@settings(FUZZ, max_examples=80)
@given(
    chart=st.sampled_from(["map", "trends", "ranking"]) | st.text(max_size=10),
    fmt=st.sampled_from(["png", "svg", "pdf"]) | st.text(max_size=6),
    size=st.sampled_from(["width", "height"]),
    value=st.text(max_size=12).filter(lambda v: v.strip() and not v.strip().isdigit())
    | st.sampled_from(["²", "٣٠٠٠٠", "1e3", "0x400", "800.0", "+800"])
    | st.integers(-(10**9), 399).map(str)
    | st.integers(3001, 10**9).map(str),
)
def test_image_exports_refuse_bad_values_before_rendering(client, chart: str, fmt: str, size, value) -> None:
    url = f"/export/{quote(chart, safe='')}.{quote(fmt, safe='')}"
    response = fetch(client, url, urlencode({size: value}))
    assert response.status_code in (400, 404), url


def hostile_queries(dataset) -> list[str]:
    """Every parameter at once: injected, oversized, repeated."""
    xss = [(k, INJECTIONS[i % 6]) for i, k in enumerate(PARAMS)]
    other = [(k, INJECTIONS[6 + i % (len(INJECTIONS) - 6)]) for i, k in enumerate(PARAMS)]
    repeated = [("year", str(y)) for y in range(1000, 1300)] + [("offence", "x")] * 500
    huge = [("cities", ",".join(["4748000", "<b>"] * 2000)), ("threshold", "9" * 12_000)]
    return [query_of(xss, raw=True), query_of(other), query_of(repeated), query_of(huge, raw=True)]


@pytest.mark.parametrize("path", ["/", "/export/data.csv"])
def test_hostile_views_are_served_with_a_notice(client, dataset, path: str) -> None:
    for query in hostile_queries(dataset):
        response = fetch(client, path, query)
        assert response.status_code == 200
        if path == "/":
            # The page's layout comes from /_dash-layout, which reads the page's query from
            # the Referer (server.page_query): that is where the notice is.
            layout = fetch(client, "/_dash-layout", headers={"Referer": f"http://localhost/?{query}"})
            assert layout.status_code == 200 and notice_shown(layout.get_data(as_text=True)), query[:200]


@pytest.mark.parametrize("path", RENDERED_PAGES)
def test_hostile_views_render_with_an_escaped_notice(client, dataset, path: str) -> None:
    base, _, fixed = path.partition("?")
    query = hostile_queries(dataset)[0]
    response = fetch(client, base, f"{fixed}&{query}" if fixed else query)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'class="notice"' in body and notice_shown(body)
    assert "&lt;script&gt;alert(" in body, "the ignored value is quoted, escaped"


def test_exports_refuse_oversized_requests_before_rendering(client, dataset) -> None:
    many = ",".join(dataset.cities.index[:MAX_CITIES])
    assert fetch(client, "/export/briefing.pdf", f"cities={many}").status_code == 400
    for query in ("width=0", "width=99999", "height=-5", "width=1e3", "height=%00", "width=" + "9" * 10_000):
        assert fetch(client, "/export/trends.png", query).status_code == 400, query
    assert fetch(client, "/export/trends.gif").status_code == 400
    assert fetch(client, "/export/pie.png").status_code == 404


TRAVERSALS = [
    "/../../etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%5c..%5cetc%5cpasswd",
    "/data/../app.py",
    "/data/..%2fapp.py",
    "/data/%2e%2e/pyproject.toml",
    "/data/..%2f..%2fetc%2fpasswd",
    "/data/cities.geojson%00.txt",
    "/data/%00",
    "/static/../server.py",
    "/static/..%2fserver.py",
    "/static/%2e%2e/security.py",
    "/static/..%5cserver.py",
    "/static/standalone.js/../../server.py",
    "/assets/../app.py",
    "/assets/..%2f..%2fpyproject.toml",
    "/assets/%2e%2e/README.md",
    "/embed/..%2f..%2fetc%2fpasswd",
    "/embed/../data/cities.csv",
    "/export/..%2f..%2fetc%2fpasswd",
    "/export/..%2fapp.py",
    "/_dash-component-suites/dash/../../../../etc/passwd",
    "/_dash-component-suites/dash/..%2f..%2f..%2fetc%2fpasswd",
    "/_dash-component-suites/plotly/package_data/..%2f..%2f__init__.py",
    "/healthz/../../etc/passwd",
    "/%00",
    "/.git/config",
    "/.env",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_a_404(client, path: str) -> None:
    response = fetch(client, path)
    assert response.status_code == 404, path
    body = response.get_data(as_text=True)
    for leak in ("root:", "[project]", "def ", "import ", "[core]"):
        assert leak not in body, path


def test_data_files_come_from_the_whitelist_only(client) -> None:
    for name in PUBLIC_DATA_FILES:
        assert fetch(client, f"/data/{name}").status_code == 200
    for name in ("programs.csv.bak", "SOURCES", "cities.GEOJSON", ".gitignore", "__init__.py", "%2e%2e"):
        assert fetch(client, f"/data/{name}").status_code == 404, name


def test_only_the_listed_static_files_are_served(client) -> None:
    for name in (*STATIC_FILES, "plotly.min.js"):
        assert fetch(client, f"/static/{name}").status_code == 200
    for name in ("standalone.JS", "embed.js.map", "x", "..", ".", "%2e"):
        assert fetch(client, f"/static/{name}").status_code == 404, name
