"""The back office's pages and acts attacked (issue 23, item 5): another programme's rows,
hostile text in what the team types, filters and exports given nonsense, the decision form when
no decision is awaited, a member disabled while signed in. Each refusal in French, nothing changed."""

from __future__ import annotations

import html
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from models import staff, training
from models.db import session_scope
from models.links import form_token
from models.pilots import find_pilot
from models.tables import AuditEntry, Deliverable, Notice, NoticeStatus, Programme, TrainingSession
from tests.conftest import PROGRAMME, at, ctx_of
from tests.portal.conftest import ARRAS, SECRET, Clock
from tests.portal.helpers import assert_french_refusal, form_ending, forms
from tests.portal.year_signin import ROLES, enrol, sign_in, team
from transitions.portal.app import create_app
from transitions.portal.staff_state import staff_bearer
from transitions.programmes import load_programme


def _session(url: str, key: str) -> TrainingSession:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        row = training.find_session(ctx, find_pilot(ctx, ARRAS), key)
        session.expunge(row)
        return row


def _token(url: str, clock: Clock, role: str, form: str) -> str:
    """A good one-time token of `form` for the member with `role`, as a page would have carried it."""
    with session_scope(url) as session:
        member = staff.member_by_email(session, ROLES[role])
        assert member is not None
        return form_token(SECRET, staff_bearer(member), form, clock.now)


def _audit_count(url: str) -> int:
    with session_scope(url) as session:
        return len(session.exec(select(AuditEntry)).all())


