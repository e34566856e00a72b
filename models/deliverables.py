"""The consultancy's deliverables per pilot: due dates, reminders, overdue notices, delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.call import manager
from models.context import Ctx
from models.errors import InvalidInput, Refused
from models.outbox import enqueue
from models.pilots import consultancy_contacts, find_pilot, pilots
from models.reminders import Planned, due_now, plan_rule
from models.tables import ConsultancyTask, Pilot, PilotStatus
from notifications.kinds import NoticeKind


def tasks_of(ctx: Ctx, pilot: Pilot) -> list[ConsultancyTask]:
    return list(ctx.session.exec(select(ConsultancyTask).where(ConsultancyTask.pilot_id == pilot.id)
                                 .order_by(col(ConsultancyTask.due_at))).all())


def find_task(ctx: Ctx, pilot: Pilot, key: str) -> ConsultancyTask:
    if pilot.status == PilotStatus.CHARTER_PENDING:
        raise Refused(f"L'accompagnement de {pilot.name} n'a pas commencé : ses livrables seront planifiés "
                      "à son lancement, une fois la charte signée par les trois parties.")
    for task in tasks_of(ctx, pilot):
        if task.key == key:
            return task
    known = ", ".join(t.key for t in tasks_of(ctx, pilot)) or "aucun"
    raise InvalidInput(f"Livrable « {key} » inconnu pour {pilot.name} (livrables : {known}).")


def deliver(ctx: Ctx, task: ConsultancyTask, *, at: datetime, by: str) -> bool:
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
    ctx.audit(at, by, "livrable.remis", "consultancy_task", task.id,
              f"{pilot.name} : livrable « {task.title} » remis{late}.")
    return True


def series(ctx: Ctx, task: ConsultancyTask) -> list[Planned]:
    """The reminders planned for a deliverable: before it is due, then while it is overdue."""
    reminders = ctx.definition.reminders
    return plan_rule(ctx.calendar, task.due_at, reminders.task, escalate_after=reminders.escalate_to_organiser)


def remind(ctx: Ctx, as_of: datetime) -> int:
    """Before a deliverable is due, remind the consultancy; once overdue, copy the Cerdd's manager."""
    sent = 0
    for pilot in pilots(ctx, PilotStatus.ACTIVE):
        for task in tasks_of(ctx, pilot):
            if task.delivered_at is not None:
                continue
            reminder = due_now([p for p in series(ctx, task) if p.at >= (pilot.kickoff_at or p.at)], as_of)
            if reminder is None:
                continue
            recipients = consultancy_contacts(ctx) + (manager(ctx) if reminder.escalate else [])
            kind = NoticeKind.TASK_OVERDUE if reminder.overdue else NoticeKind.TASK_REMINDER
            sent += enqueue(ctx.session, programme=ctx.programme, definition=ctx.definition, kind=kind,
                            recipients=recipients, key=f"livrable-{task.id}:{reminder.index}",
                            context={"pilote": pilot, "livrable": task}, at=as_of)
    return sent


@dataclass(frozen=True)
class Deliverable:
    pilot: str
    key: str
    title: str
    due_at: datetime
    delivered_at: datetime | None
    state: str


def state_of(task: ConsultancyTask, as_of: datetime) -> str:
    if task.delivered_at is not None:
        return "remis en retard" if task.delivered_at > task.due_at else "remis"
    return "en retard" if as_of >= task.due_at else "à venir"


def deliverables(ctx: Ctx, as_of: datetime, pilot_ref: str | None = None) -> list[Deliverable]:
    """Every deliverable of the consultancy, by due date, with its state at `as_of`."""
    chosen = [find_pilot(ctx, pilot_ref)] if pilot_ref else pilots(ctx)
    rows = [Deliverable(pilot.name, t.key, t.title, t.due_at, t.delivered_at, state_of(t, as_of))
            for pilot in chosen for t in tasks_of(ctx, pilot)]
    return sorted(rows, key=lambda row: (row.due_at, row.pilot))
