"""Calendar invitations (iCalendar, RFC 5545, with the RFC 5546 methods).

One UID per session, the same for every person and every door: the invitation (REQUEST), its
updates (REQUEST, same UID, higher SEQUENCE), its cancellation (CANCEL), the portal's .ics and
personal feed and the CLI's export (PUBLISH). A person who both accepts the invitation and
subscribes to the feed holds one event, which every change updates; a shared calendar that
receives two attendees' invitations holds one meeting (RFC 5546 §2.1.5: the organiser may send a
REQUEST to each attendee apart, under the one UID). SEQUENCE is the session's revision
(`TrainingSession.sequence`) everywhere; DTSTAMP is the instant the door wrote the object.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from models.notices import Recipient
from models.tables import SessionStatus, TrainingSession

if TYPE_CHECKING:
    from icalendar import Event

# icalendar (~25 ms to import) is imported where an invitation is written: a module that plans
# sessions, or a command that only reads them, does not pay for it.

PRODID = "-//Cerdd//Transitions//FR"
DOMAIN = "transitions.cerdd.org"


def session_uid(training_session: TrainingSession) -> str:
    """The event's UID for this session: stable across reschedules, the same for every invitee."""
    return f"session-{training_session.id}@{DOMAIN}"


def session_event(training_session: TrainingSession, *, summary: str, organiser: Recipient, attendee: Recipient | None,
                  stamp: datetime, uid: str, description: str = "") -> Event:
    from icalendar import Event, vCalAddress, vText

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", training_session.starts_at.astimezone(UTC))
    event.add("dtend", training_session.ends_at.astimezone(UTC))
    event.add("sequence", training_session.sequence)
    event.add("summary", summary)
    event.add("location", training_session.location)
    if description:
        event.add("description", description)
    cancelled = training_session.status == SessionStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    chair = vCalAddress(f"mailto:{organiser.email}")
    chair.params["cn"] = vText(organiser.name)
    event.add("organizer", chair)
    if attendee is not None:
        person = vCalAddress(f"mailto:{attendee.email}")
        person.params["cn"] = vText(attendee.name)
        person.params["role"] = vText("REQ-PARTICIPANT")
        person.params["partstat"] = vText("NEEDS-ACTION")
        person.params["rsvp"] = vText("TRUE")
        event.add("attendee", person)
    return event


def invitation(training_session: TrainingSession, pilot_name: str, *, organiser: Recipient, attendee: Recipient,
               stamp: datetime) -> str:
    """The iCalendar text of an invitation, an update (REQUEST) or a cancellation (CANCEL)."""
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if training_session.status == SessionStatus.CANCELLED else "REQUEST")
    description = training_session.audience and f"Public attendu : {training_session.audience}"
    if training_session.cancel_reason:
        description = f"Session annulée : {training_session.cancel_reason}"
    calendar.add_component(session_event(training_session, summary=f"{pilot_name} : {training_session.title}",
                                         organiser=organiser, attendee=attendee, stamp=stamp,
                                         uid=session_uid(training_session), description=description))
    return calendar.to_ical().decode("utf-8")
