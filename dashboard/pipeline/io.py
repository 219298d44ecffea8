"""Reading raw sources safely and writing ``geodata/`` deterministically and atomically.

Determinism lets a test rebuild the data and compare bytes; atomicity means a failed
build never leaves a half-written file behind (write to temporary files, then rename).
On the reading side, a source file the pipeline cannot parse stops the build with a
:class:`SourceFileError` naming the file (and row when known), never a traceback from
deep inside xlrd or pandas, and never a quietly shortened table.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.errors import DataFileError


class SourceFileError(DataFileError):
    """A raw source file is missing, truncated or unparseable; the message names it and where."""


# ----------------------------------------------------------------------------------------------------
# Reading sources
# ----------------------------------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """One line about an exception: our own ValueErrors already read as sentences."""
    text = " ".join(str(exc).split()) or repr(exc)
    return text if type(exc) is ValueError else f"{type(exc).__name__}: {text}"


@contextmanager
def source_errors(path: Path, reading: str = "") -> Iterator[None]:
    """Turn any failure while parsing ``path`` into a SourceFileError that names the file.

    ``reading`` says what the file was read as ("as an Excel .xls workbook"). JSON and
    UTF-8 errors keep their line; an error that already names a data file passes through.
    """
    path = Path(path)
    try:
        yield
    except DataFileError:
        raise
    except FileNotFoundError as exc:
        missing = Path(exc.filename) if exc.filename else path
        raise SourceFileError(missing, "file is missing") from exc
    except json.JSONDecodeError as exc:
        raise SourceFileError(path, f"is not valid JSON ({exc.msg}, column {exc.colno})", exc.lineno) from exc
    except Exception as exc:  # every parser failure ends here, with the file's name
        what = f"cannot be read {reading}" if reading else "cannot be parsed"
        hint = "; is the file truncated or of another format?" if reading else ""
        raise SourceFileError(path, f"{what} ({describe(exc)}){hint}") from exc


def read_source_bytes(path: Path) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise SourceFileError(path, "file is missing" if not path.exists() else "is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise SourceFileError(path, "is empty")
    return data


def decode_source(data: bytes, path: Path, encoding: str = "utf-8-sig") -> str:
    """Text of a source file; undecodable bytes are reported with their line."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceFileError(
            path,
            f"is not {encoding.split('-sig')[0].upper()} text (byte 0x{data[exc.start]:02x}): garbled?",
            line,
        ) from exc


def check_source_csv(
    path: Path,
    *,
    final_newline: bool = True,
    columns: Iterable[str] = (),
    encoding: str = "utf-8-sig",
) -> str:
    """A raw CSV whose rows all have the first row's width; returns its text.

    A file cut short mid-row either lacks its final newline or ends in a short row, and
    pandas would pad that row with blanks: a silently shorter table. ``final_newline=False``
    for sources that never had one. ``columns`` must all appear in the first row (header).
    """
    path = Path(path)
    text = decode_source(read_source_bytes(path), path, encoding)
    if final_newline and not text.endswith("\n"):
        raise SourceFileError(
            path, "does not end with a newline: the file looks truncated", text.count("\n") + 1
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width: int | None = None
    end = 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row:
                continue
            if width is None:
                width = len(row)
                missing = [c for c in columns if c not in row]
                if missing:
                    raise SourceFileError(path, f"missing column(s): {', '.join(missing)}", start)
            elif len(row) != width:
                raise SourceFileError(
                    path, f"has {len(row)} fields, expected {width} (truncated or garbled row)", start
                )
    except csv.Error as exc:
        raise SourceFileError(
            path, f"cannot be parsed as CSV ({exc}): truncated or garbled?", end + 1
        ) from exc
    return text


def check_zip(path: Path, members: tuple[str, ...] = ()) -> None:
    """A zip archive that opens, whose members pass their CRC check and include ``members`` suffixes."""
    path = Path(path)
    read_source_bytes(path)
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise SourceFileError(path, f"is not a readable zip archive ({describe(exc)}): truncated?") from exc
    if bad is not None:
        raise SourceFileError(path, f"member {bad} is corrupt (CRC mismatch): truncated or garbled?")
    missing = [suffix for suffix in members if not any(n.endswith(suffix) for n in names)]
    if missing:
        raise SourceFileError(path, f"has no {', '.join(missing)} member")


def load_source_json(path: Path) -> Any:
    """A raw JSON/GeoJSON source, parsed; a cut file is refused with the line where it stops."""
    path = Path(path)
    text = decode_source(read_source_bytes(path), path)
    with source_errors(path):
        return json.loads(text)


# ----------------------------------------------------------------------------------------------------
# Writing geodata/
# ----------------------------------------------------------------------------------------------------


def _stage(path: Path, text: str) -> Path:
    """Write ``text`` to a hidden temporary file next to ``path`` (same file system), flushed to disk."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; published files are world-readable
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return Path(tmp_name)


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, LF newlines) to ``path`` via a temporary file and rename."""
    write_files_atomic(Path(path).parent, {Path(path).name: text})


def write_files_atomic(folder: Path, files: Mapping[str, str]) -> None:
    """Write several files as one step: all are staged as temporary files first, then renamed.

    If staging any file fails (disk full, permissions), no target is touched and the
    temporary files are removed. The renames themselves are atomic per file and happen
    only once every file's full text is safely on disk.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in files.items():
            target = folder / name
            staged.append((_stage(target, text), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    _sync_dir(folder)


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
