"""The territory's screen: its year of accompaniment, its charter, its sessions and what it answered;
and a session as a calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import training
from models.context import ProgrammeContext
from models.read.calendar import session_file
from models.read.pilot import CharterView, charter_view
from models.read.pilot_year import YEARS
from models.read.report_data import PilotView, view_of
from models.read.steps import Step, year_steps
from models.tables import Attendance, CharterParty, Pilot, SessionAnswer, SessionStatus, TrainingSession
from models.training import find_session


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


def territory_screen(ctx: ProgrammeContext, pilot: Pilot, siren: str, now: datetime) -> TerritoryScreen:
    """The territory's page for `pilot` (SIREN `siren`) at `now`: its year read once, or kept since
    its last change (`models.read.pilot_year.YEARS`), shared by the view, the next steps, the charter
    and the sessions."""
    year = YEARS.read(ctx, pilot, now)
    answers = year.answer_of
    lines = tuple(SessionLine(training_session, answers.get(training_session.id or 0), training_session.ends_at <= now,
                              year.attendance.get(training_session.id or 0, ()),
                              bool(training.may_answer(ctx, pilot, training_session, now)),
                              f"reponse:{training_session.id}") for training_session in year.sessions)
    return TerritoryScreen(pilot, view_of(ctx, year), tuple(year_steps(ctx, year, CharterParty.TERRITORY)),
                           charter_view(ctx, pilot, CharterParty.TERRITORY, now, year), lines)


def session_calendar(ctx: ProgrammeContext, pilot: Pilot, key: str, stamp: datetime) -> bytes:
    """One session of the pilot as an iCalendar file to add to one's calendar (METHOD:PUBLISH),
    under its invitations' UID."""
    return session_file(ctx, pilot, find_session(ctx, pilot, key), stamp)
