"""What is due at an instant: the ordered stages of the programme, and the next instant that matters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, select

from models import accompaniment, call, deliverables, intents, jury, pilots, training
from models.context import Ctx, all_ctx
from models.tables import Milestone, PilotPhase, PilotStatus, Stage

StageFn = Callable[[Ctx, datetime], int]

STAGES: dict[str, StageFn] = {
    "lancement_appel": call.launch_call,
    "relances_appel": intents.remind,
    "cloture_appel": call.close_call,
    "relances_jury": jury.remind,
    "selection_jury": jury.select_pilots,
    "relances_charte": pilots.charter_reminders,
    "lancement_pilotes": pilots.kickoff,
    "phases_jalons": accompaniment.advance,
    "sessions": training.notify,
    "livrables": deliverables.remind,
    "cloture": accompaniment.close,
}
"""Every stage, in the order a tick runs them (a later stage sees what an earlier one changed)."""


def run_stage(session: Session, name: str, as_of: datetime, slug: str | None = None) -> int:
    """Run one stage for every loaded programme (or one); returns the number of changes."""
    function = STAGES[name]
    contexts = all_ctx(session, lock=True)
    return sum(function(ctx, as_of) for ctx in contexts if slug in (None, ctx.programme.slug))


def next_due(session: Session, after: datetime) -> datetime | None:
    """The first instant after `after` at which a tick has something to do, if any is planned."""
    candidates: list[datetime] = []
    for ctx in all_ctx(session):
        candidates += _planned(ctx)
    later = [c for c in candidates if c > after]
    return min(later) if later else None


def _planned(ctx: Ctx) -> list[datetime]:
    definition = ctx.definition
    stage = ctx.programme.stage
    if stage == Stage.READY:
        return [definition.call.launch]
    if stage == Stage.CALL_OPEN:
        return [definition.call.deadline, *(p.at for p in intents.series(ctx))]
    if stage == Stage.CALL_CLOSED:
        return [definition.jury.meeting, *(p.at for p in jury.series(ctx))]
    if stage == Stage.FINISHED:
        return []
    instants: list[datetime] = []
    for pilot in pilots.pilots(ctx, PilotStatus.CHARTER_PENDING, PilotStatus.ACTIVE):
        if pilot.status == PilotStatus.CHARTER_PENDING:
            instants += [p.at for p in pilots.charter_series(ctx)]
            instants.append(definition.accompaniment.kickoff)
            continue
        session = ctx.session
        phases = session.exec(select(PilotPhase).where(PilotPhase.pilot_id == pilot.id)).all()
        instants += [p.starts_at for p in phases] + [p.ends_at for p in phases]
        instants += [m.due_at for m in session.exec(select(Milestone).where(Milestone.pilot_id == pilot.id))]
        for item in training.sessions_of(ctx, pilot):
            instants += [p.at for p in training.series(ctx, item)]
        for task in deliverables.tasks_of(ctx, pilot):
            if task.delivered_at is None:
                instants += [p.at for p in deliverables.series(ctx, task)]
        if pilot.ends_at:
            instants.append(pilot.ends_at)
    return instants
