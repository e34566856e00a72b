"""The consultancy's deliverables per pilot: due dates, reminders, overdue notices, delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.context import Ctx
from models.errors import NotFound, Refused
from models.notices import NoticeKind
from models.pilots import find_pilot, pilots
from models.recipients import consultancy_contacts, manager
from models.reminders import Planned, due_now, plan_rule
from models.stages import StageName, stage
from models.tables import Deliverable, Pilot, PilotStatus, ProgrammeState
from models.text import visible


def deliverables_of(ctx: Ctx, pilot: Pilot) -> list[Deliverable]:
    """A pilot's deliverables, by due date."""
    return list(ctx.session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id)
                                 .order_by(col(Deliverable.due_at))).all())


def find_deliverable(ctx: Ctx, pilot: Pilot, key: str) -> Deliverable:
    """The pilot's deliverable with this key; Refused before the pilot starts, NotFound if unknown."""
    if pilot.status == PilotStatus.CHARTER_PENDING:
        raise Refused(f"L'accompagnement de {pilot.name} n'a pas commencé : ses livrables seront planifiés "
                      "à son lancement, une fois la charte signée par les trois parties.")
    for task in deliverables_of(ctx, pilot):
        if task.key == key:
            return task
    known = ", ".join(t.key for t in deliverables_of(ctx, pilot)) or "aucun"
    raise NotFound(f"Livrable « {visible(key)[:80]} » inconnu pour {pilot.name} (livrables : {known}).")


def deliver(ctx: Ctx, task: Deliverable, *, at: datetime, by: str) -> bool:
    """Mark a deliverable as handed in; handing it in twice changes nothing."""
    pilot = ctx.session.get(Pilot, task.pilot_id)
    assert pilot is not None
    if pilot.status == PilotStatus.CHARTER_PENDING or (pilot.kickoff_at and at < pilot.kickoff_at):
        raise Refused(f"L'accompagnement de {pilot.name} n'a pas commencé à cette date.")
    if task.delivered_at is not None:
        return False
    task.delivered_at = at
    ctx.session.add(task)
    late = " (en retard)" if at > task.due_at else ""
    ctx.audit(at, by, "livrable.remis", "deliverable", task.id,
              f"{pilot.name} : livrable « {task.title} » remis{late}.")
    return True


def series(ctx: Ctx, task: Deliverable) -> list[Planned]:
    """The reminders planned for a deliverable: before it is due, then while it is overdue."""
    reminders = ctx.definition.reminders
    return plan_rule(ctx.calendar, task.due_at, reminders.task, escalate_after=reminders.escalate_to_organiser)


def planned(ctx: Ctx) -> list[datetime]:
    """Each active pilot's reminders for the deliverables not handed in yet."""
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return [p.at for pilot in pilots(ctx, PilotStatus.ACTIVE) for item in deliverables_of(ctx, pilot)
            if item.delivered_at is None for p in series(ctx, item)]


@stage(StageName.DELIVERABLES, planned=planned)
def remind(ctx: Ctx, as_of: datetime) -> int:
    """Before a deliverable is due, remind the consultancy; once overdue, copy the Cerdd's manager."""
    sent = 0
    for pilot in pilots(ctx, PilotStatus.ACTIVE):
        for task in deliverables_of(ctx, pilot):
            if task.delivered_at is not None:
                continue
            reminder = due_now([p for p in series(ctx, task) if p.at >= (pilot.kickoff_at or p.at)], as_of)
            if reminder is None:
                continue
            recipients = consultancy_contacts(ctx) + (manager(ctx) if reminder.escalate else [])
            kind = NoticeKind.DELIVERABLE_OVERDUE if reminder.overdue else NoticeKind.DELIVERABLE_REMINDER
            sent += ctx.notify(kind,
                               recipients=recipients, key=f"livrable-{task.id}:{reminder.index}",
                               context={"pilote": pilot, "livrable": task}, at=as_of)
    return sent


@dataclass(frozen=True)
class DeliverableView:
    """A deliverable as the consultancy's list shows it, with its state at an instant."""

    pilot: str
    key: str
    title: str
    due_at: datetime
    delivered_at: datetime | None
    state: str


def state_of(task: Deliverable, as_of: datetime) -> str:
    """remis, remis en retard, en retard or à venir, at `as_of`."""
    if task.delivered_at is not None:
        return "remis en retard" if task.delivered_at > task.due_at else "remis"
    return "en retard" if as_of >= task.due_at else "à venir"


def deliverables(ctx: Ctx, as_of: datetime, pilot_ref: str | None = None) -> list[DeliverableView]:
    """Every deliverable of the consultancy, by due date, with its state at `as_of`."""
    chosen = [find_pilot(ctx, pilot_ref)] if pilot_ref is not None else pilots(ctx)
    rows = [DeliverableView(pilot.name, t.key, t.title, t.due_at, t.delivered_at, state_of(t, as_of))
            for pilot in chosen for t in deliverables_of(ctx, pilot)]
    return sorted(rows, key=lambda row: (row.due_at, row.pilot))
