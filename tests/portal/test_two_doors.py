"""One rule, two doors: the command line and the portal call the same domain functions, so the
same act gives the same facts (rows, audit entries, notices) whichever door was used; and
`transitions link` prints personal links that revoke the previous ones."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from config.settings import reset_settings
from models.db import session_scope
from models.tables import (
    AuditEntry,
    CharterSignature,
    ConflictOfInterest,
    Deliverable,
    DueDateRequest,
    DueDateRequestStatus,
    Notice,
    SessionAnswer,
)
from tests.conftest import at, start_arras
from tests.portal.conftest import ARRAS, SECRET, Clock, consultancy, juror, link, territory
from tests.portal.helpers import form_ending
from transitions.cli import app

runner = CliRunner()


def cli(*args: str, expect: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exit_code == expect, result.output
    return " ".join(result.output.split())


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://transitions.cerdd.example.org")
    reset_settings()


def facts(url: str, action: str) -> list[tuple[str, str, dict[str, object]]]:
    """The audit entries of one action, without their ids and recording times."""
    with session_scope(url) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        return [(row.actor, row.summary, row.details) for row in rows]


def test_link_prints_a_personal_link_and_revokes_the_previous_one(selected: str, secret: None, client_for) -> None:  # noqa: ANN001
    first = cli("link", "--pilot", ARRAS, "--party", "territoire", "--at", "2015-06-05T09:00")
    url = first.split()[-1]
    assert url.startswith("https://transitions.cerdd.example.org/l/") and url.endswith(f"/territoire/{ARRAS}")
    path = url.removeprefix("https://transitions.cerdd.example.org")
    client = client_for(selected)
    assert client.get(path).status_code == 200
    second = cli("link", "--pilot", ARRAS, "--party", "territoire", "--at", "2015-06-06T09:00").split()[-1]
    assert second != url and client.get(path).status_code == 410
    assert client.get(second.removeprefix("https://transitions.cerdd.example.org")).status_code == 200
    assert cli("link", "--juror", "JURY-REGION@example.org").split()[-1].endswith("/jury")
    assert cli("link", "--consultancy").split()[-1].endswith("/prestataire")
    assert "n'est l'adresse d'aucun membre du jury" in cli("link", "--juror", "nobody@example.org", expect=3)
    assert "Partie inconnue" in cli("link", "--pilot", ARRAS, "--party", "maire", expect=2)
    assert "Aucun territoire pilote" in cli("link", "--pilot", "200043396", "--party", "cerdd", expect=3)
    assert "Indiquez soit" in cli("link", expect=2)
    assert "--pilot demande --party" in cli("link", "--pilot", ARRAS, expect=2)


@pytest.mark.parametrize("value,words", [("", "PORTAL_SECRET n'est pas défini"),
                                         ("changeme", "valeur d'exemple"),
                                         ("Zk3v9Qm2Lx8", "trop court")])
def test_link_refuses_a_missing_or_placeholder_secret(selected: str, monkeypatch: pytest.MonkeyPatch, value: str,
                                                      words: str) -> None:
    monkeypatch.setenv("PORTAL_SECRET", value)
    reset_settings()
    output = cli("link", "--pilot", ARRAS, "--party", "territoire", expect=2)
    assert words in output and (not value or value not in output)
    with session_scope(selected) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "lien.emis")).all() == []


def test_signing_by_either_door_records_the_same_facts(selected: str, secret: None, client_for,  # noqa: ANN001
                                                        clock: Clock) -> None:
    clock.now = at("2015-06-12T11:00")
    cli("sign", ARRAS, "--party", "cerdd", "--signatory", "Emmanuel Bertin", "--role", "Directeur", "--at",
        "2015-06-12T11:00")
    _, path = link(selected, territory(party="prestataire"))
    page = client_for(selected).get(path).text
    form = form_ending(page, f"/prestataire/{ARRAS}/charte")  # the consultancy's page lists every pilot
    client_for(selected).post(form.action, data={**form.hidden, "signataire": "Emmanuel Bertin",
                                                 "qualite": "Directeur", "lu": "oui"})
    (cli_actor, cli_summary, cli_details), (web_actor, web_summary, web_details) = facts(selected, "charte.signee")
    assert cli_actor == web_actor == "Emmanuel Bertin"
    assert cli_summary.replace("du Cerdd", "X") == web_summary.replace("du prestataire", "X")
    door = {"partie": "", "canal": "", "via": "", "via_personne": ""}  # what each door records of itself
    assert {**cli_details, **door} == {**web_details, **door}
    assert (cli_details["canal"], web_details["canal"]) == ("cli", "portail")
    assert cli_details["via"].startswith("cli:")
    assert (web_details["via"], web_details["via_personne"]) == ("lien personnel prestataire:*, version 1", "")
    with session_scope(selected) as session:
        rows = session.exec(select(CharterSignature).order_by(CharterSignature.id)).all()
        assert [(r.signatory, r.role, r.signed_at) for r in rows] == [("Emmanuel Bertin", "Directeur",
                                                                      at("2015-06-12T11:00"))] * 2


def test_the_accompaniment_by_either_door(selected: str, secret: None, client_for, clock: Clock) -> None:  # noqa: ANN001
    start_arras(selected)
    clock.now = at("2015-07-02T10:00")
    client = client_for(selected)
    # the territory answers formation-1 on the portal, formation-2 on the command line
    _, path = link(selected, territory(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, "/session/formation-1")
    client.post(form.action, data={**form.hidden, "presence": "oui", "participants": "Claire Dufour\nJean Martin"})
    cli("session", "answer", ARRAS, "formation-2", "--present", "--people", "Claire Dufour, Jean Martin",
        "--at", "2015-07-02T10:00")
    with session_scope(selected) as session:
        answers = session.exec(select(SessionAnswer).order_by(SessionAnswer.id)).all()
        assert [(a.attending, a.people, a.answered_at) for a in answers] == [
            (True, "Claire Dufour\nJean Martin", at("2015-07-02T10:00"))] * 2
    portal_fact, cli_fact = facts(selected, "session.reponse")
    assert portal_fact[2] == cli_fact[2] and portal_fact[0] == cli_fact[0]
    # the consultancy asks for a new due date on each door; the Cerdd grants one from the command line
    _, path = link(selected, consultancy(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, f"{ARRAS}/livrable/diagnostic/report")
    client.post(form.action, data={**form.hidden, "echeance": "2015-09-15", "motif": "Entretiens décalés"})
    cli("deliverable", "ask", ARRAS, "supports-formation", "--to", "2015-09-15T18:00", "--reason",
        "Entretiens décalés", "--at", "2015-07-02T10:00")
    with session_scope(selected) as session:
        requests = session.exec(select(DueDateRequest).order_by(DueDateRequest.id)).all()
        assert [(r.requested_due, r.reason, r.status) for r in requests] == [
            (at("2015-09-15T18:00"), "Entretiens décalés", DueDateRequestStatus.PENDING)] * 2
        assert len(session.exec(select(Notice).where(Notice.kind == "demande_report")).all()) == 2
    assert "accordée" in cli("deliverable", "grant", str(requests[0].id), "--at", "2015-07-03T10:00")
    assert "déjà décidée" in cli("deliverable", "grant", str(requests[0].id), "--at", "2015-07-03T10:00")
    assert "refusée" in cli("deliverable", "refuse", str(requests[1].id), "--at", "2015-07-03T10:00")
    with session_scope(selected) as session:
        diagnostic = session.exec(select(Deliverable).where(Deliverable.key == "diagnostic",
                                                            Deliverable.pilot_id == 1)).one()
        assert diagnostic.due_at == at("2015-09-15T18:00")
        assert session.exec(select(Notice).where(Notice.kind == "livrable_reporte")).all()


def test_a_conflict_of_interest_by_either_door(closed: str, secret: None, client_for, clock: Clock) -> None:  # noqa: ANN001
    clock.now = at("2015-06-01T10:00")
    client = client_for(closed)
    _, path = link(closed, juror(), when="2015-05-20T10:00")
    page = client.get(path).text
    form = next(f for f in __import__("tests.portal.helpers", fromlist=["forms"]).forms(page)
                if "/jury/conflit/" in f.action and f.action.endswith("0001"))
    client.post(form.action, data={**form.hidden, "motif": "Élu"})
    cli("jury", "conflict", "--juror", "Représentant du Conseil Régional", "CERDD-2015-0001", "--reason", "Élu",
        "--at", "2015-06-01T10:00")
    with session_scope(closed) as session:
        rows = session.exec(select(ConflictOfInterest).order_by(ConflictOfInterest.id)).all()
        assert [(r.application_id, r.reason, r.declared_at) for r in rows] == [
            (rows[0].application_id, "Élu", at("2015-06-01T10:00"))] * 2
    assert "Représentant de la DREAL, Représentant du Conseil Régional exclues" in cli("jury", "ranking")
    detail = cli("jury", "ranking", "--detail")
    assert "Conflit d'intérêts : notes de Représentant de la DREAL, Représentant du Conseil Régional exclues" in detail
    assert "sur 0 note(s) / 5" in detail  # one juror left on CERDD-2015-0001: 5 scores expected, none given


def test_the_portal_command_refuses_to_start_without_a_secret(selected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_SECRET", raising=False)
    reset_settings()
    assert "PORTAL_SECRET n'est pas défini" in cli("portal", expect=2)
    assert "n'est pas une adresse IP" in cli("portal", "--host", "exemple", expect=2)


def test_control_characters_are_refused_by_the_command_line_too(selected: str, secret: None) -> None:
    """The portal's 422 (test_portal_hostile) is exit 2 on the command line: the same domain check
    names the field and the character, and nothing is recorded."""
    start_arras(selected)
    answer = cli("session", "answer", ARRAS, "formation-2", "--present", "--people", "Claire \x1b[31mDufour",
                 "--at", "2015-07-02T10:00", expect=2)
    assert "Participants" in answer and "séquence d'échappement du terminal non permise (U+001B)" in answer
    ask = cli("deliverable", "ask", ARRAS, "diagnostic", "--to", "2015-09-15T18:00", "--reason", "Entretiens\x00",
              "--at", "2015-07-02T10:00", expect=2)
    assert "Motif de la demande" in ask and "caractère nul non permis (U+0000)" in ask
    with session_scope(selected) as session:
        assert session.exec(select(SessionAnswer)).all() == []
        assert session.exec(select(DueDateRequest)).all() == []


def test_a_conflict_reason_with_a_bidi_override_is_refused_on_the_command_line(closed: str, secret: None) -> None:
    out = cli("jury", "conflict", "--juror", "Représentant du Conseil Régional", "CERDD-2015-0001", "--reason",
              "Élu \u202ede la CU", "--at", "2015-06-01T10:00", expect=2)
    assert "Motif du conflit d'intérêts" in out and "inversion du sens d'écriture non permis (U+202E)" in out
    with session_scope(closed) as session:
        assert session.exec(select(ConflictOfInterest)).all() == []