def test_hostile_text_in_a_move_or_a_cancellation_is_refused(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    first = _session(started, "formation-2")
    clock.now = first.starts_at - timedelta(days=10)
    claire = team(started, client_for, clock)["charge_de_mission"]
    before = _audit_count(started)
    day = (first.starts_at + timedelta(days=7)).strftime("%Y-%m-%d")
    for place, reason in (("Salle A\r\nBcc: pirate@example.org", "Salle prise"),
                          ("Salle \u202eA", "Salle prise"), ("Salle B", "Motif \x1b[31m rouge"),
                          ("Salle B", "Motif \x00 nul"), ("Salle B", "Motif \u202e inversé")):
        page = claire.get(f"/equipe/sessions/{first.id}")
        move = form_ending(page.text, "/deplacer")
        answer = claire.post(move.action, data={**move.hidden, "date": day, "heure": "14:00", "lieu": place,
                                                "motif": reason})
        assert_french_refusal(answer, 422, "non permis")
    page = claire.get(f"/equipe/sessions/{first.id}")
    cancel = form_ending(page.text, "/annuler")
    assert_french_refusal(claire.post(cancel.action, data={**cancel.hidden, "motif": "Annulée \u202e\x07"}), 422,
                          "non permis")
    assert _session(started, "formation-2").starts_at == first.starts_at
    assert _session(started, "formation-2").location == first.location
    assert _audit_count(started) == before


def test_hostile_comment_on_a_returned_deliverable_is_refused(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    from models import deliverables
    from tests.portal.helpers import PDF

    with session_scope(started) as session:
        ctx = ctx_of(session)
        found = {d.key: d for d in deliverables.deliverables_of(ctx, find_pilot(ctx, ARRAS))}
        deliverables.hand_in_file(ctx, found["methode"], filename="methode.pdf", data=PDF,
                                  at=at("2015-07-20T10:00"), by="prestataire")
        deliverable_id = found["methode"].id
    clock.now = at("2015-07-21T10:00")
    claire = team(started, client_for, clock)["charge_de_mission"]
    for comment in ("Reprendre \x00 ceci", "Reprendre \u202e ceci", "Reprendre \x1b[2J"):
        back = form_ending(claire.get(f"/equipe/livrables/{deliverable_id}").text, "/renvoyer")
        assert_french_refusal(claire.post(back.action, data={**back.hidden, "commentaire": comment}), 422, "non permis")
    back = form_ending(claire.get(f"/equipe/livrables/{deliverable_id}").text, "/renvoyer")
    huge = claire.post(back.action, data={**back.hidden, "commentaire": "x" * 10_000_000})  # 10 MB
    assert_french_refusal(huge, 413, "trop long")
    with session_scope(started) as session:
        row = session.get(Deliverable, deliverable_id)
        assert row is not None and row.delivered_at is not None and row.review_comment in (None, "")


def _second_programme_notice(url: str) -> int:
    """Another programme in the same database, with a notice given up in its outbox."""
    from models.context import install_programme

    bundle = load_programme(PROGRAMME)
    other = bundle.definition.model_copy(update={"slug": "autre-2016"})
    with session_scope(url) as session:
        install_programme(session, type(bundle)(**{**vars(bundle), "definition": other}), at("2015-04-01T09:00"),
                          "test")
    with session_scope(url) as session:
        programme = session.exec(select(Programme).where(Programme.slug == "autre-2016")).one()
        notice = Notice(dedup_key="autre-2016|essai", programme_id=programme.id, kind="rappel_livrable",
                        recipient_email="secret@autre.example.org", recipient_name="Autre",
                        subject="Sujet confidentiel",
                        body_text="x", body_html="x", created_at=at("2015-07-01T09:00"),
                        deliver_after=at("2015-07-01T09:00"), status=NoticeStatus.DEAD, message_id="<x@autre>")
        session.add(notice)
        session.flush()
        return notice.id or 0


def test_another_programmes_notices_are_neither_listed_nor_put_back(started: str, clock: Clock) -> None:
    email = enrol(started, clock, "charge_de_mission")
    notice_id = _second_programme_notice(started)
    client = TestClient(create_app(started, SECRET, clock=clock, programme="cerdd-2015"), follow_redirects=False)
    with client:
        sign_in(client, started, clock, email)
        with session_scope(started) as session:  # one of this programme's notices given up: a « Relancer » form
            own = session.exec(select(Notice).where(Notice.id != notice_id).order_by(Notice.id)).first()
            assert own is not None
            own.status = NoticeStatus.DEAD
            session.add(own)
        page = client.get("/equipe/avis")
        assert page.status_code == 200 and "Sujet confidentiel" not in page.text and "secret@autre" not in page.text
        retry = next(f for f in forms(page.text) if f.action.endswith("/relancer"))  # this programme's own
        assert_french_refusal(client.post(f"/equipe/avis/{notice_id}/relancer", data=retry.hidden), 404, "Aucun avis")
    with session_scope(started) as session:
        assert session.get(Notice, notice_id).status == NoticeStatus.DEAD  # type: ignore[union-attr]


def test_filters_exports_and_ids_given_nonsense(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    reader = team(started, client_for, clock)["lecture"]
    for path, status, words in (
        ("/equipe/journal?page=99999999999", 422, ""), ("/equipe/journal?page=abc", 422, ""),
        ("/equipe/journal?jour=31/02/2015", 422, "février"), ("/equipe/avis?type=%3Cscript%3E", 422, "inconnu"),
        ("/equipe/avis?etat=' OR 1=1--", 422, "inconnu"), ("/equipe/rapport/exports/secrets.csv", 404, ""),
        ("/equipe/rapport/exports/audit.exe", 404, ""), ("/equipe/sessions/-1", 404, ""),
        ("/equipe/sessions/99999999999999999999", 404, ""), ("/equipe/livrables/0", 404, ""),
        ("/equipe/candidatures/CERDD-2015-9999/pieces/1", 404, ""), ("/equipe/pilotes/000000000", 404, ""),
        ("/equipe/candidatures/%00%0d%0a", 422, ""), ("/equipe/pilotes/%00", 404, ""),
        ("/equipe/candidatures/%00/pieces/1", 422, ""),
    ):
        answer = reader.get(path)
        assert answer.status_code in (status, 404, 422), (path, answer.status_code, answer.text[:300])
        assert_french_refusal(answer, answer.status_code, words)
        assert answer.headers["cache-control"] == "no-store", path
    found = reader.get("/equipe/journal?action=%27%20OR%201%3D1--&qui=%25%00&page=1000000")
    assert found.status_code == 200 and "Aucune entrée ne correspond" in html.unescape(found.text), found.text[-2000:]


def test_the_decision_form_when_no_decision_is_awaited(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    """The jury decided on 4 June: the page offers no form, and a form posted anyway (a tab left open
    before the decision) is refused in French, nothing changed."""
    direction = team(started, client_for, clock)["direction"]
    page = direction.get("/equipe/jury")
    assert page.status_code == 200 and not [f for f in forms(page.text) if f.action.endswith("/jury/decision")]
    before = _audit_count(started)
    token = _token(started, clock, "direction", "decision-jury")
    answer = direction.post("/equipe/jury/decision", data={"jeton": token, "choix": "confirmer"})
    assert_french_refusal(answer, 409, "")
    assert _audit_count(started) == before


def test_a_member_disabled_while_signed_in_acts_no_more(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    claire = team(started, client_for, clock)["charge_de_mission"]
    first = _session(started, "formation-2")
    page = claire.get(f"/equipe/sessions/{first.id}")
    cancel = form_ending(page.text, "/annuler")
    with session_scope(started) as session:
        staff.disable(ctx_of(session), ROLES["charge_de_mission"], at=clock.now, by="test")
    answer = claire.post(cancel.action, data={**cancel.hidden, "motif": "Essai"})
    assert answer.status_code in (401, 403), answer.text
    assert claire.get("/equipe/").status_code == 303
    assert _session(started, "formation-2").status == first.status


def test_a_token_of_another_form_or_another_member_is_refused(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    """The cancellation's token posted to the move, and a colleague's token for this very form: 400
    in French, the session unchanged; the right token still works afterwards."""
    first = _session(started, "formation-2")
    clock.now = first.starts_at - timedelta(days=10)
    claire = team(started, client_for, clock)["charge_de_mission"]
    page = claire.get(f"/equipe/sessions/{first.id}").text
    move, cancel = form_ending(page, "/deplacer"), form_ending(page, "/annuler")
    day = (first.starts_at + timedelta(days=7)).strftime("%Y-%m-%d")
    data = {"date": day, "heure": "14:00", "motif": "Salle prise"}
    before = _audit_count(started)
    assert_french_refusal(claire.post(move.action, data={**data, **cancel.hidden}), 400, "ne correspond pas")
    theirs = _token(started, clock, "direction", "deplacer-session")
    assert_french_refusal(claire.post(move.action, data={**data, "jeton": theirs}), 400, "ne correspond pas")
    assert _audit_count(started) == before and _session(started, "formation-2").starts_at == first.starts_at
    assert claire.post(move.action, data={**data, **move.hidden}).status_code == 303
