"""File metadata for exports: title and alt text stored in PNG, SVG and PDF files."""

from __future__ import annotations

import html
import io
import struct
import zlib

from dashboard.errors import ExportError

# ---------------------------------------------------------------------------------------------
# File metadata (alt text)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LATIN1_FALLBACKS = str.maketrans({"–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "..."})


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_with_text(png: bytes, items: dict[str, str]) -> bytes:
    """Insert tEXt chunks (Latin-1; e.g. "Description" = alt text) right after IHDR."""
    if not png.startswith(PNG_SIGNATURE):
        raise ExportError("renderer returned something that is not a PNG")
    (ihdr_length,) = struct.unpack(">I", png[8:12])
    end = 8 + 8 + ihdr_length + 4
    chunks = b"".join(
        _png_chunk(
            b"tEXt",
            key.encode("latin-1")[:79]
            + b"\0"
            + value.translate(_LATIN1_FALLBACKS).encode("latin-1", "replace"),
        )
        for key, value in items.items()
    )
    return png[:end] + chunks + png[end:]


def svg_with_text(svg: bytes, title: str, description: str) -> bytes:
    """Give the SVG an accessible name: ``<title>`` and ``<desc>`` first inside the root element."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    end = text.find(">", start)
    if start < 0 or end < 0:
        raise ExportError("renderer returned something that is not an SVG")
    opening = text[start:end]
    if "role=" not in opening:
        opening += ' role="img"'
    inserted = f"<title>{html.escape(title)}</title><desc>{html.escape(description)}</desc>"
    return (text[:start] + opening + ">" + inserted + text[end + 1 :]).encode("utf-8")


def pdf_with_metadata(pdf: bytes, metadata: dict[str, str]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata(metadata)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
