"""Embeds inside another site's iframe, frame protection, and briefing (present) mode."""

from __future__ import annotations

import functools
import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import flask
import pytest

from dashboard.data.state import parse_query
from dashboard.publish.embed import embed_snippet, register_embed_routes
from dashboard.settings import load_settings
from tests.browser.conftest import free_port, screenshot

pytestmark = pytest.mark.browser

PSP_FIRST_CITIES = ["Baton Rouge, LA", "Birmingham, AL", "Buffalo, NY"]  # cohort order: by label
TRENDS_QUERY = "cities=4748000,4737640&offence=murder&measure=rate&from=1995&to=2019"

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A local newspaper</title>
<style>body {{ font-family: sans-serif; margin: 16px 24px; max-width: 900px; }}</style></head>
<body>
<h1>City news: violence compared with the US</h1>
<p>An article on another site, embedding two charts of the atlas.</p>
{trends}
<p>Some text between the charts.</p>
{map}
<h2>The dashboard itself may not be framed</h2>
<iframe id="framed-dashboard" src="{app}/" title="dashboard" width="400" height="120"></iframe>
<script>
  window.atlasMessages = [];
  window.addEventListener("message", function (e) {{
    if (e.data && e.data.type === "atlas:height") window.atlasMessages.push([e.origin, e.data]);
  }});
</script>
</body></html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def host_origin(tmp_path_factory, server_url, dataset) -> Iterator[str]:
    """Another local origin (127.0.0.1, other port) serving a page that embeds the app."""
    folder: Path = tmp_path_factory.mktemp("host-site")
    (folder / "index.html").write_text(
        HOST_PAGE.format(
            trends=embed_snippet(server_url, "trends", parse_query(TRENDS_QUERY, dataset)),
            map=embed_snippet(server_url, "map", parse_query("cohort=psp-2017&year=2016", dataset)),
            app=server_url,
        ),
        encoding="utf-8",
    )
    port = free_port()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


CLIPPED_TEXT = """(root) => {
    // Texts of Plotly figures that stick out of their graph (cut off on screen).
    const out = [];
    for (const gd of document.querySelectorAll(root + ' .js-plotly-plot')) {
        const box = gd.getBoundingClientRect();
        for (const t of gd.querySelectorAll('.main-svg text')) {
            const r = t.getBoundingClientRect();
            if (!t.textContent.trim() || r.width === 0) continue;
            if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                || r.bottom > box.bottom + 1) out.push(t.textContent);
        }
    }
    return out;
}"""


def embed_frame(page, chart: str):
    return next(f for f in page.frames if f"/embed/{chart}" in f.url)


def wait_for_embed_map(frame) -> None:
    frame.wait_for_function(
        """() => {
            const gd = document.querySelector('#chart.js-plotly-plot');
            const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
            if (!sub || !sub.map || !sub.map.loaded()) return false;
            const layers = sub.map.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
            return sub.map.queryRenderedFeatures({layers}).length > 0;
        }"""
    )


