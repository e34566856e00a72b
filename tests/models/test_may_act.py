"""One predicate per « may this person do X now? » rule (`may_<act>` in the concept module): it
answers as its act does (allowed, or refused with the act's very sentence), and the act reads it
rather than a copy of its own (replace the predicate once and every act that depends on it follows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from models import charter, deliverables, jury, pilots, training
from models.context import ProgrammeContext
from models.db import session_scope
from models.errors import InvalidInput, NotFound, Refused, TransitionsError, Verdict
from models.tables import Application, ApplicationStatus, Pilot
from models.withdrawal import withdraw
from tests.conftest import at, ctx_of, score, start_arras

CERDD = "Emmanuel Bertin"
SCORED = at("2015-06-01T10:00")
MEETING = at("2015-06-04T14:00")
ARRAS, LENS = "200033579", "200040947"
SIGNED = at("2015-06-10T10:00")
KICKOFF = at("2015-07-01T09:30")
PDF = b"%PDF-1.4\n% livrable de test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
NO = Verdict("Refus d'essai : la règle a changé.")


def refusal(act: Callable[[], object]) -> TransitionsError:
    """What `act` raises (it must refuse)."""
    with pytest.raises(TransitionsError) as raised:
        act()
    return raised.value


def same(verdict: Verdict, act: Callable[[], object]) -> None:
    """The act refuses with the verdict's sentence, as the verdict's kind of refusal."""
    assert not verdict and verdict.reason
    error = refusal(act)
    assert (type(error), error.message) == (verdict.refusal, verdict.reason)


def _admissible(ctx: ProgrammeContext) -> Application:
    found = ctx.session.exec(select(Application).where(Application.status == ApplicationStatus.ADMISSIBLE)
                             .order_by(col(Application.id))).first()
    assert found is not None
    return found


def _cerdd_scores(ctx: ProgrammeContext) -> list[jury.ScoreInput]:
    application = _admissible(ctx)
    return [jury.ScoreInput(application, criterion.key, 3) for criterion in ctx.definition.jury.criteria]


def test_verdict_is_truthy_when_allowed_and_enforce_raises_its_refusal() -> None:
    assert Verdict() and not NO
    Verdict().enforce()
    with pytest.raises(Refused, match="Refus d'essai"):
        NO.enforce()
    with pytest.raises(NotFound, match="n'existe pas"):
        Verdict("Ce document n'existe pas.", NotFound).enforce()


# --- The jury ----------------------------------------------------------------------------------------

def test_may_score_answers_as_the_scoring_acts_do(closed: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        application = _admissible(ctx)
        assert jury.may_score(ctx, CERDD, SCORED)
        late = jury.may_score(ctx, CERDD, MEETING)
        assert late.reason and late.reason.startswith("Le jury s'est réuni le ")
        assert jury.may_score(ctx, CERDD, MEETING, to_juror=False) == late
        same(late, lambda: jury.record_score(ctx, application, juror=CERDD, criterion="portage", score=3, at=MEETING))
        same(late, lambda: jury.save_scores(ctx, CERDD, _cerdd_scores(ctx), at=MEETING))
        same(late, lambda: jury.declare_conflict(ctx, application, juror=CERDD, reason="", at=MEETING))
        same(late, lambda: jury.submit_sheet(ctx, CERDD, at=MEETING))
    score(closed, "notes-cerdd.yaml")
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        assert jury.submit_sheet(ctx, CERDD, at=SCORED)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        application = _admissible(ctx)
        yours = jury.may_score(ctx, CERDD, SCORED)
        theirs = jury.may_score(ctx, CERDD, SCORED, to_juror=False)
        assert yours.reason == "Votre feuille de notes est déjà soumise : elle ne change plus."
        assert theirs.reason == f"La feuille de notes de {CERDD} est soumise : elle ne change plus."
        same(theirs, lambda: jury.record_score(ctx, application, juror=CERDD, criterion="portage", score=3,
                                               at=SCORED))
        same(yours, lambda: jury.save_scores(ctx, CERDD, _cerdd_scores(ctx), at=SCORED))
        same(yours, lambda: jury.declare_conflict(ctx, application, juror=CERDD, reason="", at=SCORED))
        assert jury.submit_sheet(ctx, CERDD, at=SCORED) is False  # submitting twice changes nothing


def test_after_the_selection_no_one_scores(selected: str) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        closed = jury.may_score(ctx, CERDD, SCORED)
        assert closed.reason == "Les notes du jury ne s'enregistrent qu'entre la clôture de l'appel et la sélection."
        application = ctx.session.exec(select(Application).order_by(col(Application.id))).first()
        assert application is not None
        same(closed, lambda: jury.record_score(ctx, application, juror=CERDD, criterion="portage", score=3,
                                               at=SCORED))
        selected_one = ctx.session.exec(select(Application).where(
            Application.status == ApplicationStatus.SELECTED)).first()
        gone = jury.may_open_attachment(ctx, selected_one, selected_one.version if selected_one else None)
        assert (gone.reason, gone.refusal) == ("Ce document n'existe pas.", NotFound)


def test_every_scoring_act_reads_may_score(closed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(closed) as session:  # allowed as the rule stands: each act would go ahead
        ctx = ctx_of(session)
        assert jury.may_score(ctx, CERDD, SCORED)
    monkeypatch.setattr(jury, "may_score", lambda ctx, juror, at, **_: NO)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        application = _admissible(ctx)
        same(NO, lambda: jury.record_score(ctx, application, juror=CERDD, criterion="portage", score=3, at=SCORED))
        same(NO, lambda: jury.save_scores(ctx, CERDD, _cerdd_scores(ctx), at=SCORED))
        same(NO, lambda: jury.declare_conflict(ctx, application, juror=CERDD, reason="", at=SCORED))
        same(NO, lambda: jury.submit_sheet(ctx, CERDD, at=SCORED))


def test_a_juror_opens_the_files_of_admissible_applications_only(closed: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        admissible = _admissible(ctx)
        assert jury.may_open_attachment(ctx, admissible, admissible.version)
        replaced = jury.may_open_attachment(ctx, admissible, admissible.version - 1)
        assert (replaced.reason, replaced.refusal) == ("Ce document n'existe pas.", NotFound)
        missing = jury.may_open_attachment(ctx, None, None)
        assert (missing.reason, missing.refusal) == ("Ce document n'existe pas.", NotFound)
        with pytest.raises(NotFound, match="Ce document n'existe pas"):
            missing.enforce()


# --- The charter -------------------------------------------------------------------------------------

def test_may_sign_answers_as_sign_charter_does(selected: str) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        lens = pilots.find_pilot(ctx, LENS)
        assert charter.may_sign(ctx, lens, "territoire", SIGNED)
        unknown = charter.may_sign(ctx, lens, "maire", SIGNED)
        assert unknown.refusal is InvalidInput and unknown.reason and unknown.reason.startswith("Partie inconnue")
        same(unknown, lambda: charter.sign_charter(ctx, lens, party="maire", signatory="X", at=SIGNED))
        early = charter.may_sign(ctx, lens, "territoire", lens.selected_at - timedelta(days=1))
        assert early.reason == f"{lens.name} n'était pas encore retenu à cette date."
        same(early, lambda: charter.sign_charter(ctx, lens, party="territoire", signatory="X",
                                                 at=lens.selected_at - timedelta(days=1)))
        withdraw(ctx, lens, reason="Délibération non obtenue", at=SIGNED)
        gone = charter.may_sign(ctx, lens, "territoire", SIGNED)
        assert gone.reason and gone.reason.endswith("du programme : la charte ne se signe plus.")
        same(gone, lambda: charter.sign_charter(ctx, lens, party="territoire", signatory="X", at=SIGNED))


def test_sign_charter_reads_may_sign(selected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charter, "may_sign", lambda ctx, pilot, party, at, channel="cli": NO)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        same(NO, lambda: charter.sign_charter(ctx, arras, party="territoire", signatory="X", at=SIGNED))


# --- A pilot's year: answers to invitations, deliverables ---------------------------------------------

def _arras(session: Session) -> tuple[ProgrammeContext, Pilot]:
    ctx = ctx_of(session)
    return ctx, pilots.find_pilot(ctx, ARRAS)


def test_may_answer_answers_as_answer_invitation_does(selected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx, arras = _arras(session)
        training_session = training.sessions_of(ctx, arras)[0]
        before = training_session.starts_at - timedelta(days=1)
        assert training.may_answer(ctx, arras, training_session, before)
        started = training.may_answer(ctx, arras, training_session, training_session.starts_at)
        assert started.reason and "la réponse n'est plus possible" in started.reason
        same(started, lambda: training.answer_invitation(ctx, arras, training_session, attending=False, people="",
                                                         at=training_session.starts_at))
        lens = pilots.find_pilot(ctx, LENS)
        other = training.may_answer(ctx, lens, training_session, before)
        assert (other.reason, other.refusal) == ("Cette session n'appartient pas à ce territoire.", NotFound)
        same(other, lambda: training.answer_invitation(ctx, lens, training_session, attending=False, people="",
                                                       at=before))
        monkeypatch.setattr(training, "may_answer", lambda ctx, pilot, training_session, at: NO)
        same(NO, lambda: training.answer_invitation(ctx, arras, training_session, attending=False, people="",
                                                    at=before))


def test_may_hand_in_answers_as_the_hand_in_does(selected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx, arras = _arras(session)
        method = deliverables.find_deliverable(ctx, arras, "methode")
        assert deliverables.may_hand_in(ctx, method, KICKOFF + timedelta(days=1))
        early = deliverables.may_hand_in(ctx, method, KICKOFF - timedelta(days=1))
        assert early.reason == f"L'accompagnement de {arras.name} n'a pas commencé à cette date."
        same(early, lambda: deliverables.deliver(ctx, method, at=KICKOFF - timedelta(days=1), by="prestataire"))
        same(early, lambda: deliverables.hand_in_file(ctx, method, filename="methode.pdf", data=PDF,
                                                      at=KICKOFF - timedelta(days=1), by="prestataire"))
        monkeypatch.setattr(deliverables, "may_hand_in", lambda ctx, deliverable, at: NO)
        same(NO, lambda: deliverables.deliver(ctx, method, at=KICKOFF + timedelta(days=1), by="prestataire"))
        same(NO, lambda: deliverables.hand_in_file(ctx, method, filename="methode.pdf", data=PDF,
                                                   at=KICKOFF + timedelta(days=1), by="prestataire"))


def test_may_request_due_date_answers_as_the_request_does(selected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx, arras = _arras(session)
        method = deliverables.find_deliverable(ctx, arras, "methode")
        asked = KICKOFF + timedelta(days=2)
        later = method.due_at + timedelta(days=7)
        assert deliverables.may_request_due_date(ctx, method, asked)
        deliverables.request_due_date(ctx, method, to=later, reason="Entretiens décalés", at=asked)
        waiting = deliverables.may_request_due_date(ctx, method, asked)
        assert waiting.reason and waiting.reason.startswith("Une demande de report de « ")
        same(waiting, lambda: deliverables.request_due_date(ctx, method, to=later + timedelta(days=1),
                                                            reason="Encore", at=asked))
        deliverables.deliver(ctx, method, at=asked, by="prestataire")
        handed_in = deliverables.may_request_due_date(ctx, method, asked)
        assert handed_in.reason == f"« {method.title} » est déjà remis : son échéance ne change plus."
        same(handed_in, lambda: deliverables.request_due_date(ctx, method, to=later, reason="Encore", at=asked))
        diagnosis = deliverables.find_deliverable(ctx, arras, "diagnostic")
        assert deliverables.may_request_due_date(ctx, diagnosis, asked)
        monkeypatch.setattr(deliverables, "may_request_due_date", lambda ctx, deliverable, at: NO)
        same(NO, lambda: deliverables.request_due_date(ctx, diagnosis, to=diagnosis.due_at + timedelta(days=7),
                                                       reason="Entretiens décalés", at=asked))
