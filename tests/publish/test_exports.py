"""Exports: CSV of the trends data, chart files (PNG/SVG/PDF) and the briefing PDF.

Chart files are rendered by kaleido in the system Chromium; one warm browser serves the whole
module. Export timing is not asserted here (goals live in the benchmarks); limits, time-outs
and crash recovery are in test_export_limits.py. The map export is a vector ``geo`` map
(figures/map_static.py), no longer the page's WebGL map.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import struct
import unicodedata
import xml.etree.ElementTree as ET
import zlib
from itertools import pairwise
from urllib.parse import parse_qs, unquote

import numpy as np
import pytest

from dashboard import errors
from dashboard.data.measures import city_series
from dashboard.data.state import parse_query
from dashboard.figures.common import SOURCE_CITATION, dataset_label
from dashboard.publish.exports import briefing as export_briefing
from dashboard.publish.exports import browser as export_browser
from dashboard.publish.exports import charts as export_charts
from dashboard.publish.exports import csv as export_csv
from dashboard.publish.exports import metadata as export_metadata
from dashboard.publish.exports import renderer as export_renderer
from dashboard.views import registry

pypdf = pytest.importorskip("pypdf")

SOURCE_TEXT = "Source: FBI Uniform Crime Reporting"
QUERY = "?cities=4748000,4737640&offence=murder&from=2010&to=2016"


# --------------------------------------------------------------------------------------------
# helpers


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == export_metadata.PNG_SIGNATURE
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def png_size(data: bytes) -> tuple[int, int]:
    kind, body = png_chunks(data)[0]
    assert kind == b"IHDR"
    width, height = struct.unpack(">II", body[:8])
    return width, height


def png_text(data: bytes) -> dict[str, str]:
    return {
        body.split(b"\0", 1)[0].decode("latin-1"): body.split(b"\0", 1)[1].decode("latin-1")
        for kind, body in png_chunks(data)
        if kind == b"tEXt"
    }


def decode_png(data: bytes) -> np.ndarray:
    """8-bit RGB(A) PNG -> array (h, w, channels); a minimal decoder (all five filters)."""
    chunks = png_chunks(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and colour in (2, 6) and interlace == 0, "only 8-bit RGB/RGBA, non-interlaced"
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * bpp
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prior = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            current = line
        elif kind == 1:
            current = np.cumsum(line.reshape(width, bpp), axis=0).reshape(-1)
        elif kind == 2:
            current = line + prior
        else:
            current, up = line.copy(), prior.astype(np.int32)
            for x in range(stride):
                left = current[x - bpp] if x >= bpp else 0
                if kind == 3:
                    current[x] = (current[x] + (left + up[x]) // 2) & 255
                else:
                    upleft = up[x - bpp] if x >= bpp else 0
                    p = left + up[x] - upleft
                    pa, pb, pc = abs(p - left), abs(p - up[x]), abs(p - upleft)
                    pred = left if pa <= pb and pa <= pc else up[x] if pb <= pc else upleft
                    current[x] = (current[x] + pred) & 255
        out[y] = prior = (np.asarray(current) & 255).astype(np.uint8)
    return out.reshape(height, width, bpp)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))


def page_text(page) -> str:
    return unicodedata.normalize("NFKC", page.extract_text() or "")  # "ﬁ" ligatures -> "fi"


def pdf_text(data: bytes) -> str:
    return "\n".join(page_text(page) for page in pypdf.PdfReader(io.BytesIO(data)).pages)


# --------------------------------------------------------------------------------------------
# fixtures


# --------------------------------------------------------------------------------------------
# CSV (no browser)


def test_csv_rows_are_the_city_series_of_the_view(client, dataset) -> None:
    response = client.get("/export/data.csv" + QUERY)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Content-Disposition"].endswith('.csv"')
    text = response.get_data(as_text=True)
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any(dataset_label(dataset.version) in line for line in header)
    assert any(SOURCE_CITATION in line for line in header)
    assert any("cities=4748000,4737640" in line for line in header)
    assert any("Empty cell = not available" in line for line in header)

    rows = csv_rows(text)
    assert list(rows[0]) == list(export_csv.CSV_COLUMNS)
    assert [(r["geoid"], int(r["year"])) for r in rows] == [
        (g, y) for g in ("4748000", "4737640") for y in range(2010, 2017)
    ]
    series = city_series(dataset, ["4748000", "4737640"], "murder").set_index(["geoid", "year"])
    for row in rows:
        assert row["offence"] == "murder"
        expected = series.loc[(row["geoid"], int(row["year"]))]
        assert row["city"] == expected["label"]
        for column, field, cast in (
            ("count", "count", int),
            ("population", "population", int),
            ("rate", "rate_per_100k", float),
            ("national_rate", "national_rate_per_100k", float),
            ("ratio", "ratio_to_national", float),
        ):
            value = expected[column]
            if value is None or value != value or str(value) == "<NA>":
                assert row[field] == ""
            else:
                assert cast(row[field]) == pytest.approx(float(value)), (row, column)


def test_csv_keeps_missing_years_as_empty_rows(dataset) -> None:
    # Birmingham, AL has no violent crime figure for 2010, 2017 and 2019.
    state = parse_query("?cities=0107000&offence=violent_crime&from=2008&to=2019", dataset)
    rows = csv_rows(export_csv.view_csv(dataset, state))
    assert [int(r["year"]) for r in rows] == list(range(2008, 2020))
    gaps = {int(r["year"]): r for r in rows if r["rate_per_100k"] == ""}
    assert {2010, 2017, 2019} <= set(gaps)
    for row in gaps.values():
        assert row["count"] in ("",) and row["ratio_to_national"] == ""
    assert all(r["count"] != "0" for r in rows)


def test_csv_with_no_cities_has_only_the_header(client) -> None:
    response = client.get("/export/data.csv?cohort=all-cities")
    assert response.status_code == 200
    assert csv_rows(response.get_data(as_text=True)) == []
    assert "# No rows: this view has no city" in response.get_data(as_text=True)


def test_exports_say_what_the_link_asked_for_that_they_do_not_show(client) -> None:
    """Issue 17 item 2: ``cities=abc`` gave an empty CSV and ``year=1900`` another year, both 200 and
    silent. The notice is now in the file and in ``X-Atlas-Notice`` (percent-encoded UTF-8)."""
    csv_response = client.get("/export/data.csv?cities=abc")
    assert csv_response.status_code == 200
    notice = unquote(csv_response.headers["X-Atlas-Notice"])
    assert "abc" in notice and notice.isprintable()
    text = csv_response.get_data(as_text=True)
    assert "# Ignored in the link: Unknown or repeated city code(s) ignored: abc." in text
    svg = client.get("/export/ranking.svg?year=1900")
    assert svg.status_code == 200
    assert "1900" in unquote(svg.headers["X-Atlas-Notice"])
    drawn = " ".join(ET.fromstring(svg.data).itertext())
    assert "Not as linked" in drawn and "1900" in drawn
    clean = client.get("/export/data.csv?cities=4748000")
    assert "X-Atlas-Notice" not in clean.headers


def test_csv_drops_invalid_parameters_without_failing(client) -> None:
    response = client.get("/export/data.csv?cities=4748000&offence=nonsense&from=abc&to=2019")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    rows = csv_rows(text)
    assert rows and {r["offence"] for r in rows} == {"violent_crime"}
    assert "# Ignored in the link: Unknown offence" in text


# --------------------------------------------------------------------------------------------
# Validation (no browser)


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/export/globe.png", 404, "No such export"),
        ("/export/map", 404, "No such export"),
        ("/export/map.gif", 400, "png, svg, pdf"),
        ("/export/trends.png?width=10", 400, "width"),
        ("/export/trends.png?width=abc", 400, "width"),
        ("/export/trends.svg?height=99999", 400, "height"),
        ("/export/ranking.pdf?width=-500", 400, "width"),
        ("/export/briefing.pdf?cohort=all-cities", 400, "at least one city"),
    ],
)
def test_bad_requests_get_a_short_plain_message(client, path: str, status: int, words: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert words in body and "Traceback" not in body and len(body) < 300


def test_briefing_is_bounded_to_30_cities(client, dataset) -> None:
    cities = ",".join(dataset.cities.index[:31])
    response = client.get(f"/export/briefing.pdf?cities={cities}")
    assert response.status_code == 400
    assert "at most 30" in response.get_data(as_text=True)


def test_sizes_are_checked_before_rendering(dataset) -> None:
    state = parse_query("", dataset)
    for bad in (599, 3001, 812.5, True):
        with pytest.raises(ValueError, match="width must be a whole number of pixels from 600 to 3000"):
            export_charts.render_chart(dataset, state, "trends", "png", width=bad)
    with pytest.raises(ValueError, match="height must be a whole number of pixels from 400 to 3000"):
        export_charts.render_chart(dataset, state, "map", "svg", height=399)
    with pytest.raises(ValueError, match="Unknown chart"):
        export_charts.render_chart(dataset, state, "pie", "png")
    with pytest.raises(ValueError, match="Unknown format"):
        export_charts.render_chart(dataset, state, "map", "jpg")


def test_metadata_helpers_round_trip() -> None:
    tiny = zlib.compress(b"\x00\xff\xff\xff")
    png = (
        export_metadata.PNG_SIGNATURE
        + export_metadata._png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + export_metadata._png_chunk(b"IDAT", tiny)
        + export_metadata._png_chunk(b"IEND", b"")
    )
    tagged = export_metadata.png_with_text(png, {"Description": "Rates 1985–2019 × 2"})
    assert png_text(tagged) == {"Description": "Rates 1985-2019 × 2"}
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    root = ET.fromstring(export_metadata.svg_with_text(svg, "A & B", "x < y"))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "A & B" and root.find(f"{ns}desc").text == "x < y"
    assert root.get("role") == "img"


def test_the_export_page_loads_nothing_remote() -> None:
    page = export_browser._export_page().generate_index()
    assert "http://" not in page and "https://" not in page and "mathjax" not in page.lower()
    assert export_browser.GEO_ASSETS_SCRIPT in page  # plotly.js finds its USA topojson without a fetch
    assert page.index("PlotlyGeoAssets") < page.index("plotly.min.js")
    assert "--host-resolver-rules=MAP * ~NOTFOUND" in export_browser.OFFLINE_FLAGS


# --------------------------------------------------------------------------------------------
# Rendered files (one warm browser)


def test_trends_png_has_twice_the_size_and_alt_text(client, dataset) -> None:
    response = client.get("/export/trends.png" + QUERY + "&width=800&height=500")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/png"
    assert 'filename="atlas-trends-murder-' in response.headers["Content-Disposition"]
    data = response.data
    assert png_size(data) == (1600, 1000)
    text = png_text(data)
    state = parse_query(QUERY, dataset)
    expected = registry.chart_summary(dataset, state, "trends").translate(export_metadata._LATIN1_FALLBACKS)
    assert text["Description"] == expected
    assert dataset_label(dataset.version) in text["Source"] and SOURCE_TEXT in text["Source"]


def test_ranking_svg_is_xml_with_the_source_line(client, dataset) -> None:
    response = client.get("/export/ranking.svg" + QUERY)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag.endswith("svg")
    ns = "{http://www.w3.org/2000/svg}"
    desc = root.find(f"{ns}desc").text
    assert desc.startswith(registry.chart_summary(dataset, parse_query(QUERY, dataset), "ranking"))
    assert root.find(f"{ns}title").text.startswith(dataset.offence_label("murder") + " in 2015")
    text = " ".join(t for t in root.itertext())
    assert SOURCE_TEXT in text and dataset_label(dataset.version) in text and "Dataset data" not in text


def test_trends_pdf_has_the_source_line_and_summary(client, dataset) -> None:
    response = client.get("/export/trends.pdf" + QUERY)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = pdf_text(response.data)
    assert SOURCE_TEXT in text and dataset_label(dataset.version) in text and "Dataset data" not in text
    state = parse_query(QUERY, dataset)
    assert reader.metadata["/Subject"] == registry.chart_summary(dataset, state, "trends")
    assert "Murder" in reader.metadata["/Title"]


def test_map_png_actually_draws_the_map_offline(client, renderer, dataset) -> None:
    response = client.get("/export/map.png?year=2015&width=640&height=420")
    assert response.status_code == 200
    pixels = decode_png(response.data)
    assert pixels.shape[:2] == (840, 1280)
    # The map area (away from title, legend, colour bar and source line) has boundaries and
    # coloured cities: many colours, and a good share of non-white pixels.
    area = pixels[200:620, 100:1000, :3].reshape(-1, 3)
    colours = {tuple(int(v) for v in row) for row in area[::7]}
    assert len(colours) > 60, f"map area looks blank ({len(colours)} colours)"
    assert (area.min(axis=1) < 235).mean() > 0.02
    requested = [u for u in renderer.requests if not u.startswith(export_browser.LOCAL_SCHEMES)]
    assert renderer.requests and requested == []


def test_map_svg_is_vector_shapes_not_a_bitmap(client, renderer, dataset) -> None:
    """The export map is drawn as paths on a ``geo`` map (no WebGL picture inside the SVG)."""
    response = client.get("/export/map.svg?cohort=psp-2017&year=2015")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    ns = "{http://www.w3.org/2000/svg}"
    shapes = [p for p in root.iter(f"{ns}path") if "choroplethlocation" in (p.get("class") or "")]
    selected = len(parse_query("?cohort=psp-2017", dataset).cities)
    assert len(shapes) >= len(dataset.state_geojson["features"]) + selected
    assert not [i for i in root.iter(f"{ns}image") if "data:image/png" in (i.get("href") or "")]
    text = " ".join(root.itertext())
    assert "No data" in text and "1× (US)" in text and SOURCE_TEXT in text
    requested = [u for u in renderer.requests if not u.startswith(export_browser.LOCAL_SCHEMES)]
    assert requested == []  # no topojson from cdn.plot.ly


def test_map_export_figure_reuses_the_page_colours(dataset) -> None:
    from dashboard.views import map as views

    state = parse_query("?cohort=psp-2017&year=2015&measure=ratio", dataset)
    figure = export_briefing.chart_figure(dataset, state, "map")[0]
    layout = figure["layout"]
    assert "map" not in layout and layout["geo"]["visible"] is False
    assert layout["geo"]["projection"]["type"] == "albers usa"
    page = views.map_figure(dataset, 2015, "violent_crime", "ratio", list(state.cities)).to_dict()
    scale = [list(stop) for stop in layout["coloraxis"]["colorscale"]]
    assert scale == [list(stop) for stop in page["layout"]["coloraxis"]["colorscale"]]
    assert layout["coloraxis"]["cmin"] == page["layout"]["coloraxis"]["cmin"]
    assert layout["coloraxis"]["cmax"] == page["layout"]["coloraxis"]["cmax"]
    title, page_title = layout["title"]["text"], page["layout"]["title"]["text"]
    assert title.replace("<br>", " ") == page_title.replace("<br>", " ")
    by_name = {t.get("name"): t for t in figure["data"]}
    page_names = {t.get("name") for t in page["data"]}
    assert "Program city ring" in page_names  # the page rings program markers too
    assert {"No data", "Other cities (100k+)", "Program cities", "Selected"} <= page_names & set(by_name)
    # the selection: blue rings at the selected cities' markers (not their outlines: issue 17 item 6)
    cities = dataset.cities
    where = dict(zip(cities["geoid"], zip(cities["lon"], cities["lat"], strict=True), strict=True))
    rings = set(zip(by_name["Selected"]["lon"], by_name["Selected"]["lat"], strict=True))
    assert rings == {(round(where[g][0], 5), round(where[g][1], 5)) for g in state.cities}
    assert by_name["Selected"]["type"] == "scattergeo" and by_name["Selected"]["marker"]["line"]["width"] > 0
    program_markers = by_name["Program city marker"]["marker"]
    assert program_markers["line"]["color"] == "#111111" and program_markers["line"]["width"] >= 2
    # a city's colour value is the page's own (program cities trace)
    page_program = next(t for t in page["data"] if t.get("name") == "Program cities")
    page_z = dict(zip(page_program["locations"], page_program["z"], strict=True))
    for geoid, z in zip(by_name["Program cities"]["locations"], by_name["Program cities"]["z"], strict=True):
        assert page_z[geoid] == z
    # d3-geo winding: every exterior ring runs clockwise (negative signed area in lon/lat)
    for feature in by_name["Program cities"]["geojson"]["features"]:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        for polygon in polygons:
            area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(polygon[0]))
            assert area < 0


def test_briefing_has_cover_city_pages_and_sources(client, dataset) -> None:
    query = "?cities=4748000,4737640,2836000&offence=violent_crime&from=1995&to=2019&year=2015"
    response = client.get("/export/briefing.pdf" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1 + 3 + 1
    pages = [page_text(page) for page in reader.pages]
    assert "briefing" in pages[0] and "2015" in pages[0] and SOURCE_TEXT in pages[0]
    for page, geoid in zip(pages[1:4], ("4748000", "4737640", "2836000"), strict=True):
        assert dataset.label(geoid) in page and "times the national rate" in page
    assert "Sources and caveats" in pages[-1] and dataset_label(dataset.version) in pages[-1]
    assert "Jackson, MS" in pages[-1] and "Memphis, TN" in pages[-1]
    assert [item["/Title"] for item in reader.outline][-1] == "Sources and caveats"
    assert dataset_label(dataset.version) in reader.metadata["/Keywords"]


def test_a_crashed_browser_is_restarted(dataset, renderer) -> None:
    state = parse_query(QUERY, dataset)
    export_charts.render_chart(dataset, state, "ranking", "svg")
    starts = renderer.starts
    os.killpg(renderer.pid, signal.SIGKILL)  # the browser process group this module started
    renderer._kaleido.subprocess.wait(10)
    data = export_charts.render_chart(dataset, state, "ranking", "svg")
    assert data.lstrip().startswith(b"<svg") and renderer.starts == starts + 1


def test_a_failed_render_answers_503_and_the_next_call_works(client, renderer, monkeypatch) -> None:
    def broken(job):
        raise errors.ExportError("simulated failure")

    with monkeypatch.context() as patch:
        patch.setattr(renderer, "render", broken)
        response = client.get("/export/ranking.png" + QUERY)
    assert response.status_code == 503
    assert response.mimetype == "text/plain" and "try again" in response.get_data(as_text=True)
    # a real failure inside the browser tears it down; the next export starts a fresh one
    with pytest.raises(errors.ExportError):
        renderer.render(export_renderer.RenderJob({"data": [], "layout": {}}, "bmp", 400, 400))
    assert not renderer.is_alive()
    assert client.get("/export/ranking.png" + QUERY).status_code == 200


def test_filenames_describe_the_view(dataset) -> None:
    state = parse_query("?cohort=psp-2017&offence=murder&measure=rate&from=1995&to=2019", dataset)
    assert export_csv.export_filename(dataset, state, "trends", "png") == (
        "atlas-trends-murder-rate-1995-2019-psp-2017.png"
    )
    one = parse_query("?cities=4748000&year=2012", dataset)
    assert export_csv.export_filename(dataset, one, "data", "csv").endswith("memphis-tn.csv")
    assert parse_qs(state.to_query().lstrip("?"))["offence"] == ["murder"]


def test_exported_charts_print_the_notes_the_page_shows_on_hover(client) -> None:
    """Issue 17 item 11: the exported trends said "see data notes" and the ranking "(see note)", but an
    image has no notes. The notes that apply are printed under the chart."""
    trends = client.get("/export/trends.svg?cities=1836003&from=1990&to=2000&width=1200")
    drawn = " ".join(ET.fromstring(trends.data).itertext())
    assert "Indianapolis, IN, 1995: Indianapolis reported fewer than 12 months in 1995." in drawn
    assert "(hover)" not in drawn and "see data notes" not in drawn and "(notes below)" in drawn
    ranking = client.get("/export/ranking.svg?width=1200")
    drawn = " ".join(ET.fromstring(ranking.data).itertext())
    assert "(see note)" not in drawn and "The FBI cautions against ranking:" in drawn
    many = client.get("/export/trends.svg?cohort=psp-2017")
    printed = " ".join(ET.fromstring(many.data).itertext())
    assert re.search(r"… and \d+ more: open the same view in the atlas and read its data notes", printed)