def test_embed_in_another_sites_iframe_reports_its_height(page, server_url, host_origin) -> None:
    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(f"{host_origin}/index.html")
    page.wait_for_function(
        "() => new Set(window.atlasMessages.filter(m => m[1].height > 200).map(m => m[1].chart)).size === 2"
    )
    messages = page.evaluate("() => window.atlasMessages")
    assert {origin for origin, _ in messages} == {server_url}
    heights = {data["chart"]: data["height"] for _origin, data in messages}
    assert heights["trends"] > 200 and heights["map"] > 200

    trends = embed_frame(page, "trends")
    trends.wait_for_selector("#chart .main-svg")
    # The snippet's listener fitted the iframe to the page it holds (no inner scroll bar).
    page.wait_for_function(
        """() => [...document.querySelectorAll('iframe[data-atlas-chart]')].every(f => {
            const inner = f.contentDocument;  // cross-origin: null
            return inner === null && parseInt(f.style.height, 10) > 200;
        })"""
    )
    last = {data["chart"]: data["height"] for _origin, data in page.evaluate("() => window.atlasMessages")}
    frame_height = page.evaluate(
        "() => document.querySelector('iframe[data-atlas-chart=trends]').getBoundingClientRect().height"
    )
    assert frame_height == pytest.approx(last["trends"], abs=1)
    assert trends.evaluate("() => document.documentElement.scrollHeight <= window.innerHeight + 1")

    link = trends.locator("a", has_text="Open the full view")
    assert link.get_attribute("target") == "_blank"
    href = link.get_attribute("href")
    assert href.startswith("/?") and "cities=4748000,4737640" in href and "offence=murder" in href
    assert link.is_visible()
    svg_text = trends.evaluate("() => document.querySelector('#chart .main-svg').parentNode.textContent")
    assert "Source: FBI Uniform Crime Reporting" in svg_text
    label = trends.get_attribute("#chart", "aria-label")
    assert "Memphis, TN" in label and "Jackson, TN" in label and "national rate" in label
    assert trends.text_content("#chart-summary") == label
    assert "Murder" in trends.title()
    assert trends.evaluate(CLIPPED_TEXT, "body") == []

    map_frame = embed_frame(page, "map")
    wait_for_embed_map(map_frame)
    assert "program cities outlined" in map_frame.title()
    assert "2016" in map_frame.get_attribute("#chart", "aria-label")
    assert map_frame.evaluate(CLIPPED_TEXT, "body") == []
    west, south, east, north = map_frame.evaluate(
        """() => document.querySelector('#chart')._fullLayout.map._subplot.map.getBounds().toArray().flat()"""
    )
    assert west < -122 and east > -70 and south < 26 and north > 48, "the contiguous US fits the frame"
    assert east - west < 75, "and fills it (not zoomed out to the world)"

    # The dashboard itself refused to load inside the other site's frame.
    assert any(f.url.startswith("chrome-error:") for f in page.frames), [f.url for f in page.frames]

    page.locator("iframe[data-atlas-chart=map]").scroll_into_view_if_needed()
    screenshot(page, "20-embed-in-iframe")
    local = (server_url, host_origin)
    assert [u for u in page.requests.foreign if not u.startswith(local)] == []


def test_embed_chart_alone_is_responsive_and_notes_ignored_values(page, server_url) -> None:
    page.set_viewport_size({"width": 480, "height": 800})
    page.goto(f"{server_url}/embed/ranking?offence=nonsense&year=2015")
    page.wait_for_selector("#chart .main-svg")
    assert "offence" in page.text_content(".notice") and "nonsense" in page.text_content(".notice")
    width = page.evaluate("() => document.querySelector('#chart .main-svg').getBoundingClientRect().width")
    assert 440 <= width <= 480, "the chart fills a narrow frame"
    assert "cities had a violent crime rate" in page.get_attribute("#chart", "aria-label")
    assert page.locator("text=The FBI cautions against ranking").first.is_visible()
    assert page.evaluate(CLIPPED_TEXT, "body") == [], "the source line wraps in a narrow frame"
    source = page.evaluate(
        "() => [...document.querySelectorAll('#chart .annotation-text')].map(t => t.textContent).join(' ')"
    )
    assert "Source: FBI Uniform Crime Reporting;" in source and "boundaries." in source
    screenshot(page, "21-embed-ranking-narrow")
    assert page.requests.foreign == []


def test_frame_headers_and_unknown_chart(server_url) -> None:
    with urllib.request.urlopen(f"{server_url}/") as response:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    with urllib.request.urlopen(f"{server_url}/healthz") as response:
        assert response.headers["X-Frame-Options"] == "DENY"
    with urllib.request.urlopen(f"{server_url}/embed/trends?cohort=vrn-2015") as response:
        assert response.headers.get("X-Frame-Options") is None
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors" not in csp and "script-src 'self'" in csp
        assert "<title>" in response.read().decode("utf-8")
    with urllib.request.urlopen(f"{server_url}/static/plotly.min.js") as response:
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert response.read(200).startswith(b"/**\n* plotly.js")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{server_url}/embed/pie")
    assert error.value.code == 404
    assert error.value.headers.get_content_type() == "text/plain"
    assert "map, trends, ranking" in error.value.read().decode("utf-8")


