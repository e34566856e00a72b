"""Session reminders follow the territory's answer to the invitation: a territory that said it will
be absent is not reminded, the consultancy still is; a change of mind brings the reminder back."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from flows.plain import run_one_stage
from models import pilots, training
from models.context import ProgrammeContext
from models.db import session_scope
from models.notices import NoticeKind
from models.recipients import consultancy_contacts, territory_contacts
from models.stages import StageName
from models.tables import AuditEntry, Notice, NoticeStatus, Pilot, TrainingSession
from tests.conftest import at, ctx_of, start_arras

ARRAS = "200033579"
SIGNED = at("2015-06-10T10:00")
KICKOFF = at("2015-07-01T09:30")


def _first_session(session: Session) -> tuple[ProgrammeContext, Pilot, TrainingSession]:
    ctx = ctx_of(session)
    arras = pilots.find_pilot(ctx, ARRAS)
    return ctx, arras, training.sessions_of(ctx, arras)[0]


def _reminded(url: str, session_id: int) -> set[str]:
    with session_scope(url) as session:
        rows = session.exec(select(Notice.recipient_email).where(
            Notice.kind == NoticeKind.SESSION_REMINDER.value,
            col(Notice.dedup_key).startswith(f"{NoticeKind.SESSION_REMINDER.value}:session-{session_id}:"))).all()
    return {email.lower() for email in rows}


def test_a_territory_that_answered_absent_is_not_reminded(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx, arras, first = _first_session(session)
        reminder = training.series(ctx, first)[-1]
        training.answer_invitation(ctx, arras, first, attending=False, people="", at=reminder.at - timedelta(days=1))
        territory = {p.email.lower() for p in territory_contacts(ctx, arras)}
        consultancy = {p.email.lower() for p in consultancy_contacts(ctx)}
        session_id = first.id or 0
    run_one_stage(StageName.SESSIONS, reminder.at)
    reminded = _reminded(selected, session_id)
    assert reminded == consultancy and not reminded & territory


def test_a_territory_that_comes_back_to_present_is_reminded_again(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx, arras, first = _first_session(session)
        reminder = training.series(ctx, first)[-1]
        training.answer_invitation(ctx, arras, first, attending=False, people="", at=reminder.at - timedelta(days=1))
        territory = {p.email.lower() for p in territory_contacts(ctx, arras)}
        session_id = first.id or 0
    run_one_stage(StageName.SESSIONS, reminder.at)
    assert not _reminded(selected, session_id) & territory
    later = reminder.at + timedelta(hours=1)
    with session_scope(selected) as session:
        ctx, arras, first = _first_session(session)
        training.answer_invitation(ctx, arras, first, attending=True, people="Claire Dufour", at=later)
    run_one_stage(StageName.SESSIONS, later + timedelta(minutes=1))
    assert territory <= _reminded(selected, session_id)


def test_a_reminder_queued_before_an_absent_answer_does_not_leave(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx, arras, first = _first_session(session)
        reminder = training.series(ctx, first)[-1]
        territory = {p.email.lower() for p in territory_contacts(ctx, arras)}
        session_id = first.id or 0
    run_one_stage(StageName.SESSIONS, reminder.at)  # queued for everyone, not sent yet
    assert territory <= _reminded(selected, session_id)
    with session_scope(selected) as session:
        ctx, arras, first = _first_session(session)
        training.answer_invitation(ctx, arras, first, attending=False, people="", at=reminder.at + timedelta(minutes=5))
    with session_scope(selected) as session:
        rows = session.exec(select(Notice).where(
            col(Notice.dedup_key).startswith(f"{NoticeKind.SESSION_REMINDER.value}:session-{session_id}:"))).all()
        status = {row.recipient_email.lower(): row.status for row in rows}
        assert {status[email] for email in territory} == {NoticeStatus.EXPIRED}
        assert {s for email, s in status.items() if email not in territory} == {NoticeStatus.PENDING}
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "avis.annules")).one()
        assert "a répondu absent" in audit.summary and len(audit.details["avis"]) == len(territory)
