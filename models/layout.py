"""Where a pilot's year lies under a programme definition: each phase, milestone, session and
deliverable placed from the pilot's kick-off. One rule for the kick-off (`models.kickoff`, which
stores it as rows) and for a change of a running programme (`models.programme_change`, which
compares it with the rows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from sqlmodel import col, func, select

from models.clock import WorkingCalendar, add_paris, paris, parse_duration, utc
from models.context import ProgrammeContext
from models.programme import Accompaniment
from models.tables import AuditEntry, Deliverable, Milestone, Pilot, PilotPhase, TrainingSession
from models.wording import with_article

Kind = Literal["phase", "jalon", "session", "livrable"]
KINDS: tuple[Kind, ...] = ("phase", "jalon", "session", "livrable")
"""The kinds of item of a pilot's year, in the order they are laid out (French: they reach pages)."""

Taken = Callable[[str, datetime, datetime], bool]
"""Whether a place is already held between two instants (`models.pilots.slot_taken`)."""


@dataclass(frozen=True)
class Laid:
    """One item of a pilot's year as a definition places it: `starts_at` is a phase's start, a
    session's start, a milestone's date or a deliverable's due date (UTC); `ends_at` a phase's or a
    session's end; `place` a session's place."""

    kind: Kind
    key: str
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    place: str | None = None
    audience: str = ""
    position: int = 0


def lay_out(accompaniment: Accompaniment, calendar: WorkingCalendar, start: datetime, pilot_name: str,
            staggers: int, taken: Taken | None = None) -> list[Laid]:
    """The pilot's year from its kick-off `start`: phases, milestones, sessions, deliverables, in
    the definition's order. A session is `at` after `start` plus `stagger` once per pilot started
    before this one (`staggers`, see `started_before`), on the first working day at its start
    time; a place already held then (`taken`, or another session of this year) moves it to the next
    working day. A deliverable is due on the first working day on or after `due`, at `due_time`."""
    laid = [Laid("phase", phase.key, phase.title, add_paris(start, parse_duration(phase.start)),
                 add_paris(start, parse_duration(phase.end)), position=position)
            for position, phase in enumerate(accompaniment.phases, start=1)]
    laid += [Laid("jalon", milestone.key, milestone.title, add_paris(start, parse_duration(milestone.at)))
             for milestone in accompaniment.milestones]
    territory = with_article(pilot_name)
    own: list[Laid] = []

    def held(place: str, begins: datetime, ends: datetime) -> bool:
        mine = any(s.place == place and s.starts_at < ends and begins < (s.ends_at or s.starts_at) for s in own)
        return mine or (taken is not None and taken(place, begins, ends))

    for training_session in accompaniment.sessions:
        offset = parse_duration(training_session.at)
        if training_session.stagger:
            offset += parse_duration(training_session.stagger) * staggers
        place = training_session.place.format(territoire=territory)
        length = timedelta(hours=training_session.hours)
        begins = working_day_at(calendar, add_paris(start, offset), training_session.start_time)
        while held(place, begins, begins + length):
            begins = working_day_at(calendar, begins + timedelta(days=1), training_session.start_time)
        own.append(Laid("session", training_session.key, training_session.title, begins, begins + length, place,
                        training_session.audience))
    laid += own
    laid += [Laid("livrable", deliverable.key, deliverable.title,
                  working_day_at(calendar, add_paris(start, parse_duration(deliverable.due)), deliverable.due_time))
             for deliverable in accompaniment.deliverables]
    return laid


def row_of(item: Laid, pilot_id: int) -> PilotPhase | Milestone | TrainingSession | Deliverable:
    """The row that stores `item` for the pilot (not added to any session)."""
    if item.kind == "phase":
        return PilotPhase(pilot_id=pilot_id, key=item.key, title=item.title, position=item.position,
                          starts_at=item.starts_at, ends_at=item.ends_at or item.starts_at)
    if item.kind == "jalon":
        return Milestone(pilot_id=pilot_id, key=item.key, title=item.title, due_at=item.starts_at)
    if item.kind == "session":
        return TrainingSession(pilot_id=pilot_id, key=item.key, title=item.title, location=item.place or "",
                               audience=item.audience, starts_at=item.starts_at,
                               ends_at=item.ends_at or item.starts_at)
    return Deliverable(pilot_id=pilot_id, key=item.key, title=item.title, due_at=item.starts_at)


def working_day_at(calendar: WorkingCalendar, instant: datetime, at: time) -> datetime:
    """The first working day on or after the instant's Paris date, at the given hour (UTC)."""
    day = calendar.next_working_day(paris(instant).date())
    return utc(datetime.combine(day, at))


def started_before(ctx: ProgrammeContext, pilot: Pilot) -> int:
    """How many pilots of the programme were started before `pilot` (each moves its sessions by one
    more `stagger`): the pilots started when it starts, or, once it has, those whose start was
    recorded before its own (the audit's order of « pilote.lance » entries)."""
    own = ctx.session.exec(select(AuditEntry.id).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "pilote.lance",
        AuditEntry.entity_id == pilot.id).order_by(col(AuditEntry.id))).first()
    if own is None:
        return int(ctx.session.exec(select(func.count()).select_from(Pilot).where(
            Pilot.programme_id == ctx.programme_id, col(Pilot.id) != pilot.id,
            col(Pilot.kickoff_at).is_not(None))).one())
    return int(ctx.session.exec(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "pilote.lance",
        col(AuditEntry.id) < own)).one())
