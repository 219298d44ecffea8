"""The briefing PDF: cover, one page per city, sources and caveats."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dashboard.data.dataset import Dataset
from dashboard.data.notes import city_notes, general_notes
from dashboard.data.state import ViewState
from dashboard.errors import RequestError
from dashboard.figures.common import MEASURE_LABELS, SOURCE_CITATION, dataset_label, theme
from dashboard.figures.ranking import FBI_RANKING_CAUTION
from dashboard.publish.exports.charts import (
    _cities_were_cut,
    _document_info,
    _fit_for_export,
    _wrap,
    chart_figure,
)
from dashboard.publish.exports.csv import _selection_label, view_description
from dashboard.publish.exports.renderer import RenderJob, export_timeout, get_renderer
from dashboard.views import registry
from dashboard.views.registry import CHARTS
from dashboard.views.trends import trends_figure, trends_summary

MAX_BRIEFING_CITIES = 30
BRIEFING_WIDTH = 1056  # px = 11 in: every briefing page has this width
BRIEFING_CITY_HEIGHT = 816  # px = 8.5 in: a city page is US Letter landscape


# ---------------------------------------------------------------------------------------------
# Briefing PDF


@dataclass(frozen=True)
class _Block:
    kind: str  # title | subtitle | heading | text | bullet | small
    text: str


_BLOCK_STYLE = {  # font size, colour, bold, space before (px)
    "title": (26, "#111111", True, 0),
    "subtitle": (16, "#333333", False, 6),
    "heading": (17, "#111111", True, 18),
    "subheading": (14, "#111111", True, 10),
    "text": (13, "#222222", False, 6),
    "bullet": (12, "#222222", False, 3),
    "small": (12, "#555555", False, 6),
}


def _text_page(blocks: Sequence[_Block], width: int, min_height: int, margin: int = 48) -> tuple[dict, int]:
    """A page of wrapped text as a plotly figure (annotations placed in pixels from the top)."""
    annotations, y = [], margin
    family = theme()["font_family"]
    for block in blocks:
        size, colour, bold, before = _BLOCK_STYLE[block.kind]
        y += before
        indent = 18 if block.kind == "bullet" else 0
        lines = _wrap(html.escape(block.text, quote=False), width - 2 * margin - indent, size)
        body = "<br>".join(f"<b>{line}</b>" if bold else line for line in lines)
        common = {
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 1,
            "xanchor": "left",
            "yanchor": "top",
            "align": "left",
            "showarrow": False,
            "yshift": -y,
            "font": {"size": size, "color": colour, "family": family},
        }
        if indent:
            annotations.append({**common, "text": "•", "xshift": margin + 4})
        annotations.append({**common, "text": body, "xshift": margin + indent})
        y += round(len(lines) * size * 1.3)
    height = max(min_height, y + margin)
    figure = {
        "data": [],
        "layout": {
            "width": width,
            "height": height,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "showlegend": False,
            "annotations": annotations,
        },
    }
    return figure, height


def _city_page_figure(dataset: Dataset, state: ViewState, geoid: str) -> dict:
    """One city's trend against the national line, with its key sentence under the title."""
    measure = "rate" if state.measure == "count" else state.measure
    city_state = replace(state, cities=(geoid,), measure=measure)
    figure = trends_figure(dataset, [geoid], state.offence, measure, state.year_from, state.year_to).to_dict()
    sentence = trends_summary(dataset, city_state)
    generic = f"{dataset.offence_label(state.offence)} trends {state.year_from}–{state.year_to} against the "
    sentence = re.sub(rf"^{re.escape(generic)}national rate\. ", "", sentence)
    cohorts = [
        f"{row.cohort} (announced {row.announced})"
        for row in dataset.programs[dataset.programs["geoid"] == geoid].itertuples()
    ]
    text = sentence + (f" Program: {'; '.join(cohorts)}." if cohorts else "")
    width, height = BRIEFING_WIDTH, BRIEFING_CITY_HEIGHT
    layout = figure["layout"]
    margin = layout.setdefault("margin", {})
    lines = _wrap(html.escape(text, quote=False), width - margin.get("l", 70) - 40, 15)
    block = round(len(lines) * 15 * 1.3)
    margin["t"] = 70 + block + 38 + 36
    layout.setdefault("annotations", []).append(
        {
            "text": "<br>".join(lines),
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 1,
            "xanchor": "left",
            "yanchor": "bottom",
            "yshift": 38 + 36,
            "align": "left",
            "showarrow": False,
            "font": {"size": 15, "color": "#222222"},
        }
    )
    return _fit_for_export(figure, "trends", width, height)


def _cover_blocks(dataset: Dataset, state: ViewState) -> list[_Block]:
    label = dataset.offence_label(state.offence)
    return [
        _Block("title", "Safety Partnership Atlas — briefing"),
        _Block("subtitle", f"{label} against the US national rate: {_selection_label(dataset, state)}"),
        _Block(
            "small",
            f"Map and ranking for {state.year} ({MEASURE_LABELS[state.measure]}; ranking threshold "
            f"{state.threshold:g}× the national rate); one page per city for {state.year_from}–"
            f"{state.year_to}; sources and caveats on the last page. {dataset_label(dataset.version)}.",
        ),
        *[_Block("small", f"Not as linked: {notice}") for notice in state.notices],
    ]


