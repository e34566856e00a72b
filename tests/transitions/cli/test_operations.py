"""A Cerdd project manager runs the programme from the command line, step by step."""

from __future__ import annotations

from pathlib import Path
from re import fullmatch

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import EXAMPLES, PROGRAMME
from transitions.cli import app

pytestmark = pytest.mark.prefect
runner = CliRunner()
PILOTS = {"200033579": "CU d'Arras", "246200364": "CA de Lens - Liévin", "200040947": "CC de Flandre Intérieure"}


def run(*args: str, expect: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})  # one table row per line
    assert result.exit_code == expect, result.output
    return " ".join(result.output.split())


def test_from_the_call_to_the_first_deliverable(prefect_server: None, db_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    from config.settings import reset_settings

    monkeypatch.setenv("PORTAL_SECRET", "k3Jx9QvT2mLw8RbZ5nYc7HdF4sGp6AeU")
    reset_settings()
    request.addfinalizer(reset_settings)
    run("init", "--programme", str(PROGRAMME), "--at", "2015-04-01T09:00")
    assert "ouverture de l'appel (1)" in run("tick", "--at", "2015-04-02T09:00")
    # The same instant again: nothing to play, said without contradicting the count of notices.
    assert ": aucune étape à jouer ; 0 avis envoyé(s)." in run("tick", "--at", "2015-04-02T09:00")
    for name in ("candidature-cu-arras.yaml", "candidature-ca-lens-lievin-v2.yaml",
                 "candidature-cc-flandre-interieure.yaml", "candidature-ca-maubeuge-val-de-sambre.yaml"):
        assert "récépissé CERDD-2015-" in run("submit", str(EXAMPLES / name), "--at", "2015-04-20T10:00")
    run("tick", "--at", "2015-05-07T12:00")
    grades = {"200033579": 5, "246200364": 4, "200040947": 4, "200043396": 2}
    for juror in ("Représentant de la DREAL", "Représentant du Conseil Régional", "Emmanuel Bertin"):
        sheet = tmp_path / f"{juror}.yaml"
        notes = {siren: dict.fromkeys(("multi_partenariat", "portage", "ambition", "pistes", "besoins"), g)
                 for siren, g in grades.items()}
        sheet.write_text(yaml.safe_dump({"juror": juror, "notes": notes}, allow_unicode=True), encoding="utf-8")
        assert "20 note(s) enregistrée(s)" in run("jury", "score", str(sheet), "--at", "2015-06-01T10:00")
    assert "│ 1 │ CERDD-2015-0001 │ CU d'Arras │ 5 │ 0 │" in run("jury", "ranking")
    detail = run("jury", "ranking", "--detail")
    assert "Candidature multi-partenariale" in detail and "multi_partenariat" not in detail
    assert "(4 candidature(s))" in run("jury", "dossier", "--out", str(tmp_path / "dossier.md"))
    dossier = (tmp_path / "dossier.md").read_text(encoding="utf-8")
    assert dossier.count("\n## CERDD-2015-") == 4 and "### Points d'attention" in dossier  # Maubeuge's short texts
    run("tick", "--at", "2015-06-04T14:00")
    assert "Choisissez soit --confirm" in run("jury", "decide", "--secretary", "Emmanuel Bertin", expect=2)
    assert "un motif est obligatoire" in run("jury", "decide", "--secretary", "Emmanuel Bertin", "--select",
                                            "200033579,246200364", "--at", "2015-06-04T14:10", expect=2)
    assert "Décision du jury enregistrée" in run("jury", "decide", "--secretary", "Emmanuel Bertin", "--confirm",
                                                 "--at", "2015-06-04T14:15")
    assert "déjà décidé" in run("jury", "decide", "--secretary", "Emmanuel Bertin", "--confirm", "--at",
                                "2015-06-04T14:20", expect=4)
    listing = run("applications")
    assert listing.count("retenue") == 4 and "non retenue" in listing
    assert "reste à signer : le Cerdd, le prestataire." in run(
        "sign", "200033579", "--party", "territoire", "--signatory", "Élu", "--at", "2015-06-20T09:00")
    for siren in PILOTS:
        for party, who in (("territoire", "Élu"), ("cerdd", "Emmanuel Bertin"), ("prestataire", "Cheffe")):
            run("sign", siren, "--party", party, "--signatory", who, "--at", "2015-06-20T10:00")
    assert "la charte est complète" in run("sign", "200033579", "--party", "cerdd", "--signatory", "Emmanuel Bertin",
                                           "--at", "2015-06-21T10:00")
    # Personal links name their holder in words, not as an internal subject (« territoire:200033579 »).
    assert "Lien personnel pour le territoire CU d'Arras (SIREN 200033579)," in run(
        "link", "--pilot", "200033579", "--party", "territoire", "--at", "2015-06-22T10:00")
    assert "Lien personnel pour le Cerdd, pilote CU d'Arras (SIREN 200033579)," in run(
        "link", "--pilot", "200 033 579", "--party", "cerdd", "--at", "2015-06-22T10:00")
    assert "Lien personnel pour le prestataire (tous les pilotes)," in run(
        "link", "--consultancy", "--at", "2015-06-22T10:00")
    assert "Lien personnel pour le juré Représentant de la DREAL (jury-dreal@example.org)," in run(
        "link", "--juror", "Jury-DREAL@example.org", "--at", "2015-06-22T10:00")
    run("tick", "--at", "2015-07-01T09:30")
    status = run("status", "--at", "2015-07-01T09:30")
    assert status.count("en cours") == 3
    run("attend", "200033579", "formation-1", "Claire Dufour", "--organisation", "CU d'Arras",
        "--at", "2015-08-03T13:00")
    delivered = run("deliverable", "200033579", "methode", "--at", "2015-07-30T16:00")
    assert "Remise enregistrée" in delivered and "(remis, en relecture)" in delivered
    returned = run("deliverable", "return", "200033579", "methode", "--comment", "Détailler le calendrier",
                   "--due", "2015-08-10T18:00", "--at", "2015-07-31T10:00")
    assert "à reprendre avant le lundi 10 août 2015 à 18h00" in returned
    assert "Remise enregistrée" in run("deliverable", "hand-in", "200033579", "methode", "--at", "2015-08-05T10:00")
    assert "accepté" in run("deliverable", "accept", "200033579", "methode", "--at", "2015-08-06T10:00")
    assert "mardi 15 septembre 2015" in run("deliverable", "postpone", "200033579", "diagnostic", "--to",
                                            "2015-09-15T18:00", "--reason", "Entretiens décalés", "--at",
                                            "2015-08-20T10:00")
    moved = run("session", "reschedule", "200033579", "formation-2", "--to", "2015-10-07T14:00",
                "--reason", "Salle prise", "--at", "2015-09-20T10:00")
    assert "Session déplacée" in moved and "mercredi 7 octobre 2015 à 14h00" in moved
    assert "annulée" in run("session", "cancel", "246200364", "formation-2", "--reason", "Élus indisponibles",
                            "--at", "2015-09-20T10:00")
    sessions = run("sessions", "--pilot", "200033579", "--at", "2015-09-01T09:00")
    assert "formation-2" in sessions and "tenue" in sessions
    assert "déplacée" not in sessions  # moved on 20 September: not yet on 1 September
    sessions = run("sessions", "--pilot", "200033579", "--at", "2015-09-21T09:00")
    assert "formation-2" in sessions and "prévue (déplacée)" in sessions and "tenue" in sessions
    listed = run("deliverables", "--pilot", "200033579", "--at", "2015-09-15T09:00",
                 "--csv", str(tmp_path / "livrables.csv"))
    assert "accepté" in listed and "à venir" in listed  # the diagnostic now due on 15 September
    exported = (tmp_path / "livrables.csv").read_text(encoding="utf-8-sig").splitlines()
    assert exported[0] == "echeance;pilote;cle;livrable;etat;remis_le" and len(exported) == 7
    assert all(fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", line.split(";")[0])
               for line in exported[1:])  # ISO 8601, Paris time: a spreadsheet sorts it
    assert ";CU d'Arras;diagnostic;Diagnostic des acteurs et des ressources du territoire;à venir;" in exported[2]
    journal = run("audit", "--action", "charte", "--limit", "100")
    assert journal.count("charte.signee") == 9 and "Charte de CU d'Arras signée au nom du territoire par Élu" in journal
    report = tmp_path / "bilan.md"
    terminal = run("status", "--at", "2015-09-15T09:00", "--markdown", str(report))
    markdown = report.read_text(encoding="utf-8")
    assert "| CU d'Arras | en cours | 21 % | Développer une culture partagée |" in markdown
    # The Markdown carries the facts the terminal shows: each application, each kind of notice sent.
    import re

    from models.notices import LABELS

    receipts = set(re.findall(r"CERDD-2015-\d{4}", terminal))
    assert receipts and receipts <= set(re.findall(r"CERDD-2015-\d{4}", markdown))
    kinds = [name for name in LABELS.values() if name in terminal]
    assert kinds and all(f"| {name} |" in markdown for name in kinds), kinds
    ics = tmp_path / "agenda.ics"
    assert "33 événements" in run("calendar", "--out", str(ics))
    assert ics.read_bytes().count(b"BEGIN:VEVENT") == 33 and b"METHOD:PUBLISH" in ics.read_bytes()
    assert "11 événements" in run("calendar", "--out", str(ics), "--pilot", "200033579")
    assert "5 événements" in run("calendar", "--out", str(ics), "--person", "claire.dufour@cu-arras.example.org")


def test_operator_mistakes_get_french_messages(loaded: str, monkeypatch: pytest.MonkeyPatch,
                                               request: pytest.FixtureRequest) -> None:
    from config.settings import reset_settings

    monkeypatch.setenv("PORTAL_SECRET", "k3Jx9QvT2mLw8RbZ5nYc7HdF4sGp6AeU")
    reset_settings()
    request.addfinalizer(reset_settings)
    cases = [
        (["sign", "999999998", "--party", "cerdd", "--signatory", "X"], 3, "Aucun territoire pilote"),
        # A SIREN with a wrong key is said malformed (exit 2) by every command taking one, like announce.
        (["sign", "999999999", "--party", "cerdd", "--signatory", "X"], 2,
         "Le numéro SIREN 999999999 est invalide (clé de contrôle fausse)."),
        (["link", "--pilot", "200033578", "--party", "territoire"], 2,
         "Le numéro SIREN 200033578 est invalide (clé de contrôle fausse)."),
        (["link", "--pilot", "20003357", "--party", "territoire"], 2, "exactement 9 chiffres"),
        (["link", "--pilot", "CU d'Arras", "--party", "territoire"], 2, "--pilot attend le numéro SIREN"),
        (["link", "--pilot", "123456782", "--party", "territoire"], 3, "Aucun territoire pilote"),
        (["sessions", "--pilot", "200033578"], 2, "Le numéro SIREN 200033578 est invalide"),
        (["deliverables", "--pilot", "200 033 578"], 2, "Le numéro SIREN 200033578 est invalide"),
        (["applications", "--show", "200033578"], 2, "Le numéro SIREN 200033578 est invalide"),
        (["applications", "--history", "123456782"], 3, "Aucune candidature ne correspond"),
        (["jury", "score", "/nulle/part.yaml"], 2, "n'existe pas"),
        (["outbox", "retry", "999"], 3, "Aucun avis n°999"),
        (["tasks", "--at", "hier"], 2, "ISO 8601"),
    ]
    for args, code, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert message in " ".join(result.output.split())
        assert "Traceback" not in result.output
