"""Small JavaScript probes into the rendered Plotly graphs (what a person sees on screen)."""

from __future__ import annotations

import json


def wait_for_map(page, timeout: float = 30_000) -> None:
    """Until MapLibre has loaded, the page has fitted the lower 48 (assets/atlas.js) and at least one city
    polygon is drawn."""
    page.wait_for_function(
        """() => {
            const gd = document.querySelector('#map .js-plotly-plot');
            const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
            if (!sub || !sub.map || !sub.map.loaded() || !gd._atlasFitted || sub.map.isMoving()) return false;
            const layers = sub.map.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
            return sub.map.queryRenderedFeatures({layers}).length > 0;
        }""",
        timeout=timeout,
    )
    # ... and has finished drawing the fitted view (a busy main thread swallowed the next click or keys)
    page.evaluate(
        """() => new Promise(done => {
            const map = document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot.map;
            map.once('idle', done);
            map.triggerRepaint();
        })"""
    )


def rendered_city_ids(page) -> list[str]:
    """GEOIDs of the polygons MapLibre actually drew (fill layers), deduplicated."""
    return page.evaluate(
        """() => {
            const sub = document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot;
            const layers = sub.map.getStyle().layers.filter(l => l.type === 'fill').map(l => l.id);
            // MapLibre keeps the feature id (our GEOID) as a number: restore the leading zero.
            const ids = sub.map.queryRenderedFeatures({layers}).map(f => String(f.id).padStart(7, '0'));
            return [...new Set(ids)];
        }"""
    )


def graph_data(page, graph_id: str) -> list[dict]:
    """The traces currently drawn in a dcc.Graph."""
    return json.loads(
        page.evaluate(f"() => JSON.stringify(document.querySelector('#{graph_id} .js-plotly-plot').data)")
    )


def graph_layout_title(page, graph_id: str) -> str:
    return page.evaluate(f"() => document.querySelector('#{graph_id} .js-plotly-plot').layout.title.text")


def map_pixel(page, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a lon/lat on the map (MapLibre projection + canvas offset)."""
    point = page.evaluate(
        """([lon, lat]) => {
            const sub = document.querySelector('#map .js-plotly-plot')._fullLayout.map._subplot;
            const p = sub.map.project([lon, lat]);
            const rect = sub.map.getCanvas().getBoundingClientRect();
            return [rect.left + p.x, rect.top + p.y];
        }""",
        [lon, lat],
    )
    return float(point[0]), float(point[1])


def trend_panel_titles(page) -> list[str]:
    """The small-multiple panel titles (city labels), not the source line or program markers."""
    texts = page.evaluate(
        """() => [...document.querySelectorAll('#trends .annotation-text')].map(e => e.textContent)"""
    )
    return [t for t in texts if not t.startswith("Source") and t not in ("PSP", "VRN")]


def wait_for_trends(page, expected_title: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        """(title) => [...document.querySelectorAll('#trends .annotation-text')]
                        .some(e => e.textContent === title)""",
        arg=expected_title,
        timeout=timeout,
    )
