"""The 12 months of accompaniment: phases, milestones, progress and the closing of each pilot."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, func, select

from models.context import ProgrammeContext
from models.history import History
from models.notices import NoticeKind, Recipient
from models.pilots import pilots
from models.recipients import all_parties, consultancy_contacts, manager, territory_contacts
from models.stages import StageName, stage
from models.tables import (
    Attendance,
    Deliverable,
    Milestone,
    Pilot,
    PilotPhase,
    PilotStatus,
    ProgrammeState,
    SessionStatus,
    TrainingSession,
)


@dataclass(frozen=True)
class Progress:
    """Where a pilot stands at an instant; every figure is derived from the stored facts."""

    pilot: str
    status: str
    kickoff_at: datetime | None
    ends_at: datetime | None
    elapsed_percent: int
    current_phase: str | None
    phases_done: int
    phases_total: int
    milestones_reached: int
    milestones_total: int
    sessions_held: int
    sessions_total: int
    attendance_present: int
    attendance_recorded: int
    deliverables_on_time: int
    deliverables_late: int
    deliverables_overdue: int
    deliverables_total: int

    @property
    def attendance_percent(self) -> int | None:
        if not self.attendance_recorded:
            return None
        return round(100 * self.attendance_present / self.attendance_recorded)


def progress(ctx: ProgrammeContext, pilot: Pilot, as_of: datetime) -> Progress:
    """The pilot's figures at `as_of`, from the facts recorded by then (attendance, deliveries,
    reviews, milestones reached); facts timestamped later are ignored."""
    return progress_of(ctx, [pilot], as_of)[0]


def progress_of(ctx: ProgrammeContext, chosen: list[Pilot], as_of: datetime) -> list[Progress]:
    """`progress` of each pilot of `chosen` (in that order), from five queries whatever their
    number: phases, milestones, sessions, attendance and deliverables of all of them at once."""
    session = ctx.session
    ids = [p.id for p in chosen]
    if not ids:
        return []
    past = History(session, ctx.programme_id, as_of)  # a session cancelled, a date moved later: undone
    phases: dict[int, list[PilotPhase]] = defaultdict(list)
    for phase in past.all(session.exec(select(PilotPhase).where(col(PilotPhase.pilot_id).in_(ids))
                                       .order_by(col(PilotPhase.pilot_id), col(PilotPhase.position)))):
        phases[phase.pilot_id].append(phase)
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in past.all(session.exec(select(Milestone).where(col(Milestone.pilot_id).in_(ids)))):
        milestones[milestone.pilot_id].append(milestone)
    sessions: dict[int, list[TrainingSession]] = defaultdict(list)
    stored = session.exec(select(TrainingSession).where(col(TrainingSession.pilot_id).in_(ids)))
    for training_session in past.all(stored):
        if training_session.status != SessionStatus.CANCELLED:
            sessions[training_session.pilot_id].append(training_session)
    counted = {training_session.id for rows in sessions.values() for training_session in rows}
    attendance: dict[int, list[Attendance]] = defaultdict(list)
    for row, owner in session.exec(select(Attendance, TrainingSession.pilot_id)
                                   .join(TrainingSession, col(TrainingSession.id) == Attendance.session_id)
                                   .where(col(TrainingSession.pilot_id).in_(ids),
                                          col(Attendance.recorded_at) <= as_of)):
        if row.session_id in counted:
            attendance[owner].append(row)
    deliverables: dict[int, list[Deliverable]] = defaultdict(list)
    for deliverable in past.all(session.exec(select(Deliverable).where(col(Deliverable.pilot_id).in_(ids)))):
        deliverables[deliverable.pilot_id].append(deliverable)

    def delivered(t: Deliverable) -> datetime | None:
        return t.delivered_at if t.delivered_at and t.delivered_at <= as_of else None

    found: list[Progress] = []
    for pilot in chosen:
        key = pilot.id or 0
        held = {a.session_id for a in attendance[key]}
        elapsed = 0
        if pilot.kickoff_at and pilot.ends_at:
            span = (pilot.ends_at - pilot.kickoff_at).total_seconds()
            elapsed = max(0, min(100, round(100 * (as_of - pilot.kickoff_at).total_seconds() / span)))
        current = next((p.title for p in phases[key] if p.started_at and p.started_at <= as_of
                        and not (p.completed_at and p.completed_at <= as_of)), None)
        found.append(Progress(
            pilot=pilot.name,
            status=status_at(pilot, as_of),
            kickoff_at=pilot.kickoff_at,
            ends_at=pilot.ends_at,
            elapsed_percent=elapsed,
            current_phase=current,
            phases_done=sum(1 for p in phases[key] if p.completed_at and p.completed_at <= as_of),
            phases_total=len(phases[key]),
            milestones_reached=sum(1 for m in milestones[key] if m.reached_at and m.reached_at <= as_of),
            milestones_total=len(milestones[key]),
            sessions_held=sum(1 for s in sessions[key] if s.id in held),
            sessions_total=len(sessions[key]),
            attendance_present=sum(1 for a in attendance[key] if a.present),
            attendance_recorded=len(attendance[key]),
            deliverables_on_time=sum(1 for t in deliverables[key] if (d := delivered(t)) and d <= t.due_at),
            deliverables_late=sum(1 for t in deliverables[key] if (d := delivered(t)) and d > t.due_at),
            deliverables_overdue=sum(1 for t in deliverables[key] if not delivered(t) and t.due_at <= as_of),
            deliverables_total=len(deliverables[key]),
        ))
    return found


def status_at(pilot: Pilot, as_of: datetime) -> str:
    """The pilot's status as it was at `as_of`."""
    if pilot.withdrawn_at and pilot.withdrawn_at <= as_of:
        return PilotStatus.WITHDRAWN
    if pilot.finished_at and pilot.finished_at <= as_of:
        return PilotStatus.FINISHED
    if pilot.kickoff_at and pilot.kickoff_at <= as_of:
        return PilotStatus.ACTIVE
    return PilotStatus.CHARTER_PENDING


