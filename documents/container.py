"""A received word-processor file opened as an archive we do not trust: recognised by content,
inflated under bounds (`models.archives.inflate`), refused when it carries macros, and reduced to
the one XML part the reader needs (`word/document.xml` or `content.xml`). A Word 97 file (.doc)
is first converted to .docx by LibreOffice (`documents.convert`). External relationships,
embedded objects and every other part are never read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from documents.convert import convert_doc
from models.archives import CONTENT_TYPES, ArchiveRefused, Limits, inflate, macro_problem
from models.attachments import MAX_BYTES
from models.errors import InvalidInput

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODT_TYPE = "application/vnd.oasis.opendocument.text"
DOCX_BODY = "word/document.xml"
ODT_BODY = "content.xml"
LIMITS = Limits(members=1_000, total=50 * 1024 * 1024, member=20 * 1024 * 1024)
"""A filled annex holds about 15 members and a document.xml under 1 MiB; images may add a few MiB."""


class Kind(StrEnum):
    DOCX = "docx"
    ODT = "odt"


@dataclass(frozen=True)
class Body:
    """The XML part holding a document's text, and what the document was (`doc` once converted)."""

    kind: Kind
    xml: bytes
    converted_from_doc: bool = False


def open_document(data: bytes) -> Body:
    """The body XML of a .docx, .odt or .doc (`data`). InvalidInput in French, without the file's
    name (the caller names it): empty, too large, neither format, unreadable, bounds exceeded,
    macros."""
    if not data:
        raise InvalidInput("le fichier est vide")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"le fichier dépasse la limite de {MAX_BYTES // 1024 // 1024} Mo")
    if data.startswith(OLE_MAGIC):
        body = open_document(convert_doc(data))
        return Body(body.kind, body.xml, converted_from_doc=True)
    if not data.startswith(b"PK\x03\x04"):
        raise InvalidInput("ce n'est ni un document Word (.docx, .doc) ni un document OpenDocument (.odt)")
    try:
        archive = inflate(data, LIMITS, keep=(CONTENT_TYPES, DOCX_BODY, ODT_BODY, "mimetype"))
    except ArchiveRefused as exc:
        raise InvalidInput(exc.message) from None
    macros = macro_problem(archive)
    if macros:
        raise InvalidInput(macros)
    mimetype = archive.members.get("mimetype", b"").decode("ascii", "replace").strip()
    if mimetype == ODT_TYPE and ODT_BODY in archive.members:
        return Body(Kind.ODT, archive.members[ODT_BODY])
    if mimetype.startswith("application/vnd.oasis.opendocument"):
        raise InvalidInput("ce document OpenDocument n'est pas un texte (.odt)")
    if DOCX_BODY in archive.members:
        return Body(Kind.DOCX, archive.members[DOCX_BODY])
    raise InvalidInput("cette archive n'est ni un document Word (.docx) ni un document OpenDocument (.odt)")
