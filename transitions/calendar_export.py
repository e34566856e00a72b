"""An iCalendar file of the accompaniment: training sessions and deliverables' due dates."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event
from sqlmodel import Session

from models.context import load_ctx
from models.deliverables import tasks_of
from models.pilots import pilots
from models.training import sessions_of


def build_calendar(session: Session, slug: str | None, stamp: datetime) -> bytes:
    """Sessions as events with their place; deliverables as events at their due hour. UIDs are
    stable, so re-importing the file updates a calendar instead of duplicating it."""
    ctx = load_ctx(session, slug)
    calendar = Calendar()
    calendar.add("prodid", "-//Cerdd//Transitions//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{ctx.definition.organiser.name} — {ctx.programme.title}")
    for pilot in pilots(ctx):
        for item in sessions_of(ctx, pilot):
            event = Event()
            event.add("uid", f"session-{item.id}@transitions.cerdd.org")
            event.add("dtstamp", stamp.astimezone(UTC))
            event.add("dtstart", item.starts_at)
            event.add("dtend", item.ends_at)
            event.add("summary", f"{pilot.name} : {item.title}")
            event.add("location", item.location)
            calendar.add_component(event)
        for task in tasks_of(ctx, pilot):
            event = Event()
            event.add("uid", f"livrable-{task.id}@transitions.cerdd.org")
            event.add("dtstamp", stamp.astimezone(UTC))
            event.add("dtstart", task.due_at)
            event.add("dtend", task.due_at)
            event.add("summary", f"Échéance prestataire — {pilot.name} : {task.title}")
            calendar.add_component(event)
    return calendar.to_ical()
