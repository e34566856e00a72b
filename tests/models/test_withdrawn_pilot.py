"""A withdrawn pilot stops at the withdrawal's instant: the notices about it still waiting do not
leave (set aside, audited, with the reason), and its deliverables and milestones read « retiré le … »
rather than « à venir » or « en retard »."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlmodel import col, select

from flows.plain import run_one_stage
from models import pilots, training
from models.db import session_scope
from models.notices import NoticeKind
from models.read.deliverables import deliverable_rows
from models.read.report_data import ItemState, pilot_views
from models.schedule import STAGES
from models.stages import StageName
from models.tables import AuditEntry, Deliverable, Notice, NoticeStatus, SessionStatus
from models.withdrawal import withdraw
from tests.conftest import at, ctx_of, start_arras

ARRAS = "200033579"
SIGNED = at("2015-06-10T10:00")
KICKOFF = at("2015-07-01T09:30")


def _overdue_queued(url: str) -> tuple[list[int], object]:
    """The first deliverable's overdue notices, queued on the morning after its due date, not sent yet."""
    with session_scope(url) as session:
        ctx = ctx_of(session)
        first = session.exec(select(Deliverable).where(Deliverable.pilot_id == pilots.find_pilot(ctx, ARRAS).id)
                             .order_by(col(Deliverable.due_at))).first()
        assert first is not None
        due = first.due_at
    run_one_stage(StageName.DELIVERABLES, due + timedelta(days=1))
    with session_scope(url) as session:
        waiting = session.exec(select(Notice.id).where(Notice.kind == NoticeKind.DELIVERABLE_OVERDUE.value,
                                                       Notice.status == NoticeStatus.PENDING)).all()
    return [n or 0 for n in waiting], due


def test_notices_about_a_withdrawn_pilot_still_waiting_do_not_leave(selected: str) -> None:
    start_arras(selected)
    waiting, due = _overdue_queued(selected)
    assert waiting
    withdrawn_at = due + timedelta(days=1, hours=1)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        withdraw(ctx, pilots.find_pilot(ctx, ARRAS), reason="Délibération retirée", at=withdrawn_at)
    with session_scope(selected) as session:
        rows = session.exec(select(Notice).where(col(Notice.id).in_(waiting))).all()
        assert {n.status for n in rows} == {NoticeStatus.EXPIRED}
        assert all(n.last_error and "retirée du programme le" in n.last_error for n in rows)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "avis.annules")).one()
        assert entry.at == withdrawn_at and set(waiting) <= set(entry.details["avis"])  # type: ignore[arg-type]
        assert all(f"n°{number}" in entry.summary for number in waiting)
        assert session.exec(select(Notice).where(Notice.kind == NoticeKind.PILOT_WITHDRAWN.value)).first()
    run_one_stage(StageName.DELIVERABLES, withdrawn_at + timedelta(days=7))  # no more reminders about it
    with session_scope(selected) as session:
        later = session.exec(select(Notice).where(
            col(Notice.kind).in_([NoticeKind.DELIVERABLE_OVERDUE.value, NoticeKind.DELIVERABLE_REMINDER.value]),
            Notice.created_at > withdrawn_at)).all()
        assert later == []


def test_a_withdrawn_pilots_deliverables_read_withdrawn_not_late(selected: str) -> None:
    start_arras(selected)
    withdrawn_at = at("2015-09-10T10:00")
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        withdraw(ctx, pilots.find_pilot(ctx, ARRAS), reason="Délibération retirée", at=withdrawn_at)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        rows = deliverable_rows(ctx, at("2015-10-01T10:00"), ARRAS)
        assert rows and {row.state for row in rows} == {"retiré le jeudi 10 septembre 2015"}
        before = deliverable_rows(ctx, at("2015-09-09T10:00"), ARRAS)
        assert {row.state for row in before} >= {"en retard", "à venir"}  # as it stood before the withdrawal
        view, = [v for v in pilot_views(ctx, at("2015-10-01T10:00")) if v.siren == ARRAS]
        assert {d.state for d in view.deliverables} == {ItemState.WITHDRAWN}
        assert {d.state_label for d in view.deliverables} == {"retiré le jeudi 10 septembre 2015"}
        assert view.progress.deliverables_overdue == 0 and view.late == []


def test_a_withdrawn_pilot_sessions_to_come_are_cancelled_in_invitees_calendars(selected: str) -> None:
    start_arras(selected)
    for stage in STAGES:  # formation 1 (3 August) is announced: its invitation goes out
        run_one_stage(stage.name, at("2015-07-10T09:00"))
    withdrawn_at = at("2015-07-15T10:00")
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        invited = {s.id: s.sequence for s in training.sessions_of(ctx, arras) if s.invited_at is not None}
        assert invited
        withdraw(ctx, arras, reason="Délibération retirée", at=withdrawn_at)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        to_come = [s for s in training.sessions_of(ctx, arras) if s.starts_at > withdrawn_at]
        assert to_come and all(s.status == SessionStatus.CANCELLED for s in to_come)
        cancelled = session.exec(select(Notice).where(Notice.kind == NoticeKind.SESSION_CANCELLED.value)).all()
        assert cancelled and {n.dedup_key.split(":")[1] for n in cancelled} == {f"session-{i}" for i in invited}
        for notice in cancelled:
            assert notice.status == NoticeStatus.PENDING and notice.calendar  # it leaves, unlike what waited
            event = Calendar.from_ical(notice.calendar)
            assert str(event["method"]) == "CANCEL"
            vevent = event.walk("VEVENT")[0]
            session_id = int(notice.dedup_key.split(":")[1].removeprefix("session-"))
            assert int(vevent["sequence"]) == invited[session_id] + 1
