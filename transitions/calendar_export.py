"""An iCalendar file of the accompaniment: training sessions and deliverables' due dates."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event
from sqlmodel import Session

from models.context import load_ctx
from models.deliverables import deliverables_of
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
            calendar.add_component(_event(f"session-{item.id}", stamp, item.starts_at, item.ends_at,
                                          f"{pilot.name} : {item.title}", item.location))
        for task in deliverables_of(ctx, pilot):
            calendar.add_component(_event(f"livrable-{task.id}", stamp, task.due_at, task.due_at,
                                          f"Échéance prestataire — {pilot.name} : {task.title}"))
    return calendar.to_ical()


def _event(uid: str, stamp: datetime, start: datetime, end: datetime, summary: str,
           location: str | None = None) -> Event:
    event = Event()
    event.add("uid", f"{uid}@transitions.cerdd.org")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    return event
