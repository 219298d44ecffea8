"""Typed errors: what went wrong decides the answer (only a bad request is a 400)."""

from __future__ import annotations

from pathlib import Path


class DataFileError(ValueError):
    """A data file is missing or malformed; the message says which file, where and what.

    ``unit`` names what ``line`` counts ("line" for text files, "row" for spreadsheet rows).
    """

    def __init__(self, path: Path, problem: str, line: int | None = None, *, unit: str = "line") -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}" + (f", {unit} {line}" if line is not None else "")
        super().__init__(f"{where}: {problem}")


class ExportError(RuntimeError):
    """Rendering failed or is unavailable (no browser, crash, timeout): HTTP 503."""


class ExportTimeout(ExportError):
    """A render ran past its time limit; the browser was killed and restarts on the next export."""


class RequestError(ValueError):
    """The request asks for something the limits refuse (size, city count, chart, format): HTTP 400.

    The message is written for the person who sent the request and is sent back as it is.
    """
