"""One rule, two readers: the page (a screen's read function) and the act read the same `may_<act>`
predicate. Replace a predicate once, and both the form the page offers and the act behind it follow;
no screen keeps a copy of the rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from models import charter, deliverables, jury, pilots, training
from models.call import close_call
from models.db import session_scope
from models.errors import ALLOWED, NotFound, Refused, Verdict
from models.read.consultancy import consultancy_screen
from models.read.juror import juror_attachment, juror_screen
from models.read.overview import overview_screen
from models.read.pilot import charter_view
from models.read.territory import territory_screen
from models.tables import ApplicationFile, CharterParty
from models.withdrawal import withdraw
from tests.conftest import EXAMPLES, at, ctx_of, open_call, start_arras
from transitions.intake import read_application, submit_form

CERDD = "Emmanuel Bertin"
SCORED = at("2015-06-01T10:00")
ARRAS = "200033579"
SIGNED = at("2015-06-10T10:00")
KICKOFF = at("2015-07-01T09:30")
NO = Verdict("Refus d'essai : la règle a changé.")
PDF = b"%PDF-1.4\n% livrable de test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_the_juror_sheet_and_the_scoring_acts_follow_may_score(closed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        assert juror_screen(ctx, CERDD, SCORED).may_score
    monkeypatch.setattr(jury, "may_score", lambda ctx, juror, at, **_: NO)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        assert not juror_screen(ctx, CERDD, SCORED).may_score
        with pytest.raises(Refused, match="la règle a changé"):
            jury.submit_sheet(ctx, CERDD, at=SCORED)


def test_the_juror_attachment_follows_may_open_attachment(closed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        file_id = session.exec(select(ApplicationFile.id)).first()
        assert file_id is not None
        assert juror_attachment(ctx, file_id).content
    monkeypatch.setattr(jury, "may_open_attachment", lambda ctx, application, version: NO)
    with session_scope(closed) as session, pytest.raises(Refused, match="la règle a changé"):
        juror_attachment(ctx_of(session), file_id)


def test_the_charter_form_and_the_signature_follow_may_sign(selected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        assert charter_view(ctx, arras, CharterParty.TERRITORY, SIGNED).may_sign
    monkeypatch.setattr(charter, "may_sign", lambda ctx, pilot, party, at, channel="cli": NO)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        assert not charter_view(ctx, arras, CharterParty.TERRITORY, SIGNED).may_sign
        with pytest.raises(Refused, match="la règle a changé"):
            charter.sign_charter(ctx, arras, party=CharterParty.TERRITORY, signatory="X", at=SIGNED)


def test_the_invitation_form_and_the_answer_follow_may_answer(selected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start_arras(selected)
    now = KICKOFF + timedelta(days=1)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        assert all(line.may_answer for line in territory_screen(ctx, arras, ARRAS, now).sessions)
        # Turned the other way round: the rule now lets no one answer, and allows a started session.
        monkeypatch.setattr(training, "may_answer", lambda ctx, pilot, training_session, at: NO)
        assert not any(line.may_answer for line in territory_screen(ctx, arras, ARRAS, now).sessions)
        first = training.sessions_of(ctx, arras)[0]
        with pytest.raises(Refused, match="la règle a changé"):
            training.answer_invitation(ctx, arras, first, attending=False, people="", at=now)
        monkeypatch.setattr(training, "may_answer", lambda ctx, pilot, training_session, at: ALLOWED)
        late = first.starts_at + timedelta(hours=1)
        assert all(line.may_answer for line in territory_screen(ctx, arras, ARRAS, late).sessions)
        assert training.answer_invitation(ctx, arras, first, attending=False, people="", at=late)


def test_the_deliverable_forms_and_acts_follow_their_predicates(selected: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    start_arras(selected)
    now = KICKOFF + timedelta(days=1)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        lines = consultancy_screen(ctx, ARRAS, now)[0].deliverables
        assert all(line.may_hand_in and line.may_request_due_date for line in lines)
        monkeypatch.setattr(deliverables, "may_hand_in", lambda ctx, deliverable, at: NO)
        monkeypatch.setattr(deliverables, "may_request_due_date", lambda ctx, deliverable, at: NO)
        lines = consultancy_screen(ctx, ARRAS, now)[0].deliverables
        assert not any(line.may_hand_in or line.may_request_due_date for line in lines)
        first = lines[0].deliverable
        with pytest.raises(Refused, match="la règle a changé"):
            deliverables.hand_in_file(ctx, first, filename="livrable.pdf", data=PDF, at=now, by="prestataire")
        with pytest.raises(Refused, match="la règle a changé"):
            deliverables.request_due_date(ctx, first, to=first.due_at + timedelta(days=7), reason="Motif", at=now)


def test_a_withdrawn_pilot_deliverables_are_neither_offered_nor_taken(selected: str) -> None:
    start_arras(selected)
    now = KICKOFF + timedelta(days=3)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        withdraw(ctx, arras, reason="Délibération retirée", at=KICKOFF + timedelta(days=2))
        lines = consultancy_screen(ctx, ARRAS, now)[0].deliverables
        assert lines and not any(line.may_hand_in or line.may_request_due_date for line in lines)
        first = lines[0].deliverable
        refusal = deliverables.may_hand_in(ctx, first, now)
        assert refusal.reason == (f"{arras.name} a été retirée du programme : ses livrables ne se remettent plus "
                                  "et ne changent plus d'échéance.")
        with pytest.raises(Refused, match="ses livrables ne se remettent plus"):
            deliverables.hand_in_file(ctx, first, filename="livrable.pdf", data=PDF, at=now, by="prestataire")
        with pytest.raises(Refused, match="ses livrables ne se remettent plus"):
            deliverables.request_due_date(ctx, first, to=first.due_at + timedelta(days=7), reason="Motif", at=now)


def test_after_the_decision_the_sheet_offers_no_file_a_juror_could_not_open(selected: str) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        screen = juror_screen(ctx, CERDD, SIGNED)
        assert screen.applications and not any(line.files for line in screen.applications)
        for file_id in session.exec(select(ApplicationFile.id)).all():
            with pytest.raises(NotFound, match="Ce document n'existe pas"):
                juror_attachment(ctx, file_id)


def test_a_juror_opens_the_current_version_files_only(loaded: str) -> None:
    open_call(loaded)
    first = submit_form(loaded, read_application(EXAMPLES / "candidature-ca-lens-lievin-v1.yaml"),
                        at("2015-04-20T10:00"), None)
    submit_form(loaded, read_application(EXAMPLES / "candidature-ca-lens-lievin-v2.yaml"), at("2015-04-21T10:00"), None)
    with session_scope(loaded) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        offered = {f.id for line in juror_screen(ctx, CERDD, SCORED).applications for f in line.files}
        every = set(session.exec(select(ApplicationFile.id)).all())
        assert offered and offered < every, first
        for file_id in sorted(every):
            if file_id in offered:
                assert juror_attachment(ctx, file_id).content
            else:  # a file of the version the second replaced
                with pytest.raises(NotFound, match="Ce document n'existe pas"):
                    juror_attachment(ctx, file_id)


def test_a_withdrawn_pilot_due_date_request_is_no_longer_decided(selected: str) -> None:
    start_arras(selected)
    asked, now = KICKOFF + timedelta(days=1), KICKOFF + timedelta(days=3)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        first = deliverables.deliverables_of(ctx, arras)[0]
        request = deliverables.request_due_date(ctx, first, to=first.due_at + timedelta(days=30), reason="Motif",
                                                at=asked)
        assert [line.may_decide for line in overview_screen(ctx, arras, asked).requests] == [True]
        withdraw(ctx, arras, reason="Délibération retirée", at=KICKOFF + timedelta(days=2))
        assert [line.may_decide for line in overview_screen(ctx, arras, now).requests] == [False]
        due = first.due_at
        with pytest.raises(Refused, match="ses livrables ne se remettent plus"):
            deliverables.decide_due_date(ctx, request.id or 0, grant=True, at=now)
        with pytest.raises(Refused, match="ses livrables ne se remettent plus"):
            deliverables.postpone(ctx, first, to=due + timedelta(days=60), reason="Motif", at=now)
        assert first.due_at == due
