"""One pilot's year read at once, for its pages and the report: its application, its charter (every
signature, the frozen text), phases, milestones, sessions with their answers and the attendance
recorded by the instant, deliverables, and their undo log after the instant (the acts that moved them
since, read with them): five queries whatever the page shows of it, shared by the view (`report_data.view_of`), the
next steps (`steps.year_steps`) and the charter block (`pilot.charter_view`), which would each read
their part again otherwise."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, cached_property
from typing import Any, TypeVar

from sqlalchemy import bindparam, func
from sqlalchemy import select as rows_of  # rows, not scalars, whether or not the acts are joined
from sqlmodel import Session, and_, col, select

from models.context import ProgrammeContext
from models.history import ACT_COLUMNS, Act, History, later
from models.tables import (
    Application,
    Attendance,
    AuditEntry,
    CharterSignature,
    CharterText,
    Deliverable,
    Milestone,
    Pilot,
    PilotChange,
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
    session, acts = ctx.session, past is None
    values = {"pilot_id": pilot.id, "programme_id": ctx.programme_id, "as_of": as_of}
    charter = session.exec(_statements(False)["charter"], params=values).all()
    entries: dict[int, Act] = {}
    statements = _statements(acts)
    phases: dict[int, PilotPhase] = _with_acts(session, statements["phases"], values, entries)
    milestones: dict[int, Milestone] = _with_acts(session, statements["milestones"], values, entries)
    sessions: dict[int, TrainingSession] = {}
    answers: dict[int, SessionAnswer] = {}
    marks: dict[int, dict[int, Attendance]] = {}
    # One row per (session, answer, attendance, later act): a session's answers times its attendance list.
    for training_session, answer, mark, *act in session.exec(statements["sessions"], params=values):
        key = training_session.id or 0
        sessions.setdefault(key, training_session)
        if answer is not None:
            answers.setdefault(answer.id or 0, answer)
        if mark is not None:
            marks.setdefault(key, {}).setdefault(mark.id or 0, mark)
        _add(entries, act)
    deliverables: dict[int, Deliverable] = _with_acts(session, statements["deliverables"], values, entries)
    return PilotYear(
        pilot=pilot, application=charter[0][0], signatures={row.party: row for _, row, _ in charter if row is not None},
        charter_text=charter[0][2], phases=tuple(phases.values()), milestones=tuple(milestones.values()),
        sessions=tuple(sessions.values()), answers=tuple(answers.values()),
        attendance={key: tuple(found.values()) for key, found in marks.items()},
        deliverables=tuple(deliverables.values()),
        past=past if past is not None else History.of(entries.values(), as_of), as_of=as_of)


class YearCache:
    """Pilots' years kept in this process, each checked against its pilot's changes before use (the
    territory's page reads its year here: `YEARS`).

    The database writes a `PilotChange` row for every row inserted, updated or deleted in the tables
    a year is read from, whoever writes it (triggers: `models.pilot_changes`); a pilot's stamp is the count
    and the sum of the random tokens of its rows, read in one indexed aggregate. A year read at
    `as_of` is the year at any later instant while its stamp stays the same, up to the first
    attendance recorded after `as_of` (`until`); a year with acts dated after its instant (the past
    replayed: `History` undoes them) is not kept. So `read` returns what `read_year` would: one
    statement when the kept year is good (the stamp); the stamp and the year's five queries when it
    is not. At most `size` years, the least recently used dropped first; thread-safe.

    Kept rows are shared by the requests that read them: read-only, and detached from the session
    that read them (its rollback cannot expire them under another request)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[str, int, int], _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def read(self, ctx: ProgrammeContext, pilot: Pilot, as_of: datetime) -> PilotYear:
        """The pilot's year at `as_of`, as `read_year(ctx, pilot, as_of)` reads it (read so when
        `size` is 0)."""
        if self.size <= 0:
            return read_year(ctx, pilot, as_of)
        session = ctx.session
        bind = session.get_bind()
        key = (str(bind.engine.url), ctx.programme_id, pilot.id or 0)
        values = {"pilot_id": pilot.id, "as_of": as_of}
        session.flush()  # what this session changed counts (its triggers fire), as an ORM query's autoflush does
        count, tokens, until = session.connection().execute(_STAMP, values).one()  # Core: no ORM step for three values
        stamp = (count, tokens)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept.stamp == stamp and kept.read_at <= as_of \
                    and (kept.until is None or as_of < kept.until):
                self._kept.move_to_end(key)
                self.hits += 1
                return replace(kept.year, pilot=pilot, as_of=as_of, past=History.of((), as_of))
            self.misses += 1
        year = read_year(ctx, pilot, as_of)
        if not year.past.empty:
            return year
        for row in _rows(year):
            if row in session:
                session.expunge(row)
        with self._lock:
            self._kept[key] = _Kept(stamp, as_of, until, year)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return year


@dataclass(frozen=True)
class _Kept:
    stamp: tuple[int, ...]
    read_at: datetime
    until: datetime | None
    """The first attendance of the pilot's sessions recorded after `read_at` (None: none)."""
    year: PilotYear


def _rows(year: PilotYear) -> list[Any]:
    """Every row of `year` but its pilot (the caller's)."""
    return [year.application, *year.signatures.values(), *([year.charter_text] if year.charter_text else []),
            *year.phases, *year.milestones, *year.sessions, *year.answers,
            *(mark for marks in year.attendance.values() for mark in marks), *year.deliverables]


YEARS = YearCache()
"""This process's kept years (the territory's page; the portal sets its size: PORTAL_KEPT_YEARS)."""

_PILOT: Any = bindparam("pilot_id")
_PROGRAMME: Any = bindparam("programme_id")
_AS_OF: Any = bindparam("as_of")


_STAMP: Any = select(
    func.count(), func.coalesce(func.sum(PilotChange.token), 0),
    select(func.min(Attendance.recorded_at)).join(TrainingSession, col(TrainingSession.id) == Attendance.session_id)
    .where(TrainingSession.pilot_id == _PILOT, col(Attendance.recorded_at) > _AS_OF).scalar_subquery(),
).where(PilotChange.pilot_id == _PILOT)
"""A pilot's stamp (`YearCache`): its changes counted, their tokens summed (an index-only scan), and
the first attendance of its sessions recorded after `as_of` (None: none), the end of a kept year."""


@cache
def _statements(acts: bool) -> dict[str, Any]:
    """The year's five statements, built once per process (`acts`: with each row's later acts joined,
    see `_undone`) and run with the values `pilot_id`, `programme_id`, `as_of`: building a statement
    and its cache key cost a page more than running it."""
    return {
        # one row per signature (at least one): the application and frozen text repeated
        "charter": select(Application, CharterSignature, CharterText).select_from(Pilot)
        .join(Application, col(Application.id) == Pilot.application_id)
        .outerjoin(CharterSignature, col(CharterSignature.pilot_id) == Pilot.id)
        .outerjoin(CharterText, col(CharterText.pilot_id) == Pilot.id)
        .where(Pilot.id == _PILOT).order_by(col(CharterSignature.signed_at), col(CharterSignature.id)),
        "phases": _undone(rows_of(PilotPhase).where(col(PilotPhase.pilot_id) == _PILOT)
                          .order_by(col(PilotPhase.position)), PilotPhase, acts),
        "milestones": _undone(rows_of(Milestone).where(col(Milestone.pilot_id) == _PILOT)
                              .order_by(col(Milestone.due_at), col(Milestone.id)), Milestone, acts),
        "sessions": _undone(
            select(TrainingSession, SessionAnswer, Attendance).where(TrainingSession.pilot_id == _PILOT)
            .outerjoin(SessionAnswer, col(SessionAnswer.session_id) == TrainingSession.id)
            .outerjoin(Attendance, and_(col(Attendance.session_id) == TrainingSession.id,
                                        col(Attendance.recorded_at) <= _AS_OF))
            .order_by(col(TrainingSession.starts_at), col(TrainingSession.id), col(Attendance.person)),
            TrainingSession, acts),
        "deliverables": _undone(rows_of(Deliverable).where(col(Deliverable.pilot_id) == _PILOT)
                                .order_by(col(Deliverable.id)), Deliverable, acts),
    }


Row = TypeVar("Row", Deliverable, PilotPhase, Milestone)


def _with_acts(session: Session, query: Any, values: dict[str, Any], entries: dict[int, Act]) -> dict[int, Row]:
    """The rows `query` (`_undone`) reads with `values`, by id in its order, each read once however
    many later acts joined it; those acts added to `entries`."""
    rows: dict[int, Row] = {}
    for row, *act in session.exec(query, params=values):
        rows.setdefault(row.id or 0, row)
        _add(entries, act)
    return rows


def _add(entries: dict[int, Act], columns: list[Any]) -> None:
    """The later act a row was read with (`ACT_COLUMNS`, all None when none) added to `entries`."""
    if columns and columns[0] is not None:
        entries[columns[0]] = Act(*columns)


def _undone(query: Any, model: type[TrainingSession | Deliverable | PilotPhase | Milestone], acts: bool) -> Any:
    """`query` on `model`'s rows with, when `acts` (the programme's undo log not given), the acts on
    each row after `as_of` outer-joined as its last entity (usually none: one row each)."""
    if not acts:
        return query
    return query.add_columns(*ACT_COLUMNS).outerjoin(AuditEntry, later(model, _PROGRAMME, _AS_OF))
