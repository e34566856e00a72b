"""The annex generated, filled by hand-like tools (python-docx, odfpy, LibreOffice) and read back
into the same application as the YAML example; a document typed from the 2015 PDF read or refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from documents.annex import annex_docx, annex_odt, read_annex
from models.errors import InvalidInput
from models.forms import SECTIONS, ApplicationForm
from models.programme import ProgrammeDefinition
from tests.conftest import PROJECT_ROOT
from tests.documents.filling import arras_payload, fill_docx, fill_odt, hand_built_docx, libreoffice_convert
from tests.needs import soffice_path
from transitions.programmes import load_programme


@pytest.fixture(scope="module")
def definition() -> ProgrammeDefinition:
    return load_programme(PROJECT_ROOT / "programmes" / "cerdd-2015.yaml").definition


def _form(payload: dict) -> dict:
    return ApplicationForm.model_validate(payload).model_dump()


def test_the_blank_annex_shows_every_section_and_is_the_same_bytes_each_time(definition: ProgrammeDefinition) -> None:
    for generate in (annex_docx, annex_odt):
        first, second = generate(definition), generate(definition)
        assert first == second
        with pytest.raises(InvalidInput) as refused:
            read_annex("vierge", first)
        said = refused.value.details
        assert len(said) == 10  # one per field left empty, each named by its section's title
        assert "Référent(s) politique(s) : indiquez au moins une personne" in said
        assert all(any(p.startswith(section.title + " : ") for p in said)
                   for section in SECTIONS if section.key != "partenaires")  # partners are optional


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_an_annex_filled_with_python_docx_or_odfpy_reads_back_as_the_yaml(definition: ProgrammeDefinition,
                                                                        fmt: str) -> None:
    blank = annex_docx(definition) if fmt == "docx" else annex_odt(definition)
    filled = fill_docx(blank, arras_payload()) if fmt == "docx" else fill_odt(blank, arras_payload())
    assert _form(read_annex(f"candidature.{fmt}", filled)) == _form(arras_payload())


def test_a_filled_annex_saved_by_libreoffice_as_odt_and_doc_reads_back_the_same(
        definition: ProgrammeDefinition, tmp_path: Path) -> None:
    soffice = soffice_path()
    source = tmp_path / "candidature.docx"
    source.write_bytes(fill_docx(annex_docx(definition), arras_payload()))
    expected = _form(arras_payload())
    for target in ("odt", "doc"):
        converted = libreoffice_convert(soffice, source, target, tmp_path / "profil")
        assert _form(read_annex(converted.name, converted.read_bytes())) == expected, target


def test_a_word_97_file_without_libreoffice_asks_for_docx_odt_or_the_online_form(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on this PATH
    assert shutil.which("soffice") is None
    with pytest.raises(InvalidInput) as refused:
        read_annex("candidature.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert "enregistrez le formulaire en .docx ou en .odt, ou candidatez en ligne" in refused.value.message


def test_a_docx_typed_from_the_2015_pdf_with_lines_and_no_table_is_read() -> None:
    assert _form(read_annex("tape.docx", hand_built_docx())) == _form(arras_payload())


def test_a_docx_typed_from_the_pdf_with_sections_missing_is_refused_naming_them() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_annex("tape.docx", hand_built_docx(drop=("referents_politiques", "besoins")))
    assert refused.value.details == [
        "Référent(s) politique(s) : rubrique absente du document",
        "Principaux besoins identifiés (au sein de votre organisation, à l'échelle du territoire) dans le champs "
        "des nouveaux modèles économiques : rubrique absente du document",
    ]


def test_wrong_values_are_named_by_section_title(definition: ProgrammeDefinition) -> None:
    payload = arras_payload()
    payload["referents_politiques"][0]["courriel"] = "jm.lefebvre-cu-arras"
    payload["collectivite_chef_de_file"]["siren"] = "200033578"
    payload["themes"] = []
    with pytest.raises(InvalidInput) as refused:
        read_annex("candidature.docx", fill_docx(annex_docx(definition), payload))
    assert refused.value.details == [
        "Nom de la collectivité « chef de file » et coordonnées : SIREN « 200033578 » : le numéro SIREN 200033578 "
        "est invalide (clé de contrôle fausse)",
        "Référent(s) politique(s) : ligne 1, courriel « jm.lefebvre-cu-arras » : adresse électronique invalide : "
        "il manque le @",
        "Thèmes ou pistes de travail envisagés (grands domaines d'actions, projets potentiels...sur la mobilité, "
        "l'habitat, l'alimentation, etc.) : thèmes : cochez au moins un thème",
    ]


@pytest.mark.parametrize("writer", [annex_docx, annex_odt], ids=["docx", "odt"])
def test_the_annex_written_filled_by_the_product_reads_back_as_its_answers(definition: ProgrammeDefinition,
                                                                           writer: Any) -> None:
    """What the demo mails and what an application exported as its annex hold: the product's own
    writers, given a form's answers, write a document the reader gives back unchanged."""
    payload = arras_payload()
    assert _form(read_annex("candidature", writer(definition, payload))) == _form(payload)
    assert writer(definition, payload) == writer(definition, payload)
    assert writer(definition, payload) != writer(definition)
