"""Deterministic bytes for a generated zip document: the same members in the same order, with one
fixed date, so that the same programme gives the same file, byte for byte."""

from __future__ import annotations

import io
import zipfile

FIXED_DATE = (2015, 4, 2, 0, 0, 0)


def repack(data: bytes, *, first_stored: str | None = None) -> bytes:
    """The zip archive `data` (one we generated, so trusted) rewritten with FIXED_DATE on every member;
    `first_stored` (an ODF's `mimetype`) is written first and uncompressed, as ODF requires."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = [(info.filename, source.read(info)) for info in source.infolist()]
    if first_stored is not None:
        members.sort(key=lambda member: member[0] != first_stored)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_STORED if name == first_stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return buffer.getvalue()