def _sources_blocks(dataset: Dataset, state: ViewState) -> list[_Block]:
    blocks = [
        _Block("title", "Sources and caveats"),
        _Block("text", f"{SOURCE_CITATION}. {dataset_label(dataset.version)}."),
        _Block(
            "small",
            "Every number traces to a published FBI or Census file; the file and table for each city-year "
            "are in crime_city_year.csv and geodata/SOURCES.md (also served at /data/).",
        ),
        _Block("small", f"This briefing reproduces the view /{state.to_query()}"),
        _Block("heading", "All cities"),
    ]
    blocks += [
        _Block("bullet", t) for t in general_notes(dataset, state.offence, state.year_from, state.year_to)
    ]
    blocks.append(_Block("bullet", FBI_RANKING_CAUTION))
    notes = city_notes(dataset, list(state.cities), state.offence, state.year_from, state.year_to)
    if notes:
        blocks.append(_Block("heading", "Cities"))
    for city in notes:
        blocks.append(_Block("subheading", city.label))
        blocks += [_Block("bullet", item) for item in city.items] or [_Block("bullet", "No caveats.")]
    return blocks


def _page_as_form(writer, page):
    """A PDF page as a Form XObject of ``writer`` (its content stream is copied, not parsed)."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

    contents = page["/Contents"].get_object()
    parts = contents if isinstance(contents, ArrayObject) else [contents]
    form = DecodedStreamObject()
    form.set_data(b"\n".join(part.get_object().get_data() for part in parts))
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(float(v)) for v in page.mediabox)
    form[NameObject("/Resources")] = page["/Resources"].clone(writer)
    return writer._add_object(form.flate_encode())


def _add_stacked_page(writer, pdfs: Sequence[bytes]) -> None:
    """Add one page holding the first page of each PDF, top to bottom (vector, no rescaling).

    Each part becomes a Form XObject drawn at its place: fast (pypdf's page merging re-parses
    every content stream) and faithful (a pattern such as the colour bar's gradient stays in
    its form's space; merged into the page it would stay put while the content moves).
    """
    from pypdf import PdfReader
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    pages = [PdfReader(io.BytesIO(data)).pages[0] for data in pdfs]
    width = max(float(p.mediabox.width) for p in pages)
    height = sum(float(p.mediabox.height) for p in pages)
    sheet = writer.add_blank_page(width=width, height=height)
    forms, ops, top = DictionaryObject(), [], height
    for index, page in enumerate(pages):
        top -= float(page.mediabox.height)
        name = f"/Part{index}"
        forms[NameObject(name)] = _page_as_form(writer, page)
        dx, dy = -float(page.mediabox.left), top - float(page.mediabox.bottom)
        ops.append(f"q 1 0 0 1 {dx:.4f} {dy:.4f} cm {name} Do Q")
    sheet[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): forms})
    content = DecodedStreamObject()
    content.set_data("\n".join(ops).encode("ascii"))
    sheet[NameObject("/Contents")] = writer._add_object(content)


def briefing_pdf(dataset: Dataset, state: ViewState) -> bytes:
    """Cover (title, map, ranking), one page per selected city, then "Sources and caveats".

    1 + N + 1 pages for N cities (1 ≤ N ≤ 30). Every page is 11 in wide; city pages are US
    Letter landscape, the cover and the last page are as tall as their content.
    """
    from pypdf import PdfReader, PdfWriter

    n = len(state.cities)
    if n == 0:
        raise RequestError("Select at least one city for a briefing (add cities=... or a program cohort).")
    if n > MAX_BRIEFING_CITIES or _cities_were_cut(state):
        shown = f"{n}+" if _cities_were_cut(state) else str(n)
        raise RequestError(f"A briefing covers at most {MAX_BRIEFING_CITIES} cities; this view has {shown}.")
    renderer = get_renderer()
    renderer.prestart()
    width = BRIEFING_WIDTH

    def jobs():  # built one by one, each rendered while the next is built
        header, header_height = _text_page(_cover_blocks(dataset, state), width, 0, margin=36)
        yield RenderJob(header, "pdf", width, header_height)
        for chart, chart_height in (("map", 600), ("ranking", 480)):
            figure, _, chart_height = chart_figure(dataset, state, chart, width, chart_height)
            yield RenderJob(figure, "pdf", width, chart_height)
        for geoid in state.cities:
            yield RenderJob(_city_page_figure(dataset, state, geoid), "pdf", width, BRIEFING_CITY_HEIGHT)
        sources, sources_height = _text_page(_sources_blocks(dataset, state), width, BRIEFING_CITY_HEIGHT)
        yield RenderJob(sources, "pdf", width, sources_height)

    rendered = renderer.render_many(jobs(), timeout=export_timeout("briefing"))

    writer = PdfWriter()
    _add_stacked_page(writer, rendered[:3])
    for data in rendered[3:]:
        writer.add_page(PdfReader(io.BytesIO(data)).pages[0])
    writer.add_outline_item(title="Cover: map and ranking", page_number=0)
    for index, geoid in enumerate(state.cities, start=1):
        writer.add_outline_item(title=dataset.label(geoid), page_number=index)
    writer.add_outline_item(title="Sources and caveats", page_number=n + 1)
    title = f"Safety Partnership Atlas briefing: {view_description(dataset, state)}"
    subject = " ".join(registry.chart_summary(dataset, state, chart) for chart in CHARTS)
    writer.add_metadata(_document_info(dataset, title, subject))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
