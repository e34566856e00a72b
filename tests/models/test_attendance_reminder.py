"""A session with no attendance recorded a day after it ended: the Cerdd's manager is reminded
once (the `rappel-presences` deployment runs this when its proactive trigger fires)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from flows.plain import remind_attendance
from models import pilots, training
from models.db import session_scope
from models.tables import Notice, TrainingSession
from tests.conftest import ctx_of
from tests.models.test_year_of_a_pilot import ARRAS, MANAGER, _started


def _first_session(url: str) -> TrainingSession:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        return training.sessions_of(ctx, pilots.find_pilot(ctx, ARRAS))[0]


def _reminders(url: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == "presences_a_saisir")).all())


def test_missing_attendance_is_told_to_the_manager_once_a_day_after_the_session(loaded: str) -> None:
    _started(loaded)
    first = _first_session(loaded)
    ended = first.ends_at
    assert remind_attendance(ended) == 0  # it just ended: attendance may still come
    assert remind_attendance(ended + training.ATTENDANCE_GRACE - timedelta(minutes=1)) == 0
    day_after = ended + training.ATTENDANCE_GRACE
    reminded = remind_attendance(day_after)
    assert reminded >= 1  # the first session of each pilot that ended by then
    again = remind_attendance(day_after)
    assert again == 0  # idempotent: one notice per session
    notices = [n for n in _reminders(loaded) if first.title in n.subject and "Arras" in n.subject]
    assert len(notices) == 1
    assert notices[0].recipient_email == MANAGER
    assert f"transitions attend {ARRAS} {first.key}" in notices[0].body_text


def test_attendance_recorded_in_time_means_no_reminder(loaded: str) -> None:
    _started(loaded)
    first = _first_session(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), first.key)
        training.record_attendance(ctx, training_session, person="Claire Dufour", organisation="CU d'Arras",
                                   present=True, at=first.ends_at)
    remind_attendance(first.ends_at + 2 * training.ATTENDANCE_GRACE)
    assert not [n for n in _reminders(loaded) if first.title in n.subject and "Arras" in n.subject]


def test_attendance_recorded_only_after_the_reminder_instant_does_not_spare_the_reminder(loaded: str) -> None:
    """Held by an instant means recorded by then (`training.held_at`, read in one query for every
    session by `ended_between(…, unrecorded_at=)`): a sheet recorded later does not count earlier."""
    _started(loaded)
    first = _first_session(loaded)
    remind_at = first.ends_at + 2 * training.ATTENDANCE_GRACE
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), first.key)
        training.record_attendance(ctx, training_session, person="Claire Dufour", organisation="CU d'Arras",
                                   present=True, at=remind_at + timedelta(hours=1))
        assert training.held_at(ctx, training_session, remind_at) is None
    remind_attendance(remind_at)
    assert [n for n in _reminders(loaded) if first.title in n.subject and "Arras" in n.subject]


def test_a_cancelled_session_needs_no_attendance(loaded: str) -> None:
    _started(loaded)
    first = _first_session(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), first.key)
        training.cancel(ctx, training_session, reason="Salle indisponible",
                        at=first.starts_at - 3 * training.ATTENDANCE_GRACE)
    remind_attendance(first.ends_at + 2 * training.ATTENDANCE_GRACE)
    assert not [n for n in _reminders(loaded) if first.title in n.subject and "Arras" in n.subject]


def test_the_sessions_ended_between_two_ticks_are_those_a_tick_announces(loaded: str) -> None:
    _started(loaded)
    first = _first_session(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        before = training.ended_between(ctx, None, first.ends_at - timedelta(seconds=1))
        upto = training.ended_between(ctx, first.ends_at - timedelta(seconds=1), first.ends_at)
        later = training.ended_between(ctx, first.ends_at, first.ends_at + timedelta(hours=1))
    assert first.id not in [s.id for s in before]
    assert first.id in [s.id for s in upto]  # (start, end]: announced by exactly one tick
    assert first.id not in [s.id for s in later]
