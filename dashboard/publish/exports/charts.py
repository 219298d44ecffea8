"""Chart exports (PNG/SVG/PDF): the page's figures sized for print, with limits checked."""

from __future__ import annotations

import html
import re
import textwrap

from dashboard.data.dataset import Dataset
from dashboard.data.state import MAX_CITIES, ViewState
from dashboard.errors import RequestError
from dashboard.figures.common import SOURCE_CITATION, dataset_label, is_source_annotation, theme
from dashboard.figures.ranking import FBI_RANKING_CAUTION
from dashboard.publish.exports.metadata import pdf_with_metadata, png_with_text, svg_with_text
from dashboard.publish.exports.renderer import RenderJob, get_renderer
from dashboard.views.registry import get_chart
from dashboard.views.trends import break_notes

FORMATS = ("png", "svg", "pdf")
CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
WIDTH_RANGE = (600, 3000)  # px: narrower, the axis titles and legends of the page's figures clip
HEIGHT_RANGE = (400, 3000)
DEFAULT_WIDTH = 1200
DEFAULT_HEIGHTS = {"map": 720, "ranking": 560}  # trends: the figure's own height (grows with cities)
PNG_SCALE = 2
MAX_CHART_CITIES = MAX_CITIES  # cities in a trends export (one panel each); the link takes no more


# ---------------------------------------------------------------------------------------------
# Figures for export


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<br\s*/?>", " ", re.sub(r"<(?!br)[^>]+>", "", str(text or "")))).strip()


def _char_width(size: float) -> float:
    """Average advance of DejaVu Sans/system-ui text, generous so that wrapped text never clips."""
    return size * 0.55


def size_error(name: str) -> str:
    low, high = WIDTH_RANGE if name == "width" else HEIGHT_RANGE
    return f"{name} must be a whole number of pixels from {low} to {high}."


def _check_size(name: str, value: int | None) -> None:
    if value is None:
        return
    low, high = WIDTH_RANGE if name == "width" else HEIGHT_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError(size_error(name))


def _legend_rows(figure: dict, available: float) -> int:
    """Rows a horizontal legend needs (plotly wraps entries that do not fit the width)."""
    size = figure.get("layout", {}).get("legend", {}).get("font", {}).get("size", 14)
    rows, used = 1, 0.0
    for trace in figure.get("data", []):
        if trace.get("showlegend") is False or not trace.get("name"):
            continue
        entry = 50 + len(str(trace["name"])) * _char_width(size)
        if used and used + entry > available:
            rows, used = rows + 1, 0.0
        used += entry
    return rows


def check_export_request(state: ViewState, chart: str, width: int | None, height: int | None) -> None:
    """Refuse, before any work, a chart export whose cost the limits do not allow (RequestError).

    Sizes are bounded (:data:`WIDTH_RANGE`, :data:`HEIGHT_RANGE`); the trends chart draws one
    panel per city, so its export takes at most :data:`MAX_CHART_CITIES` cities (a link with
    more is refused rather than silently cut).
    """
    get_chart(chart)
    _check_size("width", width)
    _check_size("height", height)
    if chart == "trends" and (len(state.cities) > MAX_CHART_CITIES or _cities_were_cut(state)):
        raise RequestError(
            f"A trends export shows at most {MAX_CHART_CITIES} cities; choose fewer (cities=...)."
        )


def _sized_chart(
    dataset: Dataset, state: ViewState, chart: str, width: int | None, height: int | None
) -> tuple[dict, int, int]:
    _check_size("width", width)
    _check_size("height", height)
    width, asked_height = width or DEFAULT_WIDTH, height
    figure = get_chart(chart).static_figure(dataset, state, width, height or DEFAULT_HEIGHTS.get(chart, 600))
    _add_notices(figure, state.notices)
    _add_notes(figure, chart, _export_notes(dataset, state, chart))
    if height is None:
        natural = DEFAULT_HEIGHTS.get(chart) or int(figure.get("layout", {}).get("height") or 600)
        height = min(HEIGHT_RANGE[1], max(HEIGHT_RANGE[0], natural))
    fitted = _fit_for_export(figure, chart, width, height, grow=asked_height is None)
    return fitted, width, int(fitted["layout"]["height"])


def _add_notices(figure: dict, notices: tuple[str, ...]) -> None:
    """What the link asked for that the chart does not show goes on the chart's note line, as the page
    shows it in its notice box (an export never falls back silently)."""
    if not notices:
        return
    for annotation in figure.get("layout", {}).get("annotations", []):
        if is_source_annotation(annotation):
            said = " ".join(html.escape(n) for n in notices)
            annotation["text"] = f"{annotation['text']}<br>Not as linked: {said}"
            return


MAX_NOTES = 8  # notes printed under an exported chart; more are pointed to, not printed


def _export_notes(dataset: Dataset, state: ViewState, chart: str) -> list[str]:
    """What the page says on hover or beside the chart and an image would lose: the trends chart's break
    and caveat notes, the FBI's caution under the ranking."""
    if chart == "trends":
        return break_notes(dataset, state)
    if chart == "ranking":
        return [FBI_RANKING_CAUTION]
    return []


