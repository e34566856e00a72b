"""The back office's sessions over HTTP (issue 23): a chargé·e de mission signed in with a real
TOTP moves and cancels sessions and saves an attendance sheet pre-filled from the territory's
answer, through the same domain functions as `transitions session …` and `transitions attend`;
each act audited with the member as actor; `lecture` refused every POST (403, nothing changed)."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlmodel import select

from models import training
from models.clock import paris
from models.db import session_scope
from models.pilots import find_pilot
from models.recipients import territory_contacts
from models.tables import Attendance, SessionStatus, TrainingSession
from tests.conftest import ctx_of
from tests.portal.conftest import ARRAS, Clock
from tests.portal.helpers import assert_french_refusal, audits, count, form_ending, notices
from tests.portal.year_signin import ROLES, team

CLAIRE = f"equipe:{ROLES['charge_de_mission']}"


def _session(url: str, key: str) -> TrainingSession:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        row = training.find_session(ctx, find_pilot(ctx, ARRAS), key)
        session.expunge(row)
        return row


def _invited_and_answered(url: str) -> tuple[TrainingSession, list[str]]:
    """Formation 1's invitation sent (at its instant), the territory answering « present » with one
    more person named; returns the session and the territory's contacts' names."""
    first = _session(url, "formation-1")
    with session_scope(url) as session:
        ctx = ctx_of(session)
        invited_at = training.series(ctx, first)[0].at
        training.invite_and_remind(ctx, invited_at)
        pilot = find_pilot(ctx, ARRAS)
        row = session.get(TrainingSession, first.id)
        assert row is not None and row.invited_at is not None
        training.answer_invitation(ctx, pilot, row, attending=True, people="Jean Martin", at=invited_at)
        names = [p.name for p in territory_contacts(ctx, pilot)]
    return _session(url, "formation-1"), names


def test_move_and_cancel_sessions_as_the_cli_does(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    first, _ = _invited_and_answered(started)
    clock.now = first.starts_at - timedelta(days=10)
    clients = team(started, client_for, clock)
    listing = html.unescape(clients["lecture"].get("/equipe/sessions").text)
    assert "Les nouveaux modèles économiques" in listing and "CU d'Arras" in listing
    page = clients["charge_de_mission"].get(f"/equipe/sessions/{first.id}")
    assert page.status_code == 200 and "Déplacer la session" in page.text
    assert "n'a pas encore eu lieu" in html.unescape(page.text)
    move = form_ending(page.text, "/deplacer")
    new = first.starts_at + timedelta(days=7)
    typed = paris(new).strftime("%d/%m/%Y %Hh%M")
    data = {**move.hidden, "date": typed, "motif": "Salle du conseil indisponible", "lieu": ""}
    assert_french_refusal(clients["lecture"].post(move.action, data=data), 403, "ne permet pas cette action")
    assert _session(started, "formation-1").starts_at == first.starts_at
    wrong = form_ending(clients["charge_de_mission"].get(f"/equipe/sessions/{first.id}").text, "/deplacer")
    late = clients["charge_de_mission"].post(move.action, data={**data, **wrong.hidden, "date": "31/06/2015"})
    assert_french_refusal(late, 422, "n'existe pas")
    claire = form_ending(clients["charge_de_mission"].get(f"/equipe/sessions/{first.id}").text, "/deplacer")
    mine = {**data, "jeton": claire.hidden["jeton"]}
    done = clients["charge_de_mission"].post(move.action, data=mine)
    assert done.status_code == 303 and done.headers["location"].endswith("fait=session-deplacee#session")
    assert _session(started, "formation-1").starts_at == new
    assert [a.actor for a in audits(started, "session.deplacee")] == [CLAIRE]
    assert len(notices(started, "session_modifiee")) >= 2  # every invitee's calendar updated
    assert_french_refusal(clients["charge_de_mission"].post(move.action, data=mine), 409, "déjà été envoyé")
    other = _session(started, "atelier-projets")
    cancel = form_ending(clients["charge_de_mission"].get(f"/equipe/sessions/{other.id}").text, "/annuler")
    assert_french_refusal(clients["charge_de_mission"].post(cancel.action, data={**cancel.hidden, "motif": " "}),
                          422, "le motif est obligatoire")
    cancel = form_ending(clients["charge_de_mission"].get(f"/equipe/sessions/{other.id}").text, "/annuler")
    assert_french_refusal(clients["lecture"].post(cancel.action, data={**cancel.hidden, "motif": "x"}), 403,
                          "ne permet pas")
    gone = clients["charge_de_mission"].post(cancel.action, data={**cancel.hidden, "motif": "Porteurs indisponibles"})
    assert gone.status_code == 303
    assert _session(started, "atelier-projets").status == SessionStatus.CANCELLED
    assert [a.actor for a in audits(started, "session.annulee")] == [CLAIRE]
    again = clients["charge_de_mission"].post(cancel.action, data={**cancel.hidden, "motif": "Porteurs indisponibles"})
    assert_french_refusal(again, 409, "déjà été envoyé")


def test_the_attendance_sheet_is_prefilled_then_saved(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    first, names = _invited_and_answered(started)
    clock.now = first.starts_at + timedelta(hours=4)
    clients = team(started, client_for, clock)
    page = clients["charge_de_mission"].get(f"/equipe/sessions/{first.id}")
    text = html.unescape(page.text)
    assert "Feuille d'émargement" in text and "Jean Martin" in text and "annoncé·e par le territoire" in text
    assert all(name in text for name in names) and "présence annoncée" in text
    assert 'value="Jean Martin" checked' in page.text  # pre-filled from the answer
    sheet = form_ending(page.text, "/emargement")
    ticked = {**sheet.hidden, "present": ["Jean Martin", names[0]], "autre_nom": "Paul Invité",
              "autre_structure": "CCI Artois", "autre_present": "oui"}
    assert_french_refusal(clients["lecture"].post(sheet.action, data=ticked), 403, "ne permet pas cette action")
    assert count(started, Attendance) == 0
    forged = clients["charge_de_mission"].post(sheet.action, data={**ticked, "present": ["Quelqu'un d'autre"]})
    assert_french_refusal(forged, 422, "La feuille d'émargement a changé")
    assert count(started, Attendance) == 0
    sheet = form_ending(clients["charge_de_mission"].get(f"/equipe/sessions/{first.id}").text, "/emargement")
    saved = clients["charge_de_mission"].post(sheet.action, data={**ticked, "jeton": sheet.hidden["jeton"]})
    assert saved.status_code == 303 and saved.headers["location"].endswith("fait=emargement#emargement")
    with session_scope(started) as session:
        rows = {row.person: row.present for row in session.exec(select(Attendance)).all()}
    assert rows["Jean Martin"] and rows[names[0]] and rows["Paul Invité"]
    assert not any(rows[name] for name in names[1:])
    assert {a.actor for a in audits(started, "session.emargement")} == {CLAIRE}
    shown = html.unescape(clients["lecture"].get(f"/equipe/sessions/{first.id}").text)
    assert "L'émargement est enregistré" not in shown and "tenue" in shown