def test_embed_origins_come_from_the_environment(change_settings, dataset) -> None:
    app = flask.Flask(__name__)
    register_embed_routes(app, dataset)
    client = app.test_client()
    env = {"ATLAS_EMBED_ORIGINS": "https://news.example, bad;value https://*.city.gov"}
    change_settings(embed_origins=load_settings(env).embed_origins)
    csp = client.get("/embed/ranking").headers["Content-Security-Policy"]
    assert csp.endswith("; frame-ancestors https://news.example https://*.city.gov")
    change_settings(embed_origins=load_settings({}).embed_origins)
    assert "frame-ancestors" not in client.get("/embed/ranking").headers["Content-Security-Policy"]
    elsewhere = client.get("/no-such-page")
    assert elsewhere.headers["X-Frame-Options"] == "DENY"
    assert elsewhere.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_embed_snippet_is_copy_ready(dataset) -> None:
    snippet = embed_snippet("https://atlas.example", "ranking", parse_query("cohort=vrn-2016", dataset))
    assert snippet.startswith('<iframe src="https://atlas.example/embed/ranking?cohort=vrn-2016&amp;')
    for part in ('title="Cities ranked by', 'width="100%"', 'loading="lazy"', 'height="'):
        assert part in snippet
    assert 'e.origin !== "https://atlas.example"' in snippet and '"atlas:height"' in snippet


# --- Briefing mode -------------------------------------------------------------------------


def visible_titles(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.slide:not([hidden]) .slide-title')].map(e => e.textContent)"
    )


def wait_for_slide(page) -> None:
    """Until every figure of the visible slide is drawn (maps: MapLibre finished loading)."""
    page.wait_for_function(
        """() => {
            const figs = [...document.querySelectorAll('.slide:not([hidden]) [data-figure]')];
            return figs.length > 0 && figs.every(el => {
                if (el.getAttribute('data-drawn') !== 'true') return false;
                const sub = el._fullLayout && el._fullLayout.map && el._fullLayout.map._subplot;
                return !sub || (sub.map && sub.map.loaded());
            });
        }"""
    )


def layout_report(page) -> dict:
    """Sizes that decide whether a slide reads on a projector and fits the screen."""
    return page.evaluate(
        """() => {
            const slide = document.querySelector('.slide:not([hidden])');
            const px = sel => parseFloat(getComputedStyle(slide.querySelector(sel)).fontSize);
            const nav = document.querySelector('.deck-nav').getBoundingClientRect();
            const figs = [...slide.querySelectorAll('[data-figure]')].map(e => e.getBoundingClientRect());
            return {
                title: px('.slide-title'), lede: px('.lede'), caption: px('figcaption'),
                nav: parseFloat(getComputedStyle(document.querySelector('.deck-nav')).fontSize),
                scrolls: document.documentElement.scrollHeight > window.innerHeight + 1,
                figBottom: Math.max(...figs.map(r => r.bottom)),
                figMinHeight: Math.min(...figs.map(r => r.height)),
                navTop: nav.top,
                headBottom: slide.querySelector('.slide-head').getBoundingClientRect().bottom,
            };
        }"""
    )


def assert_fits_a_projector(report: dict, page=None) -> None:
    assert report["title"] >= 40 and report["lede"] >= 24 and report["caption"] >= 24 and report["nav"] >= 24
    assert not report["scrolls"], "a slide must fit the screen"
    assert report["figBottom"] <= report["navTop"] + 1, "charts must not run under the navigation"
    assert report["figMinHeight"] >= 250, "charts must keep a readable size"
    if page is not None:
        assert page.evaluate(CLIPPED_TEXT, ".slide:not([hidden])") == [], "text cut off"


def test_present_mode_one_city_per_slide_with_keys(page, server_url) -> None:
    page.goto(f"{server_url}/?present=1&cohort=psp-2017")
    wait_for_slide(page)
    assert len(page.locator(".slide").all()) == 14  # overview + 12 PSP cities + outcomes (issue 14)
    assert page.locator(".slide:not([hidden])").count() == 1
    assert "PSP 2017" in visible_titles(page)[0]
    assert page.locator(".slide:not([hidden]) [data-figure]").count() == 2  # map and ranking
    assert_fits_a_projector(layout_report(page), page)
    screenshot(page, "22-present-overview-1280x720", full_page=False)

    page.keyboard.press("ArrowRight")
    wait_for_slide(page)
    assert visible_titles(page) == [PSP_FIRST_CITIES[0]]
    assert page.evaluate("() => window.location.hash") == "#1"
    lede = page.text_content(".slide:not([hidden]) .lede")
    assert "Baton Rouge, LA" in lede and "times the national rate" in lede
    trend = page.locator(".slide:not([hidden]) [data-figure$='trend-json']")
    assert "US average" in trend.text_content()
    source = page.text_content(".slide:not([hidden]) .source")
    assert source.startswith("Source: FBI Uniform Crime Reporting") and "program announced" in source

    page.keyboard.press("ArrowRight")
    wait_for_slide(page)
    assert visible_titles(page) == [PSP_FIRST_CITIES[1]]
    assert_fits_a_projector(layout_report(page), page)
    screenshot(page, "23-present-city-1280x720", full_page=False)

    page.keyboard.press("PageDown")
    page.wait_for_function("() => window.location.hash === '#3'")
    assert visible_titles(page) == [PSP_FIRST_CITIES[2]]
    page.keyboard.press(" ")
    page.wait_for_function("() => window.location.hash === '#4'")
    page.keyboard.press("PageUp")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => window.location.hash === '#2'")
    assert visible_titles(page) == [PSP_FIRST_CITIES[1]]

    page.click("#deck-next")
    page.wait_for_function("() => window.location.hash === '#3'")
    page.reload()  # the hash keeps the slide
    wait_for_slide(page)
    assert visible_titles(page) == [PSP_FIRST_CITIES[2]]
    # Issue 17 item 7: "#3" is the third city; the counter said "4 / 13" beside "city 3 of 12".
    assert page.text_content("#deck-counter") == "City 3 of 12"
    assert "city 3 of 12" in page.text_content(".slide:not([hidden]) .kicker")
    assert "(hover)" not in page.text_content(".slide:not([hidden])")  # nobody hovers on a projector
    page.keyboard.press("Home")
    page.wait_for_function("() => window.location.hash === '#0'")
    assert page.locator("#deck-prev").is_disabled()
    assert page.text_content("#deck-counter") == "Overview"
    assert page.requests.foreign == []