def _add_notes(figure: dict, chart: str, notes: list[str]) -> None:
    """Print the notes under the chart instead of "(hover)" / "(see note)" (issue 17 item 11)."""
    shown = notes[:MAX_NOTES]
    lines = [f"◇ {html.escape(n)}" if chart == "trends" else html.escape(n) for n in shown]
    if len(notes) > len(shown):
        more = len(notes) - len(shown)
        lines.append(f"… and {more} more: open the same view in the atlas and read its data notes.")
    for annotation in figure.get("layout", {}).get("annotations", []):
        if is_source_annotation(annotation):
            text = str(annotation.get("text") or "")
            text = text.replace(" (hover)", " (notes below)" if notes else "")
            text = re.sub(r"<br>[^<]*\(see note\)\.?", "", text)  # the note itself follows
            annotation["text"] = "<br>".join([text, *lines])
    for trace in figure.get("data", []):
        if isinstance(trace.get("name"), str):
            trace["name"] = trace["name"].replace(" (hover)", " (notes below)")


def render_chart(
    dataset: Dataset,
    state: ViewState,
    chart: str,
    fmt: str,
    width: int | None = None,
    height: int | None = None,
) -> bytes:
    """One chart of a view as PNG (at scale 2), SVG or PDF, with its summary as alt text.

    Raises RequestError for a bad chart, format or size and ExportError when rendering fails.
    """
    if fmt not in FORMATS:
        raise RequestError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
    check_export_request(state, chart, width, height)
    renderer = get_renderer()
    renderer.prestart()  # Chromium starts while Python builds the figure
    figure, width, height = _sized_chart(dataset, state, chart, width, height)
    scale = PNG_SCALE if fmt == "png" else 1
    data = renderer.render(RenderJob(figure, fmt, width, height, scale))
    title = (
        _strip_tags(figure.get("layout", {}).get("title", {}).get("text", "")) or "Safety Partnership Atlas"
    )
    description = get_chart(chart).summary(dataset, state)
    source = f"{SOURCE_CITATION}. {dataset_label(dataset.version)}."
    if fmt == "png":
        return png_with_text(data, {"Title": title, "Description": description, "Source": source})
    if fmt == "svg":
        return svg_with_text(data, title, f"{description} {source}")
    return pdf_with_metadata(data, _document_info(dataset, title, description))


def _fit_for_export(figure: dict, chart: str, width: int, height: int, *, grow: bool = False) -> dict:
    """Fix the size, and keep the title and the source line whole and inside the image. With ``grow``
    (no height asked for) the image grows by what the note lines add, so the plot keeps its size."""
    layout = figure.setdefault("layout", {})
    margin = layout.setdefault("margin", {})
    layout.update(width=width, height=height, autosize=False)
    layout.pop("uirevision", None)
    left, right = margin.get("l", 80), margin.get("r", 80)

    title = layout.get("title") or {}
    if title.get("text"):
        # Re-flow the title for the export's width (the page breaks long titles for its own width).
        size = title.get("font", {}).get("size", theme()["title_size"])
        page_lines = len(re.findall(r"<br\s*/?>", title["text"])) + 1
        lines = _wrap(re.sub(r"\s*<br\s*/?>\s*", " ", title["text"]), width - 20 - right, size)
        title["text"] = "<br>".join(lines)
        line = size * 1.3
        if len(lines) > 1:
            # plotly.js centres a multi-line title on its anchor: pad it back down by half.
            pad = title.get("pad", {})
            title["pad"] = {**pad, "t": round(pad.get("t", 0) + (len(lines) - 1) * line / 2)}
        extra = (len(lines) - 1) * line - (page_lines - 1) * line / 2
        margin["t"] = margin.get("t", 100) + max(0, round(extra))

    for annotation in layout.get("annotations", []):
        if not is_source_annotation(annotation):
            continue
        text = str(annotation.get("text") or "")
        size = annotation.get("font", {}).get("size", 14)
        lines = _wrap(text, width - left - 16, size)
        annotation["text"] = "<br>".join(lines)
        needed = abs(annotation.get("yshift", 0)) + round(len(lines) * size * 1.3) + 14
        before = margin.get("b", 80)
        margin["b"] = max(before, needed)
        if grow and margin["b"] > before:
            height = min(HEIGHT_RANGE[1], height + margin["b"] - before)
            layout["height"] = height
    if chart == "trends" and isinstance(layout.get("legend", {}).get("y"), int | float):
        # The legend sits 38 px above the plot (see figures/trends.py): keep it there, and make
        # room when a narrow export wraps it onto more rows.
        margin["t"] = margin.get("t", 125) + 30 * (_legend_rows(figure, width - left - right) - 1)
        plot_height = max(60, height - margin.get("t", 125) - margin.get("b", 115))
        layout["legend"]["y"] = 1 + 38 / plot_height
    return figure


def _cities_were_cut(state: ViewState) -> bool:
    """True when the link named more cities than a view takes (``state.parse_query`` keeps the
    first :data:`state.MAX_CITIES` and says so in a notice)."""
    return state.cities_cut


def _document_info(dataset: Dataset, title: str, description: str) -> dict[str, str]:
    return {
        "/Title": title,
        "/Subject": description,
        "/Author": "Safety Partnership Atlas",
        "/Keywords": f"{SOURCE_CITATION}; {dataset_label(dataset.version)}",
        "/Creator": "Safety Partnership Atlas (plotly, kaleido, Chromium)",
    }


def _wrap(text: str, width_px: float, size: float) -> list[str]:
    chars = max(20, int(width_px / _char_width(size)))
    lines: list[str] = []
    for part in re.split(r"<br\s*/?>", text):
        lines += textwrap.wrap(part, chars, break_on_hyphens=False) or [""]
    return lines


def chart_figure(
    dataset: Dataset, state: ViewState, chart: str, width: int | None = None, height: int | None = None
) -> tuple[dict, int, int]:
    """The page's figure for ``chart`` as a plain dict, sized and fitted for a static export."""
    return _sized_chart(dataset, state, chart, width, height)
