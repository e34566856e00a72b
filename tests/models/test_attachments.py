"""The attachments' rules on hostile files: a macro-enabled document renamed to its plain
extension (.docm as .docx, .xlsm as .xlsx, an .odt with Basic macros) is refused at every door
(upload, file intake, mail), as the annex reader refuses it."""

from __future__ import annotations

import io
import zipfile

import pytest

from models.attachments import FileRefused, check_upload, zip_problem
from tests.draft_data import arras_files


def _with(data: bytes, extra: dict[str, bytes], replace: dict[str, bytes] | None = None) -> bytes:
    """`data` (a zip document) rewritten with members added or replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, (replace or {}).get(item.filename, source.read(item.filename)))
        for name, content in extra.items():
            target.writestr(name, content)
    return out.getvalue()


def _odt() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("Basic/Standard/Module1.xml", "<script:module>Shell(\"calc\")</script:module>")
    return out.getvalue()


DOCX = arras_files()["formulaire-cu-arras.docx"]


@pytest.mark.parametrize(("name", "data"), [
    ("formulaire.docx", _with(DOCX, {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 macro"})),
    ("formulaire.docx", _with(DOCX, {}, {"[Content_Types].xml": zipfile.ZipFile(io.BytesIO(DOCX)).read(
        "[Content_Types].xml").replace(b"wordprocessingml.document.main+xml",
                                       b"ms-word.document.macroEnabled.main+xml")})),
    ("formulaire.odt", _odt()),
])
def test_a_document_with_macros_is_refused_whatever_its_name(name: str, data: bytes) -> None:
    assert zip_problem(data) is not None and "macros" in str(zip_problem(data))
    with pytest.raises(FileRefused, match="contient des macros"):
        check_upload(name, data, allowed={"docx", "odt", "pdf"}, field="pièce jointe")


def test_the_plain_annex_is_accepted() -> None:
    assert zip_problem(DOCX) is None
    assert check_upload("formulaire.docx", DOCX, allowed={"docx"}, field="pièce jointe").kind == "docx"
