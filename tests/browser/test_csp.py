"""The Content-Security-Policy in a real browser: the pages work under it, with no violation.

Each page is opened with a ``securitypolicyviolation`` listener installed before any script
runs; the map must be drawn (MapLibre's blob: workers, plotly's injected styles) and nothing
may be refused. A last check proves the policy is enforced: an injected inline script is
blocked and reported.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.helpers import wait_for_map

pytestmark = pytest.mark.browser

LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
"""
MAP_DRAWN = """(selector) => {
    const gd = document.querySelector(selector);
    const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    if (!sub || !sub.map || !sub.map.loaded()) return false;
    const layers = sub.map.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
    return sub.map.queryRenderedFeatures({layers}).length > 0;
}"""
SLIDE_DRAWN = """() => {
    const figs = [...document.querySelectorAll('.slide:not([hidden]) [data-figure]')];
    const maps = figs.map(el => el._fullLayout && el._fullLayout.map && el._fullLayout.map._subplot)
        .filter(Boolean);
    return figs.length > 0 && figs.every(el => el.getAttribute('data-drawn') === 'true')
        && maps.length > 0 && maps.every(sub => sub.map && sub.map.loaded());
}"""
# Browsers ask for /favicon.ico on their own; the standalone pages have no icon (404).
IGNORED_CONSOLE = ("/favicon.ico",)


@pytest.fixture
def watched(page):
    """The page fixture with CSP violations and console errors recorded."""
    page.add_init_script(LISTENER)
    errors: list[str] = []

    def on_console(message) -> None:
        where = (message.location or {}).get("url", "")
        if message.type == "error" and not where.endswith(IGNORED_CONSOLE):
            errors.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def csp_of(response) -> dict[str, list[str]]:
    csp = response.headers.get("content-security-policy", "")
    return {p.split()[0]: p.split()[1:] for p in csp.split(";") if p.strip()}


def assert_clean(page) -> None:
    violations = page.evaluate("window.__cspViolations")
    errors = [e for e in page.console_errors if "Content Security Policy" in e or "Refused to" in e]
    assert violations == [] and errors == [], violations + errors
    assert page.console_errors == [], page.console_errors
    assert page.requests.foreign == []


def assert_enforced(page) -> None:
    """An inline script the policy does not list is refused, and the listener sees it."""
    with pytest.raises(Exception):  # noqa: B017 (Playwright raises a plain Error on the refusal)
        page.add_script_tag(content="window.__injected = true;")
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected === undefined")
    assert any(v.startswith("script-src") for v in page.evaluate("window.__cspViolations"))


def test_dashboard_works_under_its_csp(watched, server_url) -> None:
    page = watched
    response = page.goto(f"{server_url}/?cohort=psp-2017&offence=murder&year=2016")
    csp = csp_of(response)
    assert csp.get("default-src") == ["'self'"], "register_security(app, dataset) must end create_app"
    assert "'unsafe-eval'" not in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"]
    wait_for_map(page)
    page.wait_for_selector("#trends .main-svg")
    page.wait_for_selector("#ranking .main-svg")
    # The modebar's PNG download draws through data:/blob: images (why img-src allows them).
    page.hover("#trends .js-plotly-plot")
    with page.expect_download() as download:
        page.click("#trends .modebar-btn[data-title='Download plot as a PNG']")
    assert download.value.suggested_filename.endswith(".png")
    page.locator("#ranking-table-toggle label", has_text="Table").click()  # a callback returning a grid
    page.wait_for_selector("#ranking-table .dash-spreadsheet table", state="attached")
    assert "Rank" in page.inner_text("#ranking-table")
    # A callback round trip after load: the map recolours (MapLibre re-renders in its workers).
    page.get_by_text("Rate per 100,000").click()
    page.wait_for_function(
        "() => /per 100,000/.test(document.querySelector('#map .js-plotly-plot').layout.title.text)"
    )
    wait_for_map(page)
    screenshot(page, "60-csp-dashboard", full_page=False)
    assert_clean(page)
    assert_enforced(page)


def test_embedded_map_works_under_its_csp(watched, server_url) -> None:
    page = watched
    response = page.goto(f"{server_url}/embed/map?cohort=vrn-2015&year=2015")
    csp = csp_of(response)
    assert csp["script-src"] == ["'self'"] and "frame-ancestors" not in csp  # any host may frame an embed
    page.wait_for_function(MAP_DRAWN, arg="#chart")
    assert_clean(page)
    assert_enforced(page)


def test_briefing_mode_works_under_its_csp(watched, server_url) -> None:
    page = watched
    response = page.goto(f"{server_url}/?present=1&cohort=psp-2017")
    assert csp_of(response)["script-src"] == ["'self'"]
    page.wait_for_function(SLIDE_DRAWN)
    page.keyboard.press("ArrowRight")  # the first city's slide: its trend and a small map
    page.wait_for_function("() => location.hash === '#1'")
    page.wait_for_function(SLIDE_DRAWN)
    assert_clean(page)
    assert_enforced(page)
