"""Cell values of an Excel .xlsx workbook, laid out as the .xls reader lays them out.

The FBI published CIUS 2021 and later as .xlsx (Office Open XML), which xlrd no longer reads; openpyxl
does. Cells come back the way ``cius_common.read_xls_rows`` gives them, so the same city-table parser
reads both formats: empty cells are "", numbers are floats, text is text.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dashboard.pipeline.io import read_source_bytes, source_errors

log = logging.getLogger(__name__)


def _cell(value: object) -> object:
    """One cell as xlrd would give it: "" for empty, float for a number, the text otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def read_xlsx_rows(path: Path) -> list[list[object]]:
    """Cell values of the first sheet (CIUS workbooks have one), every row as long as the widest.

    A truncated or garbled workbook stops the build with a SourceFileError naming the file.
    """
    import openpyxl  # only the post-2020 tables need it

    read_source_bytes(path)  # missing or empty file: a plain message, not a zipfile error
    with source_errors(path, "as an Excel .xlsx workbook"):
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
        try:
            if len(book.sheetnames) != 1:
                log.warning("%s: %d sheets, reading the first", Path(path).name, len(book.sheetnames))
            rows = [[_cell(v) for v in row] for row in book[book.sheetnames[0]].iter_rows(values_only=True)]
        finally:
            book.close()
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]
