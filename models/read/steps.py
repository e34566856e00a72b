"""What each pilot's parties must do or attend next, at an instant: missing charter signatures,
the next session, deliverables due next or overdue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.accompaniment import status_at
from models.charter import party_of, sign_by, signatures
from models.context import ProgrammeContext
from models.tables import Deliverable, Pilot, PilotStatus, SessionStatus, TrainingSession


@dataclass(frozen=True)
class Step:
    """Something a pilot's parties must do or attend next."""

    pilot: str
    when: datetime
    what: str
    late: bool = False


def next_steps(ctx: ProgrammeContext, pilot: Pilot, as_of: datetime) -> list[Step]:
    """Missing charter signatures, the next session, and deliverables due next or overdue."""
    return next_steps_of(ctx, [pilot], as_of)


def next_steps_of(ctx: ProgrammeContext, chosen: list[Pilot], as_of: datetime) -> list[Step]:
    """`next_steps` of every pilot of `chosen`, sorted by instant: the active pilots' sessions
    and deliverables come from two queries whatever their number."""
    own: dict[int, list[Step]] = defaultdict(list)
    active: list[Pilot] = []
    for pilot in chosen:
        steps = own[pilot.id or 0]
        state = status_at(pilot, as_of)
        if state == PilotStatus.CHARTER_PENDING:
            if as_of < pilot.selected_at:
                continue
            charter = ctx.definition.accompaniment.charter
            deadline = sign_by(ctx, pilot)
            signed = {party for party, row in signatures(ctx, pilot).items() if row.signed_at <= as_of}
            steps += [Step(pilot.name, deadline, f"signature de la charte {party_of(party)}", as_of > deadline)
                      for party in sorted(set(charter.parties) - signed)]
        elif state == PilotStatus.ACTIVE:
            active.append(pilot)
    ids = [p.id for p in active]
    coming: dict[int, list[TrainingSession]] = defaultdict(list)
    deliverables: dict[int, list[Deliverable]] = defaultdict(list)
    if ids:
        for training_session in ctx.session.exec(select(TrainingSession).where(col(TrainingSession.pilot_id).in_(ids))):
            if training_session.starts_at > as_of and training_session.status != SessionStatus.CANCELLED:
                coming[training_session.pilot_id].append(training_session)
        for deliverable in ctx.session.exec(select(Deliverable).where(col(Deliverable.pilot_id).in_(ids))
                                     .order_by(col(Deliverable.id))):
            if not (deliverable.delivered_at and deliverable.delivered_at <= as_of):
                deliverables[deliverable.pilot_id].append(deliverable)
    for pilot in active:
        key = pilot.id or 0
        steps = own[key]
        if coming[key]:
            training_session = min(coming[key], key=lambda s: s.starts_at)
            steps.append(Step(pilot.name, training_session.starts_at, f"session « {training_session.title} »"))
        steps += [Step(pilot.name, t.due_at, f"livrable « {t.title} »",
                       True) for t in deliverables[key] if t.due_at <= as_of]
        ahead = [t for t in deliverables[key] if t.due_at > as_of]
        if ahead:
            deliverable = min(ahead, key=lambda t: t.due_at)
            steps.append(Step(pilot.name, deliverable.due_at, f"livrable « {deliverable.title} »"))
    # Each pilot's steps sorted, pilots in their order, then all by instant (stable: ties keep it).
    return sorted((step for pilot in chosen for step in sorted(own[pilot.id or 0], key=lambda s: s.when)),
                  key=lambda step: step.when)
