"""An iCalendar file of the accompaniment (METHOD:PUBLISH): training sessions and deliverables'
due dates, for every pilot or one, or for one person's own sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from sqlmodel import Session

from models.context import load_ctx
from models.deliverables import deliverables_of
from models.errors import InvalidInput
from models.invitations import DOMAIN, PRODID, session_event, session_uid
from models.notices import Recipient
from models.pilots import find_pilot, pilots
from models.recipients import manager
from models.tables import PilotStatus
from models.training import invitees, sessions_of


def build_calendar(session: Session, slug: str | None, stamp: datetime, *, pilot: str | None = None,
                   person: str | None = None) -> bytes:
    """Sessions as timed events with their place, end and SEQUENCE (cancelled ones marked so);
    deliverables as one-hour events ending at their due hour. UIDs are stable, so re-importing the
    file updates a calendar instead of duplicating it. `person` (an e-mail address) keeps the
    sessions that person is invited to, with their own invitation's UID."""
    ctx = load_ctx(session, slug)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{ctx.definition.organiser.name} — {ctx.programme.title}")
    chosen = [find_pilot(ctx, pilot)] if pilot else pilots(ctx)
    organiser = manager(ctx)[0]
    found = False
    for each in chosen:
        if each.status == PilotStatus.CHARTER_PENDING:
            continue
        attendee: Recipient | None = None
        if person is not None:
            attendee = next((r for r in invitees(ctx, each) if r.email.lower() == person.strip().lower()), None)
            if attendee is None:
                continue
        found = True
        for training_session in sessions_of(ctx, each):
            uid = f"session-{training_session.id}@{DOMAIN}"
            if attendee is not None:
                uid = session_uid(training_session, attendee.email)
            calendar.add_component(session_event(training_session, summary=f"{each.name} : {training_session.title}",
                                                 organiser=organiser, attendee=attendee, stamp=stamp, uid=uid))
        if person is not None:
            continue
        for deliverable in deliverables_of(ctx, each):
            event = Event()
            event.add("uid", f"livrable-{deliverable.id}@{DOMAIN}")
            event.add("dtstamp", stamp.astimezone(UTC))
            event.add("dtstart", (deliverable.due_at - timedelta(hours=1)).astimezone(UTC))
            event.add("dtend", deliverable.due_at.astimezone(UTC))
            event.add("sequence", deliverable.revision)
            event.add("summary", f"Échéance prestataire — {each.name} : {deliverable.title}")
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    if person is not None and not found:
        raise InvalidInput(f"{person} n'est invité(e) à aucune session d'un accompagnement commencé.")
    return calendar.to_ical()
