"""The 12 months of accompaniment: phases, milestones, progress and the closing of each pilot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.context import Ctx
from models.notices import NoticeKind, Recipient
from models.pilots import party_of, pilots, signatures
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
    tasks_on_time: int
    tasks_late: int
    tasks_overdue: int
    tasks_total: int

    @property
    def attendance_percent(self) -> int | None:
        if not self.attendance_recorded:
            return None
        return round(100 * self.attendance_present / self.attendance_recorded)


def progress(ctx: Ctx, pilot: Pilot, as_of: datetime) -> Progress:
    session = ctx.session
    phases = session.exec(select(PilotPhase).where(PilotPhase.pilot_id == pilot.id)
                          .order_by(col(PilotPhase.position))).all()
    milestones = session.exec(select(Milestone).where(Milestone.pilot_id == pilot.id)).all()
    sessions = session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id)).all()
    attendance = session.exec(select(Attendance).where(
        col(Attendance.session_id).in_([s.id for s in sessions]))).all()
    tasks = session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id)).all()
    elapsed = 0
    if pilot.kickoff_at and pilot.ends_at:
        span = (pilot.ends_at - pilot.kickoff_at).total_seconds()
        elapsed = max(0, min(100, round(100 * (as_of - pilot.kickoff_at).total_seconds() / span)))
    current = next((p.title for p in phases if p.started_at and not p.completed_at), None)
    return Progress(
        pilot=pilot.name,
        status=pilot.status,
        kickoff_at=pilot.kickoff_at,
        ends_at=pilot.ends_at,
        elapsed_percent=elapsed,
        current_phase=current,
        phases_done=sum(1 for p in phases if p.completed_at),
        phases_total=len(phases),
        milestones_reached=sum(1 for m in milestones if m.reached_at),
        milestones_total=len(milestones),
        sessions_held=sum(1 for s in sessions if s.ends_at <= as_of),
        sessions_total=len(sessions),
        attendance_present=sum(1 for a in attendance if a.present),
        attendance_recorded=len(attendance),
        tasks_on_time=sum(1 for t in tasks if t.delivered_at and t.delivered_at <= t.due_at),
        tasks_late=sum(1 for t in tasks if t.delivered_at and t.delivered_at > t.due_at),
        tasks_overdue=sum(1 for t in tasks if not t.delivered_at and t.due_at <= as_of),
        tasks_total=len(tasks),
    )


@dataclass(frozen=True)
class Step:
    """Something a pilot's parties must do or attend next."""

    pilot: str
    when: datetime
    what: str
    late: bool = False


def next_steps(ctx: Ctx, pilot: Pilot, as_of: datetime) -> list[Step]:
    """Missing charter signatures, the next session, and deliverables due next or overdue."""
    steps: list[Step] = []
    if pilot.status == PilotStatus.CHARTER_PENDING:
        charter = ctx.definition.accompaniment.charter
        for party in sorted(set(charter.parties) - set(signatures(ctx, pilot))):
            steps.append(Step(pilot.name, charter.sign_by, f"signature de la charte {party_of(party)}",
                              as_of > charter.sign_by))
        return steps
    if pilot.status != PilotStatus.ACTIVE:
        return steps
    coming = [s for s in ctx.session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id))
              if s.starts_at > as_of]
    if coming:
        item = min(coming, key=lambda s: s.starts_at)
        steps.append(Step(pilot.name, item.starts_at, f"session « {item.title} »"))
    tasks = ctx.session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id,
                                                           col(Deliverable.delivered_at).is_(None))).all()
    steps += [Step(pilot.name, t.due_at, f"livrable « {t.title} »", True) for t in tasks if t.due_at <= as_of]
    ahead = [t for t in tasks if t.due_at > as_of]
    if ahead:
        task = min(ahead, key=lambda t: t.due_at)
        steps.append(Step(pilot.name, task.due_at, f"livrable « {task.title} »"))
    return sorted(steps, key=lambda step: step.when)


def _active(ctx: Ctx) -> list[Pilot]:
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return pilots(ctx, PilotStatus.ACTIVE)


def planned_advance(ctx: Ctx) -> list[datetime]:
    """Each active pilot's phase starts and ends, and milestone dates."""
    instants: list[datetime] = []
    for pilot in _active(ctx):
        phases = ctx.session.exec(select(PilotPhase).where(PilotPhase.pilot_id == pilot.id)).all()
        instants += [p.starts_at for p in phases] + [p.ends_at for p in phases]
        instants += [m.due_at for m in ctx.session.exec(select(Milestone).where(Milestone.pilot_id == pilot.id))]
    return instants


def planned_close(ctx: Ctx) -> list[datetime]:
    """Each active pilot's end."""
    return [pilot.ends_at for pilot in _active(ctx) if pilot.ends_at]


@stage(StageName.PHASES, planned=planned_advance)
def advance(ctx: Ctx, as_of: datetime) -> int:
    """Start and complete the phases whose dates have come; mark milestones reached and say so."""
    changes = 0
    for pilot in pilots(ctx, PilotStatus.ACTIVE):
        people: list[Recipient] = []  # read from the application once per pilot, when first needed
        phases = ctx.session.exec(select(PilotPhase).where(PilotPhase.pilot_id == pilot.id)
                                  .order_by(col(PilotPhase.position))).all()
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
            ctx.session.add(phase)
        ctx.session.flush()
        milestones = ctx.session.exec(select(Milestone).where(
            Milestone.pilot_id == pilot.id, col(Milestone.reached_at).is_(None),
            Milestone.due_at <= as_of).order_by(col(Milestone.due_at))).all()
        everyone: list[Recipient] = []
        for milestone in milestones:
            milestone.reached_at = milestone.due_at
            ctx.session.add(milestone)
            ctx.session.flush()
            everyone = everyone or [r for group in all_parties(ctx, pilot).values() for r in group]
            ctx.notify(NoticeKind.MILESTONE, recipients=everyone,
                       key=f"pilote-{pilot.id}:{milestone.key}",
                       context={"pilote": pilot, "jalon": milestone,
                                "avancement": progress(ctx, pilot, as_of)}, at=as_of)
            ctx.audit(as_of, "système", "jalon.atteint", "pilot", pilot.id,
                      f"{pilot.name} : jalon « {milestone.title} » atteint.")
            changes += 1
    return changes


@stage(StageName.CLOSING, planned=planned_close)
def close(ctx: Ctx, as_of: datetime) -> int:
    """End each pilot's accompaniment after its duration; end the programme with the last one."""
    changes = 0
    for pilot in pilots(ctx, PilotStatus.ACTIVE):
        if pilot.ends_at is None or as_of < pilot.ends_at:
            continue
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
    every = pilots(ctx)
    programme = ctx.programme
    if (programme.state == ProgrammeState.PILOTS_SELECTED and every
            and all(p.status == PilotStatus.FINISHED for p in every)):
        programme.state = ProgrammeState.FINISHED
        programme.finished_at = max(p.finished_at for p in every if p.finished_at)
        ctx.session.add(programme)
        ctx.notify(NoticeKind.PROGRAMME_CLOSED, recipients=manager(ctx), key=programme.slug,
                   context={"bilans": [progress(ctx, p, as_of) for p in every]}, at=as_of)
        ctx.audit(as_of, "système", "programme.termine", "programme", programme.id,
                  f"Programme {programme.slug} terminé : {len(every)} territoire(s) accompagné(s).")
        changes += 1
    return changes
