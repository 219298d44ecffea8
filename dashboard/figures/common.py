"""Shared figure styling: fonts large enough for a projector, the source line, theme colours."""

from __future__ import annotations

import json
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go

from dashboard.settings import CONFIG_DIR

SOURCE_CITATION = "Source: FBI Uniform Crime Reporting; Census TIGER/CB boundaries"
SOURCE_ANNOTATION = "source"  # the ``name`` of every figure's source-line annotation

MEASURE_LABELS = {
    "rate": "rate per 100,000 residents",
    "ratio": "times the national rate",
    "count": "number of offences",
}


@lru_cache(maxsize=1)
def theme() -> dict:
    with open(CONFIG_DIR / "theme.json", encoding="utf-8") as handle:
        return json.load(handle)


def dataset_label(version: str) -> str:
    """How charts name the data version: "Dataset 69e0aa8b4f" (the id ``dataset_version`` gives is
    "data 69e0aa8b4f"; printed after "Dataset" it read "Dataset data 69e0aa8b4f")."""
    return f"Dataset {version.removeprefix('data ').strip()}"


def source_line(version: str, extra: str = "") -> str:
    """Two short lines so the citation survives narrow embeds: source, then version and note."""
    text = f"{SOURCE_CITATION}.<br>{dataset_label(version)}."
    return f"{text} {extra}" if extra else text


def wrap_title(title: str, width: int = 62) -> str:
    """Break a long title once, at the last space before ``width`` characters (no cut-off titles)."""
    if len(title) <= width or "<br>" in title:
        return title
    cut = title.rfind(" ", 0, width)
    return title if cut <= 0 else f"{title[:cut]}<br>{title[cut + 1 :]}"


def title_layout(title: str) -> dict:
    """Title pinned to the top-left; plotly.js centres a two-line title on its anchor, so a wrapped
    title gets half a line more padding to keep its first line inside the figure."""
    text = wrap_title(title)
    return {
        "text": text,
        "font": {"size": theme()["title_size"]},
        "x": 0.01,
        "xanchor": "left",
        "yref": "container",
        "y": 1,
        "yanchor": "top",
        "pad": {"t": 24 if "<br>" in text else 12},
    }


def base_layout(title: str, height: int) -> dict:
    """Layout properties every chart shares (title, projector-size fonts, white paper), as plain JSON."""
    t = theme()
    return {
        "title": title_layout(title),
        "font": {"family": t["font_family"], "size": t["font_size"]},
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 70, "b": 115},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hoverlabel": {"font": {"size": 15}},
    }


def source_annotation(version: str, note: str = "") -> dict:
    """The source line under the plot, as a plain annotation named ``source`` (exports, embeds and
    present mode find it by that name)."""
    return {
        "name": SOURCE_ANNOTATION,
        "text": source_line(version, note),
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": 0,
        "yshift": -52,
        "xanchor": "left",
        "yanchor": "top",
        "showarrow": False,
        "font": {"size": 14, "color": "#555555"},
        "align": "left",
    }


def is_source_annotation(annotation) -> bool:
    """True for the source-line annotation of a figure (a dict or a plotly annotation object)."""
    return annotation.get("name") == SOURCE_ANNOTATION


def apply_base_layout(fig: go.Figure, title: str, version: str, height: int, note: str = "") -> go.Figure:
    """Title that states the selection, source line at the bottom, fonts >= 14 px."""
    fig.update_layout(**base_layout(title, height))
    fig.add_annotation(source_annotation(version, note))
    return fig


def figure_from_spec(spec: dict) -> go.Figure:
    """A ``go.Figure`` over figure JSON built with plain dicts, without plotly's per-property validation.

    Validation (and ``make_subplots``/``add_vline``) made a 12-panel trends chart take over a second;
    the specs are built from known-good keys and ``tests/test_figure_specs.py`` checks that validating
    them changes nothing. Still a real figure: callers use ``.to_dict()``, ``.data`` and ``.layout``.
    """
    return go.Figure(spec, _validate=False)


def format_value(value: float | None, measure: str) -> str:
    """Human text for one value in the given measure; "no data" for missing."""
    if value is None or pd.isna(value):
        return "no data"
    if measure == "ratio":
        return f"{value:.2f}× national"
    if measure == "rate":
        return f"{value:,.1f} per 100,000"
    return f"{int(value):,}"
