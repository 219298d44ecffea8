"""Deterministic, atomic writers for the files in ``geodata/``.

Determinism lets a test rebuild the data and compare bytes; atomicity means a failed
build never leaves a half-written file behind (write to a temporary file, then rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, LF newlines) to ``path`` via a temporary file and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; published files are world-readable
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def csv_text(frame: pd.DataFrame) -> str:
    """Render a DataFrame as CSV text: no index, empty cell for missing, LF newlines."""
    return frame.to_csv(index=False, lineterminator="\n", na_rep="")


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, csv_text(frame))


def geojson_text(feature_collection: dict[str, Any]) -> str:
    """Compact, key-ordered GeoJSON text with one feature per line (diff-friendly)."""
    features = feature_collection.get("features", [])
    head = {k: v for k, v in feature_collection.items() if k != "features"}
    lines = [json.dumps(f, separators=(",", ":"), sort_keys=True, ensure_ascii=False) for f in features]
    head_text = json.dumps(head, separators=(",", ":"), sort_keys=True, ensure_ascii=False)[:-1]
    body = ",\n".join(lines)
    sep = "," if head else ""
    return f'{head_text}{sep}"features":[\n{body}\n]}}\n'


def write_geojson_atomic(feature_collection: dict[str, Any], path: Path) -> None:
    write_text_atomic(path, geojson_text(feature_collection))
