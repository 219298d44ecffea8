"""HTTP routes without a browser: health, the public data files and their caching."""

from __future__ import annotations

from urllib.parse import quote

import pytest


def test_healthz_reports_the_data_version(client, dataset) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["data_version"] == dataset.version
    assert body["cities"] == len(dataset.cities) and body["years"] == [1975, 2022]


def test_geometry_is_served_once_and_cached(client) -> None:
    first = client.get("/data/cities.geojson")
    assert first.status_code == 200
    assert first.mimetype == "application/geo+json"
    assert "max-age=86400" in first.headers["Cache-Control"]
    again = client.get("/data/cities.geojson", headers={"If-None-Match": first.headers["ETag"].strip('"')})
    assert again.status_code in (200, 304)
    conditional = client.get("/data/cities.geojson", headers={"If-None-Match": first.headers["ETag"]})
    assert conditional.status_code == 304


@pytest.mark.parametrize("name", ["secret.txt", ".git", "..", "breaks.csv.bak"])
def test_only_the_public_data_files_are_served(client, name: str) -> None:
    assert client.get(f"/data/{name}").status_code == 404


@pytest.mark.parametrize("path", ["/data/../app.py", "/data/%2e%2e/app.py", "/data/..%2fpyproject.toml"])
def test_no_file_outside_geodata_leaks(client, path: str) -> None:
    body = client.get(path).get_data(as_text=True)
    assert "def main" not in body and "[project]" not in body


def test_page_is_served_without_external_assets(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Safety Partnership Atlas" in html
    for host in ("cdn.", "unpkg", "googleapis", "mapbox", "carto"):
        assert host not in html


def test_wsgi_entry_point_serves_the_app() -> None:
    from dashboard.serve.wsgi import server

    response = server.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_versioned_geometry_is_immutable_and_preloaded(client, dataset) -> None:
    url = f"/data/cities.geojson?v={quote(dataset.version)}"
    assert " " not in url
    response = client.get(url)
    assert response.status_code == 200
    assert (
        "immutable" in response.headers["Cache-Control"]
        and "max-age=31536000" in response.headers["Cache-Control"]
    )
    stale = client.get("/data/cities.geojson?v=an-old-version")
    assert "immutable" not in stale.headers["Cache-Control"]  # an old page must not pin new bytes
    page = client.get("/").get_data(as_text=True)
    assert f'<link rel="preload" href="{url}" as="fetch"' in page


@pytest.mark.parametrize(
    "path", ["/_dash-layout", "/embed/trends?cohort=psp-2017", "/embed/map", "/?present=1&cohort=psp-2017"]
)
def test_the_data_version_is_named_once_not_dataset_data(client, dataset, path: str) -> None:
    """Issue 17 item 3: every chart said "Dataset data 69e0aa8b4f"."""
    text = client.get(path).get_data(as_text=True)
    version_id = dataset.version.removeprefix("data ")
    assert f"Dataset {version_id}" in text
    assert "Dataset data" not in text
