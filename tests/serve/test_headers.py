"""Security headers (dashboard/security.py): CSP, nosniff, Referrer-Policy, frame policy, errors."""

from __future__ import annotations

import base64
import hashlib
import logging
import re

import flask
import pytest
from dash import Dash, html

from dashboard.publish.standalone import PAGE_CSP, STATIC_FILES
from dashboard.serve.routes import PUBLIC_DATA_FILES
from dashboard.serve.security import REFERRER_POLICY, register_security
from dashboard.settings import csp_sources, load_settings

INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)  # Dash's IE-only <!--[if IE]><script> never runs


def directives(csp: str) -> dict[str, list[str]]:
    parts = (p.split() for p in csp.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def test_dashboard_csp_allows_only_the_own_origin(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    csp = directives(response.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["worker-src"] == ["blob:"] and csp["child-src"] == ["blob:"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["font-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'"
    assert all(s.startswith("'sha256-") for s in csp["script-src"][1:])
    every_source = {s for sources in csp.values() for s in sources}
    assert not {s for s in every_source if "://" in s or s in ("*", "http:", "https:")}, "no other origin"
    assert "'unsafe-eval'" not in every_source and "'wasm-unsafe-eval'" not in every_source


def test_every_inline_script_of_the_page_is_allowed_by_its_hash(client) -> None:
    response = client.get("/?cohort=vrn-2015")
    allowed = set(directives(response.headers["Content-Security-Policy"])["script-src"])
    inline = [
        m["body"]
        for m in INLINE_SCRIPT.finditer(HTML_COMMENT.sub("", response.get_data(as_text=True)))
        if "src=" not in m["attrs"] and "application/json" not in m["attrs"]
    ]
    assert inline, "Dash starts its renderer from an inline script"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, body[:80]


PATHS = [
    "/",
    "/?present=1&cohort=vrn-2016",
    "/embed/ranking",
    "/healthz",
    "/data/",
    *(f"/data/{name}" for name in PUBLIC_DATA_FILES),
    *(f"/static/{name}" for name in STATIC_FILES),
    "/static/plotly.min.js",
    "/assets/atlas.css",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_favicon.ico",
    "/export/data.csv?cities=4748000",
    "/export/trends.png?width=1",
    "/no-such-page",
]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_says_nosniff_and_keeps_the_referrer_on_site(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == REFERRER_POLICY
    csp = directives(response.headers["Content-Security-Policy"])
    assert csp.get("default-src") == ["'self'"], "every (non-PDF) response has a CSP"
    if path.startswith("/embed/"):
        assert "X-Frame-Options" not in response.headers
    else:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert csp["frame-ancestors"] == ["'none'"]


def test_referrer_policy_keeps_the_same_origin_referer() -> None:
    # server.page_query seeds the first paint from the page's Referer: no-referrer would break it.
    assert REFERRER_POLICY in ("same-origin", "strict-origin-when-cross-origin", "origin-when-cross-origin")


@pytest.mark.parametrize(("path", "ancestors"), [("/embed/map", 0), ("/?present=1", 1)])
def test_standalone_pages_keep_their_own_strict_csp(client, path: str, ancestors: int) -> None:
    """Present mode may not be framed ('none'); an embed, by default, by any host (no directive)."""
    csp = client.get(path).headers["Content-Security-Policy"]
    assert csp.startswith(PAGE_CSP)
    assert csp.count("frame-ancestors") == ancestors


def test_embeds_may_be_framed_by_the_configured_origins_only(client, change_settings) -> None:
    change_settings(embed_origins=csp_sources("https://news.example, bad;value https://*.city.gov"))
    embed = client.get("/embed/trends")
    assert "X-Frame-Options" not in embed.headers
    ancestors = directives(embed.headers["Content-Security-Policy"])["frame-ancestors"]
    assert ancestors == ["https://news.example", "https://*.city.gov"]
    page = client.get("/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert directives(page.headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    change_settings(embed_origins=load_settings({}).embed_origins)
    # Any host by default, opaque origins included (about:blank, data:, sandboxed previews), which
    # ``frame-ancestors *`` would refuse: no directive at all.
    assert "frame-ancestors" not in client.get("/embed/trends").headers["Content-Security-Policy"]


def test_error_answers_carry_the_headers_too(client) -> None:
    for response in (
        client.get("/data/nope.csv"),
        client.post("/_dash-update-component", data="[]", content_type="application/json"),
        client.post("/healthz"),
    ):
        assert 400 <= response.status_code < 500
        assert response.mimetype == "text/plain"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_registering_twice_changes_nothing(app, dataset) -> None:
    before = len(app.server.after_request_funcs[None]), len(app.server.before_request_funcs[None])
    register_security(app, dataset)
    after = len(app.server.after_request_funcs[None]), len(app.server.before_request_funcs[None])
    assert before == after
    headers = app.server.test_client().get("/healthz").headers
    assert len(headers.getlist("Content-Security-Policy")) == 1
    assert len(headers.getlist("X-Content-Type-Options")) == 1


def bare_app(dataset, static_folder: str | None = None) -> Dash:
    """A Dash app with one page and an extra failing route (no callbacks, so it builds fast)."""
    app = Dash(__name__, serve_locally=True)
    app.layout = html.Div("page")
    if static_folder:
        app.server.static_folder = static_folder

    @app.server.get("/boom")
    def boom():
        raise RuntimeError("secret detail /etc/passwd")

    @app.server.get("/teapot")
    def teapot():
        flask.abort(418)

    register_security(app, dataset)
    return app


def test_unexpected_errors_answer_a_short_plain_500_and_are_logged(dataset, caplog) -> None:
    app = bare_app(dataset)
    assert not app.server.debug
    with caplog.at_level(logging.ERROR, logger="dashboard.serve.security"):
        response = app.server.test_client().get("/boom")
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert len(body) < 200 and "Traceback" not in body and "secret detail" not in body
    assert "RuntimeError: secret detail" in caplog.text, "the traceback goes to the log"
    teapot = app.server.test_client().get("/teapot")
    assert teapot.status_code == 418 and teapot.mimetype == "text/plain"


def test_flask_default_static_route_serves_nothing(dataset, tmp_path) -> None:
    (tmp_path / "secret.txt").write_text("not for the public")
    client = bare_app(dataset, static_folder=str(tmp_path)).server.test_client()
    response = client.get("/static/secret.txt")
    assert response.status_code == 404
    assert "not for the public" not in response.get_data(as_text=True)


def test_only_the_listed_static_files_are_served(client) -> None:
    for name in STATIC_FILES:
        assert client.get(f"/static/{name}").status_code == 200
    for path in ("/static/", "/static/x.js", "/static/standalone.js/..", "/static/__init__.py"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/plain", path


def test_the_app_has_one_page(client) -> None:
    # Dash answers any path with the dashboard; here only / (and the real routes) do.
    for path in ("/index.html", "/admin", "/embed/", "/_dash-update-component", "/favicon.ico"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/plain", path
        assert response.get_data(as_text=True).startswith("Not found.")


def test_dash_resource_errors_echo_nothing(client) -> None:
    for path in (
        "/_dash-component-suites/%3Cscript%3Ealert(1)%3C%2Fscript%3E/x.js",
        "/_dash-component-suites/dash/%3Cscript%3E.js",
        "/_dash-component-suites/dash/deps/nope.js",
    ):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/plain", path
        assert "<script>" not in response.get_data(as_text=True)
