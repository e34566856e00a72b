"""Application files: attachments, guidance warnings, register checks, announced EPCI and their reminders."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml
from sqlmodel import select
from typer.testing import CliRunner

from models import intents
from models.call import launch_call
from models.db import session_scope
from models.errors import InvalidInput, Refused
from models.schedule import run_stage
from models.tables import ApplicationFile, Notice
from notifications.render import render_notice
from tests.conftest import EXAMPLES, at, ctx_of
from transitions.cli import app
from transitions.intake import read_application, submit_form

ARRAS = EXAMPLES / "candidature-cu-arras.yaml"


def _copy_example(tmp_path: Path, change=None) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the Arras example with its attachments, optionally edited."""
    shutil.copytree(EXAMPLES / "pieces", tmp_path / "pieces")
    data = yaml.safe_load(ARRAS.read_text(encoding="utf-8"))
    if change:
        change(data)
    path = tmp_path / "candidature.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_attachments_are_stored_with_their_digest(loaded: str) -> None:
    with session_scope(loaded) as session:
        launch_call(ctx_of(session), at("2015-04-02T09:00"))
    submit_form(loaded, read_application(ARRAS), at("2015-04-20T10:00"), None)
    with session_scope(loaded) as session:
        files = session.exec(select(ApplicationFile)).all()
        ack = session.exec(select(Notice).where(Notice.kind == "accuse_reception")).first()
    assert sorted((f.filename, f.media_type.split("/")[-1]) for f in files) == [
        ("formulaire-cu-arras.docx", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("formulaire-cu-arras.pdf", "pdf"), ("projet-de-territoire-arras.pdf", "pdf")]
    assert all(len(f.sha256) == 64 and f.size == len(f.content) for f in files)
    assert ack is not None and "formulaire-cu-arras.pdf (PDF" in ack.body_text


def test_missing_and_mistyped_attachments_are_all_reported(tmp_path: Path) -> None:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        data["formulaire"] = [{"fichier": "pieces/absent.doc"}, {"fichier": "pieces/faux.pdf"}]
        data["documents_complementaires"] = [{"fichier": "pieces/formulaire-cu-arras.docx.pdf"}]

    path = _copy_example(tmp_path, change)
    (tmp_path / "pieces" / "faux.pdf").write_text("ceci n'est pas un PDF", encoding="utf-8")
    shutil.copy(tmp_path / "pieces" / "formulaire-cu-arras.docx", tmp_path / "pieces" / "formulaire-cu-arras.docx.pdf")
    with pytest.raises(InvalidInput) as error:
        read_application(path)
    details = error.value.details
    assert details[0] == ("formulaire[0].fichier : le fichier « pieces/absent.doc » est introuvable ou inaccessible "
                          "parmi les pièces de la candidature")
    assert details[1].startswith("formulaire[1].fichier : faux.pdf porte l'extension .pdf mais son contenu n'est "
                                 "pas celui d'un fichier PDF")
    assert details[2] == ("documents_complementaires[0].fichier : formulaire-cu-arras.docx.pdf porte l'extension "
                          ".pdf mais contient un fichier Word (.docx)")
    assert "version PDF" in details[3] and "traitement de texte" in details[4]


def test_giant_text_is_refused_with_its_limit(tmp_path: Path) -> None:
    path = _copy_example(tmp_path, lambda data: data.update(motivations="x" * 10_001))
    with pytest.raises(InvalidInput) as error:
        read_application(path)
    assert len(error.value.details) == 1
    assert error.value.details[0].startswith("motivations (ligne ")
    assert error.value.details[0].endswith(" : texte trop long (limite : 10000)")


def test_name_differing_from_register_and_foreign_commune_are_warnings(tmp_path: Path) -> None:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        data["collectivite_chef_de_file"]["nom"] = "Communauté urbaine d'Arras"
        data["partenaires"].append({"nom": "Lens", "type": "commune", "siren": "216204982"})

    from models.applications import assess
    from models.register import read_register
    from tests.conftest import PROJECT_ROOT

    register = read_register((PROJECT_ROOT / "data" / "epci-npdc-2015.csv").read_text(encoding="utf-8"), ("59", "62"))
    decision = assess(read_application(_copy_example(tmp_path, change)).form, register, "motif")
    assert decision.admissible
    assert decision.warnings == [
        "Le nom déclaré « Communauté urbaine d'Arras » diffère de celui du registre « CU d'Arras » (SIREN 200033579).",
        "La commune partenaire « Lens » n'est pas membre de CU d'Arras.",
    ]


def test_json_application_and_csv_export(loaded: str, tmp_path: Path) -> None:
    with session_scope(loaded) as session:
        launch_call(ctx_of(session), at("2015-04-02T09:00"))
    shutil.copytree(EXAMPLES / "pieces", tmp_path / "pieces")
    data = yaml.safe_load(ARRAS.read_text(encoding="utf-8"))
    (tmp_path / "candidature.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["submit", str(tmp_path / "candidature.json"), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 0, result.output
    exported = tmp_path / "candidatures.csv"
    result = runner.invoke(app, ["applications", "--csv", str(exported)])
    assert result.exit_code == 0, result.output
    raw = exported.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the accents right
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert [(r["recepisse"], r["chef_de_file"], r["deposee_le"]) for r in rows] == [
        ("CERDD-2015-0001", "CU d'Arras", "2015-04-20T10:00:00+02:00")]  # ISO 8601, Paris time: sortable


def test_schema_command_prints_the_form_schema() -> None:
    result = CliRunner().invoke(app, ["schema", "application"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "collectivite_chef_de_file" in schema["required"]
    # In French: every title (pydantic would say « Qualite », « ApplicationForm », « Pistes De Travail »)
    from models.forms import TITLES

    titles = [schema["title"], *(d["title"] for d in schema["$defs"].values())]
    for node in [schema, *schema["$defs"].values()]:
        titles += [field["title"] for field in node.get("properties", {}).values()]
    assert set(titles) <= set(TITLES.values()), set(titles) - set(TITLES.values())
    assert schema["$defs"]["Representative"]["description"].startswith("Une personne")
    # The rule the checks apply (models/attachments.py): a PDF and a .doc, .docx or .odt version.
    rule = schema["properties"]["formulaire"]["description"]
    assert all(kind in rule for kind in ("PDF", ".doc", ".docx", ".odt"))


def test_announced_epci_are_reminded_until_they_submit(loaded: str) -> None:
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        launch_call(ctx, at("2015-04-02T09:00"))
        intents.declare(ctx, siren="200033579", contact_name="Claire Dufour",
                        contact_email="claire.dufour@cu-arras.example.org", at=at("2015-04-10T10:00"))
        intents.declare(ctx, siren="246200729", contact_name="Sophie Lemaire",
                        contact_email="s.lemaire@boulonnais.example.org", at=at("2015-04-10T10:00"))
        assert not intents.declare(ctx, siren="246200729", contact_name="Sophie Lemaire",
                                   contact_email="s.lemaire@boulonnais.example.org", at=at("2015-04-11T10:00"))

    def tick(instant: str) -> int:
        with session_scope(loaded) as session:
            return run_stage(session, "relances_appel", at(instant), renderer=render_notice)

    # 5 working days before Thursday 7 May 2015 is Wednesday 29 April (Friday 1 May is a holiday).
    assert [tick("2015-04-28T09:00"), tick("2015-04-29T09:00"), tick("2015-04-29T09:00")] == [0, 2, 0]
    submit_form(loaded, read_application(ARRAS), at("2015-04-30T10:00"), None)
    assert [tick("2015-05-05T09:00"), tick("2015-05-07T12:00")] == [1, 0]
    with session_scope(loaded) as session:
        reminders = session.exec(select(Notice).where(Notice.kind == "rappel_date_limite")).all()
    assert sorted((r.recipient_email, r.created_at) for r in reminders) == [
        ("claire.dufour@cu-arras.example.org", at("2015-04-29T09:00")),
        ("s.lemaire@boulonnais.example.org", at("2015-04-29T09:00")),
        ("s.lemaire@boulonnais.example.org", at("2015-05-05T09:00")),
    ]


@pytest.mark.parametrize(("siren", "email", "when", "error", "message"), [
    ("216209106", "x@example.org", "2015-04-10T10:00", InvalidInput, "commune Béthune"),
    ("200033578", "x@example.org", "2015-04-10T10:00", InvalidInput, "clé de contrôle"),
    ("200033579", "x-at-example", "2015-04-10T10:00", InvalidInput, "adresse électronique valide"),
    ("200033579", "x@example.org", "2015-05-07T12:00", Refused, "pendant l'appel"),
])
def test_an_announcement_must_come_from_an_epci_during_the_call(
        loaded: str, siren: str, email: str, when: str, error: type[Exception], message: str) -> None:
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        launch_call(ctx, at("2015-04-02T09:00"))
        with pytest.raises(error, match=message):
            intents.declare(ctx, siren=siren, contact_name="X", contact_email=email, at=at(when))


def test_an_announcement_dated_back_into_the_call_is_refused_once_the_call_is_closed(closed: str) -> None:
    from models.tables import Intent

    with session_scope(closed) as session, pytest.raises(Refused, match="L'appel est clos"):
        intents.declare(ctx_of(session), siren="246201016", contact_name="D H", contact_email="d@example.org",
                        at=at("2015-05-01T10:00"))
    with session_scope(closed) as session:
        assert session.exec(select(Intent).where(Intent.siren == "246201016")).first() is None