def _active(ctx: ProgrammeContext) -> list[Pilot]:
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return pilots(ctx, PilotStatus.ACTIVE)


def planned_advance(ctx: ProgrammeContext) -> list[datetime]:
    """Each active pilot's phase starts and ends, and milestone dates."""
    if not _active(ctx):
        return []
    active = _active_of(ctx)
    instants: list[datetime] = []
    for starts_at, ends_at in ctx.session.exec(select(PilotPhase.starts_at, PilotPhase.ends_at).distinct()
                                               .join(Pilot).where(*active)):
        instants += [starts_at, ends_at]
    instants += ctx.session.exec(select(Milestone.due_at).distinct().join(Pilot).where(*active)).all()
    return instants


def _active_of(ctx: ProgrammeContext) -> tuple[Any, ...]:
    """The conditions selecting this programme's active pilots (for a join on Pilot): one query
    for all of them, not one per pilot."""
    return (Pilot.programme_id == ctx.programme_id, Pilot.status == PilotStatus.ACTIVE)


def planned_close(ctx: ProgrammeContext) -> list[datetime]:
    """Each active pilot's end (each distinct instant once, in one column query)."""
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return [end for end in ctx.session.exec(select(Pilot.ends_at).distinct().where(*_active_of(ctx))).all()
            if end is not None]


