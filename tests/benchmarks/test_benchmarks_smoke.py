"""The benchmark suite's smoke run (``python -m benchmarks run --smoke``), so the benchmarks cannot rot.

It checks that every benchmark runs and that its results are well formed and sane (no errors, byte
counts above zero, every section present). It never asserts a speed goal: CI machines are noisy, and
the goals are checked by the full run on a quiet machine (benchmarks/README.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("startup", "interaction", "first_load", "exports", "every_place", "scale", "load")

pytestmark = pytest.mark.browser  # it drives headless Chromium (first load, scale)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    if shutil.which("gunicorn") is None and not _has_module("gunicorn"):
        pytest.fail("gunicorn is missing: pip install -e '.[serve]' (or '.[bench]')")
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--smoke", "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.exists(), f"no results written:\n{proc.stderr[-4000:]}"
    data = json.loads(out.read_text())
    data["_returncode"], data["_stderr"] = proc.returncode, proc.stderr[-4000:]
    data["_out"] = out
    return data


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_every_section_ran_without_errors(results):
    assert results["_returncode"] == 0, results["_stderr"]
    assert results["meta"]["smoke"] is True
    assert set(results["sections"]) == set(SECTIONS)
    for name, section in results["sections"].items():
        assert "error" not in section, f"{name}: {section.get('error')}\n{section.get('traceback')}"
        assert section.get("errors") == 0, f"{name} counted errors: {section}"


def test_machine_info_is_recorded(results):
    machine = results["meta"]["machine"]
    assert machine["cores"] >= 1 and machine["python"]
    assert machine["packages"]["dash"] and machine["packages"]["plotly"]


def test_interaction_measures_all_three_apps(results):
    s = results["sections"]["interaction"]
    assert s["floor"]["noop"]["callbacks"][0]["wire_bytes"]["p50"] > 0
    for change in ("year", "offence", "measure", "cities"):
        atlas = s["atlas"][change]
        assert atlas["iterations"] >= 1 and atlas["total_wire_bytes"]["p50"] > 0
        assert all(cb["status"].keys() <= {"200", "204"} for cb in atlas["callbacks"])
    year = s["comparison"]["year"]
    assert year["atlas_wire_bytes_p50"] > 0 and year["naive_wire_bytes_p50"] > 0
    assert year["atlas_p50_ms"] > 0 and year["floor_p50_ms"] > 0 and year["naive_p50_ms"] > 0


def test_first_load_counts_bytes_and_time(results):
    s = results["sections"]["first_load"]
    for app in ("floor", "atlas"):
        first = s[app]["first_visit"]
        assert first["total_bytes"] > 0 and first["groups"]["js"]["bytes"] > 0
        assert s[app]["drawn_ms"]["p50"] > 0
        assert not first["foreign_requests"], "the page must not reach outside the machine"
    atlas = s["atlas"]["first_visit"]
    assert atlas["groups"]["geometry"]["bytes"] > 0 and atlas["groups"]["data"]["bytes"] > 0
    assert s["comparison"]["second_visit_geometry_transfers"] is not None


def test_exports_render_every_format(results):
    s = results["sections"]["exports"]
    charts = s["uncached"]["charts"]
    assert {key.split(".")[1] for key in charts} == {"png", "svg", "pdf"}
    for row in charts.values():
        assert row["cold"]["status"] == 200 and row["cold"]["bytes"] > 0
        assert row["warm"]["s"]["p50"] > 0
    assert s["uncached"]["briefing"]["bytes"] > 0 and s["uncached"]["csv"]["bytes"] > 0
    assert s["cached"]["charts"], "cached exports measured"


def test_scale_covers_real_and_synthetic_sets(results):
    s = results["sections"]["scale"]
    rows = s["map"]
    assert [r["synthetic"] for r in rows].count(False) == 2 and any(r["synthetic"] for r in rows)
    for row in rows:
        assert row["geojson_gzip_bytes"] > 0 and row["patch_gzip_bytes"] > 0 and row["patch_ms"]["p50"] > 0
        if row["synthetic"]:
            assert "SYNTHETIC" in row["name"]
    assert any("draw_ms" in (r.get("browser") or {}) for r in rows)
    assert [t["nominal"] for t in s["trends"]] == [1, 12, 28]
    assert all(t["bytes"] > 0 for t in s["trends"])
    assert "SYNTHETIC" in s["synthetic_note"]
    png = Path(results["_out"]).with_suffix(".scale.png")
    assert s["plot"] != str(PROJECT_ROOT / "benchmarks" / "scale.png"), "smoke must not overwrite the plot"
    if s["plot"] == str(png):
        assert png.stat().st_size > 0


def test_load_reports_throughput_latency_and_memory(results):
    s = results["sections"]["load"]
    assert s["requests"] > 0 and s["throughput_rps"] > 0 and s["interactions"] > 0
    assert s["latency_ms"]["p99"] >= s["latency_ms"]["p50"] > 0
    assert s["rss_mib"]["peak_worker"] > 0 and s["rss_mib"]["workers_seen"] >= 2


def test_startup_times_are_positive(results):
    s = results["sections"]["startup"]
    assert s["atlas_dev"]["s"]["p50"] > 0 and s["atlas_gunicorn"]["s"]["p50"] > 0


def test_report_renders_every_section(results, tmp_path):
    from benchmarks.report import END, START, write_readme

    readme = tmp_path / "README.md"
    readme.write_text(f"# Benchmarks\n\nintro\n\n{START}\nSTALE-TABLE\n{END}\n\nafter\n")
    write_readme(results, Path(results["_out"]), readme)
    text = readme.read_text()
    assert text.startswith("# Benchmarks\n\nintro") and text.rstrip().endswith("after")
    for heading in ("### Goals", "### 1.", "### 2.", "### 3.", "### 4.", "### 5.", "### 6."):
        assert heading in text
    assert "SMOKE RUN" in text and "STALE-TABLE" not in text


def test_every_place_measures_both_views(results):
    """Issue 13: the default view and every place side by side (bytes, first load, layer, export)."""
    s = results["sections"]["every_place"]
    for change in ("year", "offence", "measure"):
        row = s["interaction"]["changes"][change]
        assert row["default_total_wire_bytes_p50"] > 0 and row["all_places_total_wire_bytes_p50"] > 0
    assert s["first_load"]["all_places"]["drawn_ms"]["p50"] > 0
    assert s["layer"]["status"] == 200 and s["layer"]["wire_bytes"] > 100_000
    assert s["export"]["all_places"]["status"] == [200]