def test_present_mode_fills_a_full_hd_screen(browser, server_url) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, device_scale_factor=1)
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    try:
        page.goto(f"{server_url}/?present=1&cohort=psp-2017&offence=murder&measure=rate#7")
        wait_for_slide(page)
        assert visible_titles(page) == ["Jackson, TN"]
        report = layout_report(page)
        assert_fits_a_projector(report, page)
        assert report["title"] >= 60, "type grows with the screen"
        tick = page.evaluate(
            """() => parseFloat(getComputedStyle(
                document.querySelector('.slide:not([hidden]) .xtick text')).fontSize)"""
        )
        assert tick >= 24
        screenshot(page, "24-present-city-1920x1080", full_page=False)
        page.keyboard.press("End")  # issue 14: the deck ends with what happened after they joined
        wait_for_slide(page)
        assert visible_titles(page) == ["What happened after they joined?"]
        assert page.text_content("#deck-counter") == "Outcomes"
        assert page.evaluate("() => window.location.hash") == "#13"
        assert_fits_a_projector(layout_report(page), page)
        assert "No clear difference" in page.text_content(".slide:not([hidden]) .verdicts")
        assert "not proof" in page.text_content(".slide:not([hidden]) .lede")
        screenshot(page, "27-present-outcomes-1920x1080", full_page=False)
        assert page.locator("#deck-next").is_disabled()
        page.keyboard.press("ArrowLeft")
        wait_for_slide(page)
        assert visible_titles(page) == ["Toledo, OH"]
        page.keyboard.press("Home")
        wait_for_slide(page)
        screenshot(page, "25-present-overview-1920x1080", full_page=False)
    finally:
        context.close()
    assert [u for u in urls if not u.startswith(server_url) and u.startswith("http")] == []


@pytest.mark.parametrize("host", ["about-blank", "sandboxed-preview"])
def test_an_embed_draws_in_a_host_with_an_opaque_origin(browser, server_url, host: str) -> None:
    """Issue 17 item 12: an embed inside about:blank, a data: page or a sandboxed CMS preview showed
    Chromium's error page ("frame-ancestors *" matches only http(s) origins)."""
    page = browser.new_page(viewport={"width": 1000, "height": 820})
    try:
        src = f"{server_url}/embed/ranking?cohort=psp-2017"
        frame = f'<iframe id="embed" src="{src}" width="950" height="700" style="border:0"></iframe>'
        if host == "about-blank":
            page.set_content(frame)  # a new page's about:blank document: an opaque origin
            chart = page.frame_locator("#embed")
        else:
            srcdoc = frame.replace('"', "&quot;")
            page.set_content(
                f'<iframe id="cms" sandbox="allow-scripts" width="980" height="760" srcdoc="{srcdoc}">'
            )
            chart = page.frame_locator("#cms").frame_locator("#embed")
        chart.locator(".main-svg").first.wait_for(timeout=20_000)
        assert "cities ranked by ratio" in chart.locator("h1, .title, body").first.inner_text()
        screenshot(page, f"26-embed-opaque-{host}")
    finally:
        page.close()