@stage(StageName.PHASES, planned=planned_advance)
def advance(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Start and complete the phases whose dates have come; mark milestones reached and say so."""
    changes = 0
    active = pilots(ctx, PilotStatus.ACTIVE)
    # Every active pilot's facts and open milestones in a few queries for the stage, not a few per
    # pilot. The rows are the session's own objects (its identity map): a phase completed below is
    # seen completed by the same pilot's milestones.
    facts = PilotFacts.read_all(ctx, as_of) if active else {}
    open_milestones: dict[int, list[Milestone]] = {}
    for milestone in (ctx.session.exec(select(Milestone).join(Pilot).where(
            *_active_of(ctx), col(Milestone.reached_at).is_(None)).order_by(col(Milestone.due_at)))
            if active else []):
        open_milestones.setdefault(milestone.pilot_id, []).append(milestone)
    for pilot in active:
        people: list[Recipient] = []  # read from the application once per pilot, when first needed
        before = changes
        own = facts.get(pilot.id or 0) or PilotFacts({}, {}, {}, {})
        phases = sorted(own.phases.values(), key=lambda p: p.position)
        for phase in phases:
            if phase.started_at is None and phase.starts_at <= as_of:
                phase.started_at = phase.starts_at
                if phase.position > 1:  # the kick-off notice already announces the first phase
                    people = people or territory_contacts(ctx, pilot) + consultancy_contacts(ctx)
                    ctx.notify(NoticeKind.PHASE_STARTED, recipients=people,
                               key=f"pilote-{pilot.id}:{phase.key}",
                               context={"pilote": pilot, "phase": phase, "rang": phase.position,
                                        "total": len(phases)}, at=as_of)
                ctx.audit(as_of, "système", "phase.debut", "pilot", pilot.id,
                          f"{pilot.name} : début de la phase « {phase.title} ».")
                changes += 1
            if phase.completed_at is None and phase.ends_at <= as_of:
                phase.completed_at = phase.ends_at
                ctx.audit(as_of, "système", "phase.fin", "pilot", pilot.id,
                          f"{pilot.name} : fin de la phase « {phase.title} ».")
                changes += 1
        if changes > before:  # a phase started or ended: its milestones read the phases as they now stand
            ctx.session.add_all(phases)
            ctx.session.flush()
        changes += _milestones(ctx, pilot, as_of, open_milestones.get(pilot.id or 0, []), own)
    return changes


@dataclass(frozen=True)
class DeliverableFact:
    """What a milestone needs to know of a deliverable (read as columns, not as a row object)."""

    key: str
    title: str
    accepted_at: datetime | None


@dataclass(frozen=True)
class SessionFact:
    """What a milestone needs to know of a session (read as columns, not as a row object)."""

    id: int
    key: str
    title: str
    status: str


_DELIVERABLE_COLUMNS: tuple[Any, ...] = (col(Deliverable.key), col(Deliverable.title), col(Deliverable.accepted_at))
_SESSION_COLUMNS: tuple[Any, ...] = (col(TrainingSession.id), col(TrainingSession.key), col(TrainingSession.title),
                                     col(TrainingSession.status))


@dataclass
class PilotFacts:
    """A pilot's deliverables and sessions (as facts: `DeliverableFact`, `SessionFact`, with when each
    session was held by `as_of`) and phases (row objects: the phases stage completes them), read
    in four queries, for checking all its milestones."""

    deliverables: dict[str, DeliverableFact]
    sessions: dict[str, SessionFact]
    held: dict[int, datetime]
    phases: dict[str, PilotPhase]

    @classmethod
    def read(cls, ctx: ProgrammeContext, pilot: Pilot, as_of: datetime) -> PilotFacts:
        session = ctx.session
        rows = session.connection().execute
        deliverables = {key: DeliverableFact(key, title, accepted) for key, title, accepted in rows(
            sa_select(*_DELIVERABLE_COLUMNS).where(col(Deliverable.pilot_id) == pilot.id))}
        sessions = {key: SessionFact(id_, key, title, status) for id_, key, title, status in rows(
            sa_select(*_SESSION_COLUMNS).where(col(TrainingSession.pilot_id) == pilot.id))}
        held: dict[int, datetime] = {}
        for session_id, first in session.exec(
                select(Attendance.session_id, func.min(Attendance.recorded_at))
                .join(TrainingSession, col(TrainingSession.id) == Attendance.session_id)
                .where(TrainingSession.pilot_id == pilot.id, col(Attendance.recorded_at) <= as_of)
                .group_by(col(Attendance.session_id))):
            held[session_id] = first
        phases = {p.key: p for p in session.exec(select(PilotPhase).where(PilotPhase.pilot_id == pilot.id))}
        return cls(deliverables, sessions, held, phases)

    @classmethod
    def read_all(cls, ctx: ProgrammeContext, as_of: datetime) -> dict[int, PilotFacts]:
        """`read` for every active pilot of the programme at once (four queries in all), by pilot id;
        a pilot without any of these rows is absent. Only the deliverables and sessions some
        milestone of the programme requires are read (`MilestoneDef.requires`): the others decide
        nothing here, and a national programme has thousands of them."""
        session, active = ctx.session, _active_of(ctx)
        needs = [m.requires for m in ctx.definition.accompaniment.milestones]
        deliverable_keys = sorted({key for need in needs for key in need.deliverables_accepted})
        session_keys = sorted({key for need in needs for key in need.sessions_held})
        out: dict[int, PilotFacts] = {}

        def of(pilot_id: int) -> PilotFacts:
            return out.setdefault(pilot_id, cls({}, {}, {}, {}))

        rows = session.connection().execute
        if deliverable_keys:
            for pilot_id, key, title, accepted in rows(sa_select(col(Deliverable.pilot_id),
                                                                 *_DELIVERABLE_COLUMNS).join(Pilot)
                                                       .where(*active, col(Deliverable.key).in_(deliverable_keys))):
                of(pilot_id).deliverables[key] = DeliverableFact(key, title, accepted)
        if session_keys:
            for pilot_id, id_, key, title, status in rows(
                    sa_select(col(TrainingSession.pilot_id), *_SESSION_COLUMNS).join(Pilot)
                    .where(*active, col(TrainingSession.key).in_(session_keys))):
                of(pilot_id).sessions[key] = SessionFact(id_, key, title, status)
            for pilot_id, session_id, first in session.exec(
                    select(TrainingSession.pilot_id, Attendance.session_id, func.min(Attendance.recorded_at))
                    .join(TrainingSession, col(TrainingSession.id) == Attendance.session_id)
                    .join(Pilot, col(Pilot.id) == TrainingSession.pilot_id)
                    .where(*active, col(TrainingSession.key).in_(session_keys), col(Attendance.recorded_at) <= as_of)
                    .group_by(col(TrainingSession.pilot_id), col(Attendance.session_id))):
                of(pilot_id).held[session_id] = first
        for phase in session.exec(select(PilotPhase).join(Pilot).where(*active)):
            of(phase.pilot_id).phases[phase.key] = phase
        return out

    def held_at(self, training_session: SessionFact) -> datetime | None:
        """As `models.training.held_at`: the first attendance recorded by then, unless cancelled."""
        if training_session.status == SessionStatus.CANCELLED or training_session.id is None:
            return None
        return self.held.get(training_session.id)


def requirements_met(ctx: ProgrammeContext, pilot: Pilot, milestone: Milestone, as_of: datetime,
                     facts: PilotFacts | None = None) -> tuple[list[str], list[str], datetime | None]:
    """What a milestone requires that is achieved by `as_of`, what is missing, and when the last
    requirement was met (None while something is missing). `facts`: the pilot's, read once for
    all its milestones (`PilotFacts.read`)."""
    definition = next((m for m in ctx.definition.accompaniment.milestones if m.key == milestone.key), None)
    if definition is None or definition.requires.empty():  # no facts declared: reached at its date
        return [], [], milestone.due_at if milestone.due_at <= as_of else None
    needs = definition.requires
    facts = facts or PilotFacts.read(ctx, pilot, as_of)
    done: list[tuple[str, datetime | None]] = []
    deliverables = facts.deliverables
    for key in needs.deliverables_accepted:
        deliverable = deliverables.get(key)
        accepted = deliverable.accepted_at if deliverable else None
        when = accepted if accepted and accepted <= as_of else None
        done.append((f"livrable « {deliverable.title if deliverable else key} » accepté", when))
    sessions = facts.sessions
    for key in needs.sessions_held:
        training_session = sessions.get(key)
        held = facts.held_at(training_session) if training_session else None
        done.append((f"session « {training_session.title if training_session else key} » tenue", held))
    phases = facts.phases
    for key in needs.phases_done:
        phase = phases.get(key)
        ended = phase.completed_at if phase and phase.completed_at and phase.completed_at <= as_of else None
        done.append((f"phase « {phase.title if phase else key} » terminée", ended))
    achieved = [what for what, when in done if when]
    missing = [what for what, when in done if not when]
    last = max((when for _, when in done if when), default=None) if not missing else None
    return achieved, missing, last


def _milestones(ctx: ProgrammeContext, pilot: Pilot, as_of: datetime, milestones: list[Milestone],
                facts: PilotFacts) -> int:
    """Reach each of the pilot's open `milestones` (by date) whose facts (`facts`, the pilot's) are
    recorded (late if after its date); once its date has passed without them, tell the Cerdd's
    manager once."""
    changes = 0
    everyone: list[Recipient] = []
    for milestone in milestones:
        achieved, missing, reached = requirements_met(ctx, pilot, milestone, as_of, facts)
        if reached is not None:
            milestone.reached_at = max(reached, pilot.kickoff_at or reached)
            ctx.session.add(milestone)
            ctx.session.flush()
            late = milestone.reached_at > milestone.due_at
            everyone = everyone or [r for group in all_parties(ctx, pilot).values() for r in group]
            ctx.notify(NoticeKind.MILESTONE, recipients=everyone, key=f"pilote-{pilot.id}:{milestone.key}",
                       context={"pilote": pilot, "jalon": milestone, "acquis": achieved, "en_retard": late,
                                "avancement": progress(ctx, pilot, as_of)}, at=as_of)
            ctx.audit(as_of, "système", "jalon.atteint", "pilot", pilot.id,
                      f"{pilot.name} : jalon « {milestone.title} » atteint{' en retard' if late else ''}.")
            changes += 1
        elif milestone.missed_at is None and milestone.due_at <= as_of:
            milestone.missed_at = milestone.due_at
            ctx.session.add(milestone)
            ctx.session.flush()
            ctx.notify(NoticeKind.MILESTONE_LATE, recipients=manager(ctx), key=f"pilote-{pilot.id}:{milestone.key}",
                       context={"pilote": pilot, "jalon": milestone, "manquants": missing, "acquis": achieved},
                       at=as_of)
            ctx.audit(as_of, "système", "jalon.en_retard", "pilot", pilot.id,
                      f"{pilot.name} : jalon « {milestone.title} » non atteint à sa date ; manque : "
                      f"{', '.join(missing)}.")
            changes += 1
    return changes


@stage(StageName.CLOSING, planned=planned_close)
def close(ctx: ProgrammeContext, as_of: datetime) -> int:
    """End each pilot's accompaniment after its duration; end the programme with the last one."""
    changes = 0
    ending = ctx.session.exec(select(Pilot).where(*_active_of(ctx), col(Pilot.ends_at) <= as_of)
                              .order_by(col(Pilot.rank))).all()  # only those whose year is over
    for pilot in ending:
        pilot.status = PilotStatus.FINISHED
        pilot.finished_at = pilot.ends_at
        ctx.session.add(pilot)
        ctx.session.flush()
        recipients = [r for group in all_parties(ctx, pilot).values() for r in group]
        ctx.notify(NoticeKind.PILOT_CLOSED, recipients=recipients, key=f"pilote-{pilot.id}",
                   context={"pilote": pilot, "avancement": progress(ctx, pilot, as_of)}, at=as_of)
        ctx.audit(as_of, "système", "pilote.termine", "pilot", pilot.id,
                  f"Fin de l'accompagnement de {pilot.name}.")
        changes += 1
    programme = ctx.programme
    if programme.state != ProgrammeState.PILOTS_SELECTED:
        return changes
    by_status = dict(ctx.session.exec(select(Pilot.status, func.count()).where(
        Pilot.programme_id == ctx.programme_id).group_by(col(Pilot.status))).all())
    if by_status.get(PilotStatus.FINISHED) and set(by_status) <= {PilotStatus.FINISHED, PilotStatus.WITHDRAWN}:
        ended = pilots(ctx, PilotStatus.FINISHED)
        programme.state = ProgrammeState.FINISHED
        programme.finished_at = max(p.finished_at for p in ended if p.finished_at)
        ctx.session.add(programme)
        ctx.notify(NoticeKind.PROGRAMME_CLOSED, recipients=manager(ctx), key=programme.slug,
                   context={"bilans": progress_of(ctx, ended, as_of)}, at=as_of)
        ctx.audit(as_of, "système", "programme.termine", "programme", programme.id,
                  f"Programme {programme.slug} terminé : {len(ended)} territoire(s) accompagné(s).")
        changes += 1
    return changes
