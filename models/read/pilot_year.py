"""One pilot's year read at once, for its pages and the report: its application, its charter (every
signature, the frozen text), phases, milestones, sessions with their answers and the attendance
recorded by the instant, deliverables, and their undo log after the instant (the acts that moved them
since, read with them): five queries whatever the page shows of it, shared by the view (`report_data.view_of`), the
next steps (`steps.year_steps`) and the charter block (`pilot.charter_view`), which would each read
their part again otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import select as rows_of  # rows, not scalars, whether or not the acts are joined
from sqlmodel import Session, and_, col, select

from models.context import ProgrammeContext
from models.history import History, later
from models.tables import (
    Application,
    Attendance,
    AuditEntry,
    CharterSignature,
    CharterText,
    Deliverable,
    Milestone,
    Pilot,
    PilotPhase,
    SessionAnswer,
    TrainingSession,
)


@dataclass(frozen=True)
class PilotYear:
    """A pilot's rows as they are today (`past` undoes what was done after `as_of`)."""

    pilot: Pilot
    application: Application
    signatures: dict[str, CharterSignature]
    """Each party's signature, whenever signed (as `models.charter.signatures`), by signing instant."""
    charter_text: CharterText | None
    """The text frozen by the first signature (`models.charter_text.frozen`), None before it."""
    phases: tuple[PilotPhase, ...]
    """By position (today's: `past` undoes a later move)."""
    milestones: tuple[Milestone, ...]
    """By due date (today's)."""
    sessions: tuple[TrainingSession, ...]
    """By start."""
    answers: tuple[SessionAnswer, ...]
    """Every answer to the pilot's sessions (any respondent, any instant)."""
    attendance: dict[int, tuple[Attendance, ...]]
    """By session id: the attendance recorded by `as_of`, by name."""
    deliverables: tuple[Deliverable, ...]
    """By id."""
    past: History
    as_of: datetime

    @cached_property
    def answer_of(self) -> dict[int, SessionAnswer]:
        """The answer to each answered session, by session id (as `models.training.answers_of`)."""
        return {row.session_id: row for row in self.answers}


def read_year(ctx: ProgrammeContext, pilot: Pilot, as_of: datetime, past: History | None = None) -> PilotYear:
    """The pilot's year at `as_of` (`past`: the programme's undo log after `as_of`, read here when not
    given: a report over every pilot reads it once)."""
    session = ctx.session
    charter = session.exec(  # one row per signature (at least one): the application and frozen text repeated
        select(Application, CharterSignature, CharterText).select_from(Pilot)
        .join(Application, col(Application.id) == Pilot.application_id)
        .outerjoin(CharterSignature, col(CharterSignature.pilot_id) == Pilot.id)
        .outerjoin(CharterText, col(CharterText.pilot_id) == Pilot.id)
        .where(Pilot.id == pilot.id).order_by(col(CharterSignature.signed_at), col(CharterSignature.id))).all()
    entries: dict[int, AuditEntry] = {}
    phases: dict[int, PilotPhase] = _with_acts(session, _undone(
        rows_of(PilotPhase).where(col(PilotPhase.pilot_id) == pilot.id).order_by(col(PilotPhase.position)),
        PilotPhase, ctx, as_of, past), entries)
    milestones: dict[int, Milestone] = _with_acts(session, _undone(
        rows_of(Milestone).where(col(Milestone.pilot_id) == pilot.id)
        .order_by(col(Milestone.due_at), col(Milestone.id)),
        Milestone, ctx, as_of, past), entries)
    sessions: dict[int, TrainingSession] = {}
    answers: dict[int, SessionAnswer] = {}
    marks: dict[int, dict[int, Attendance]] = {}
    # One row per (session, answer, attendance, later act): a session's answers times its attendance list.
    for training_session, answer, mark, *entry in session.exec(_undone(
            select(TrainingSession, SessionAnswer, Attendance).where(TrainingSession.pilot_id == pilot.id)
            .outerjoin(SessionAnswer, col(SessionAnswer.session_id) == TrainingSession.id)
            .outerjoin(Attendance, and_(col(Attendance.session_id) == TrainingSession.id,
                                        col(Attendance.recorded_at) <= as_of))
            .order_by(col(TrainingSession.starts_at), col(TrainingSession.id), col(Attendance.person)),
            TrainingSession, ctx, as_of, past)):
        key = training_session.id or 0
        sessions.setdefault(key, training_session)
        if answer is not None:
            answers.setdefault(answer.id or 0, answer)
        if mark is not None:
            marks.setdefault(key, {}).setdefault(mark.id or 0, mark)
        entries.update((act.id or 0, act) for act in entry if act is not None)
    deliverables: dict[int, Deliverable] = _with_acts(session, _undone(
        rows_of(Deliverable).where(col(Deliverable.pilot_id) == pilot.id).order_by(col(Deliverable.id)),
        Deliverable, ctx, as_of, past), entries)
    return PilotYear(
        pilot=pilot, application=charter[0][0], signatures={row.party: row for _, row, _ in charter if row is not None},
        charter_text=charter[0][2], phases=tuple(phases.values()), milestones=tuple(milestones.values()),
        sessions=tuple(sessions.values()), answers=tuple(answers.values()),
        attendance={key: tuple(found.values()) for key, found in marks.items()},
        deliverables=tuple(deliverables.values()),
        past=past if past is not None else History.of(entries.values(), as_of), as_of=as_of)


Row = TypeVar("Row", Deliverable, PilotPhase, Milestone)


def _with_acts(session: Session, query: Any, entries: dict[int, AuditEntry]) -> dict[int, Row]:
    """The rows `query` (`_undone`) reads, by id in its order, each read once however many later
    acts joined it; those acts added to `entries`."""
    rows: dict[int, Row] = {}
    for row, *entry in session.exec(query):
        rows.setdefault(row.id or 0, row)
        entries.update((act.id or 0, act) for act in entry if act is not None)
    return rows


def _undone(query: Any, model: type[TrainingSession | Deliverable | PilotPhase | Milestone], ctx: ProgrammeContext,
            as_of: datetime, past: History | None) -> Any:
    """`query` on `model`'s rows with, when the programme's undo log is not given (`past`), the acts
    on each row after `as_of` outer-joined as its last entity (usually none: one row each)."""
    if past is not None:
        return query
    return query.add_columns(AuditEntry).outerjoin(AuditEntry, later(model, ctx.programme_id, as_of))
