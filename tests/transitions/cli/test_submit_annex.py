"""`transitions submit` of a filled annex (.docx): the same application as the YAML example under
the same receipt, or every problem in French, a non-zero exit and nothing stored."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import func, select
from typer.testing import CliRunner

from documents.annex import annex_docx
from models.db import session_scope
from models.tables import Application, ApplicationVersion, AuditEntry, Notice
from tests.conftest import EXAMPLES, PROJECT_ROOT
from tests.documents.filling import arras_payload, fill_docx
from transitions.cli import app
from transitions.programmes import load_programme

runner = CliRunner()
PDF = EXAMPLES / "pieces" / "formulaire-cu-arras.pdf"
EXTRA = EXAMPLES / "pieces" / "projet-de-territoire-arras.pdf"


def _annex(tmp_path: Path, payload: dict) -> Path:
    definition = load_programme(PROJECT_ROOT / "programmes" / "cerdd-2015.yaml").definition
    path = tmp_path / "candidature-cu-arras.docx"
    path.write_bytes(fill_docx(annex_docx(definition), payload))
    return path


def _state(url: str) -> tuple[int, ...]:
    with session_scope(url) as session:
        return tuple(session.exec(select(func.count()).select_from(t)).one()
                     for t in (Application, ApplicationVersion, Notice, AuditEntry))


def _payloads(url: str) -> list[dict]:
    with session_scope(url) as session:
        versions = session.exec(select(ApplicationVersion).order_by(ApplicationVersion.version)).all()
        return [{k: v for k, v in version.payload.items() if k not in ("formulaire", "documents_complementaires")}
                for version in versions]


def test_a_filled_docx_gives_the_yaml_application_under_the_same_receipt(opened: str, tmp_path: Path) -> None:
    by_yaml = runner.invoke(app, ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2015-04-20T10:00",
                                  "--no-send"])
    assert by_yaml.exit_code == 0, by_yaml.output
    annex = _annex(tmp_path, arras_payload())
    by_annex = runner.invoke(app, ["submit", str(annex), "--piece", str(PDF), "--piece", str(EXTRA),
                                   "--at", "2015-04-21T10:00", "--no-send"])
    assert by_annex.exit_code == 0, by_annex.output
    said = " ".join(by_annex.output.split())
    receipt = " ".join(by_yaml.output.split()).split("récépissé ")[1].split(",")[0]
    assert f"récépissé {receipt}, version 2 (CU d'Arras)" in said
    first, second = _payloads(opened)
    assert first == second
    with session_scope(opened) as session:
        version = session.exec(select(ApplicationVersion).where(ApplicationVersion.version == 2)).one()
        files = [(item["fichier"]) for item in version.payload["formulaire"]]
        extra = [item["fichier"] for item in version.payload["documents_complementaires"]]
    assert files == ["candidature-cu-arras.docx", "formulaire-cu-arras.pdf"]
    assert extra == ["projet-de-territoire-arras.pdf"]


def test_a_broken_annex_is_refused_with_every_problem_and_nothing_stored(opened: str, tmp_path: Path) -> None:
    payload = arras_payload()
    payload["referents_politiques"][0]["courriel"] = "jm.lefebvre-cu-arras"
    del payload["besoins"]
    annex = _annex(tmp_path, {**payload, "besoins": ""})
    before = _state(opened)
    result = runner.invoke(app, ["submit", str(annex), "--piece", str(EXTRA.parent / "absent.pdf"),
                                 "--at", "2015-04-21T10:00", "--no-send"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "Candidature candidature-cu-arras.docx refusée : 3 problème(s). Rien n'a été enregistré." in said
    assert "Référent(s) politique(s) : ligne 1, courriel « jm.lefebvre-cu-arras » : adresse électronique" in said
    assert "Principaux besoins identifiés" in said and "rubrique non renseignée" in said
    assert "absent.pdf n'existe pas" in said
    assert "Traceback" not in result.output
    assert _state(opened) == before


def test_piece_options_belong_to_annexes_only(opened: str) -> None:
    result = runner.invoke(app, ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--piece", str(PDF),
                                 "--at", "2015-04-20T10:00"])
    assert result.exit_code == 2
    assert "--piece vaut pour un formulaire .docx, .odt ou .doc" in " ".join(result.output.split())
