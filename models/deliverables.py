"""The consultancy's deliverables per pilot: due dates, reminders, overdue notices, delivery."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from models.call import manager
from models.context import Ctx
from models.errors import InvalidInput, Refused
from models.outbox import enqueue
from models.pilots import consultancy_contacts, pilots
from models.reminders import Planned, due_now, plan_rule
from models.tables import ConsultancyTask, Pilot, PilotStatus
from notifications.kinds import NoticeKind


def tasks_of(ctx: Ctx, pilot: Pilot) -> list[ConsultancyTask]:
    return list(ctx.session.exec(select(ConsultancyTask).where(ConsultancyTask.pilot_id == pilot.id)
                                 .order_by(col(ConsultancyTask.due_at))).all())


def find_task(ctx: Ctx, pilot: Pilot, key: str) -> ConsultancyTask:
    for task in tasks_of(ctx, pilot):
        if task.key == key:
            return task
    known = ", ".join(t.key for t in tasks_of(ctx, pilot)) or "aucune"
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
