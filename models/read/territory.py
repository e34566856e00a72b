"""The territory's screen: its year of accompaniment, its charter, its sessions and what it answered;
and a session as a calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models import training
from models.context import ProgrammeContext
from models.read.calendar import session_file
from models.read.pilot import CharterView, charter_view
from models.read.report_data import PilotView, pilot_views
from models.read.steps import Step, next_steps
from models.tables import Attendance, CharterParty, Pilot, SessionAnswer, SessionStatus, TrainingSession
from models.training import answers_of, find_session, sessions_of


@dataclass(frozen=True)
class SessionLine:
    """One training session as the territory sees it."""

    session: TrainingSession
    answer: SessionAnswer | None
    past: bool
    attendance: tuple[Attendance, ...]
    """The attendance recorded by the page's instant, names sorted."""
    may_answer: bool
    form: str

    @property
    def cancelled(self) -> bool:
        """The session was cancelled (its reason is on the session)."""
        return self.session.status == SessionStatus.CANCELLED


@dataclass(frozen=True)
class TerritoryScreen:
    """The territory's page: where its year stands, what comes next, its charter and sessions."""

    pilot: Pilot
    view: PilotView
    steps: tuple[Step, ...]
    charter: CharterView
    sessions: tuple[SessionLine, ...]


def _attendance(ctx: ProgrammeContext, session_ids: list[int], now: datetime) -> dict[int, list[Attendance]]:
    found: dict[int, list[Attendance]] = {}
    for row in ctx.session.exec(select(Attendance).where(col(Attendance.session_id).in_(session_ids),
                                                         col(Attendance.recorded_at) <= now)
                                .order_by(col(Attendance.person))):
        found.setdefault(row.session_id, []).append(row)
    return found


def territory_screen(ctx: ProgrammeContext, pilot: Pilot, siren: str, now: datetime) -> TerritoryScreen:
    """The territory's page for `pilot` (SIREN `siren`) at `now`."""
    view = pilot_views(ctx, now, siren)[0]
    answers = answers_of(ctx, pilot)
    sessions = sessions_of(ctx, pilot)
    marks = _attendance(ctx, [training_session.id or 0 for training_session in sessions], now)
    lines = tuple(SessionLine(training_session, answers.get(training_session.id or 0), training_session.ends_at <= now,
                              tuple(marks.get(training_session.id or 0, [])),
                              bool(training.may_answer(ctx, pilot, training_session, now)),
                              f"reponse:{training_session.id}") for training_session in sessions)
    return TerritoryScreen(pilot, view, tuple(next_steps(ctx, pilot, now, CharterParty.TERRITORY)),
                           charter_view(ctx, pilot, CharterParty.TERRITORY, now), lines)


def session_calendar(ctx: ProgrammeContext, pilot: Pilot, key: str, stamp: datetime) -> bytes:
    """One session of the pilot as an iCalendar file to add to one's calendar (METHOD:PUBLISH),
    under its invitations' UID."""
    return session_file(ctx, pilot, find_session(ctx, pilot, key), stamp)
