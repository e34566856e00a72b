"""Calendars to download or subscribe to (METHOD:PUBLISH): training sessions under the UID and
SEQUENCE of their invitations (`models.invitations`), cancelled ones STATUS:CANCELLED, and the
consultancy's due dates. The CLI's export, the portal's .ics of one session and each person's
feed are written here, so every door describes one event the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from models.context import ProgrammeContext
from models.deliverables import deliverables_of
from models.invitations import DOMAIN, PRODID, session_event, session_uid
from models.links import JUROR, PARTNER, Bearer
from models.notices import Recipient
from models.pilots import find_pilot
from models.recipients import manager
from models.tables import CharterParty, Deliverable, Pilot, PilotStatus, TrainingSession
from models.training import sessions_of

if TYPE_CHECKING:
    from icalendar import Calendar, Event

# icalendar (~25 ms to import) is imported where a calendar is written.


def _calendar(name: str | None = None) -> Calendar:
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _session(ctx: ProgrammeContext, pilot: Pilot, training_session: TrainingSession, stamp: datetime,
             attendee: Recipient | None) -> Event:
    return session_event(training_session, summary=f"{pilot.name} : {training_session.title}",
                         organiser=manager(ctx)[0], attendee=attendee, stamp=stamp,
                         uid=session_uid(training_session))


def _due_date(pilot: Pilot, deliverable: Deliverable, stamp: datetime) -> Event:
    """A due date as a one-hour event ending at its due hour, free time (TRANSP:TRANSPARENT)."""
    from icalendar import Event

    event = Event()
    event.add("uid", f"livrable-{deliverable.id}@{DOMAIN}")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", (deliverable.due_at - timedelta(hours=1)).astimezone(UTC))
    event.add("dtend", deliverable.due_at.astimezone(UTC))
    event.add("sequence", deliverable.revision)
    event.add("summary", f"Échéance prestataire — {pilot.name} : {deliverable.title}")
    event.add("transp", "TRANSPARENT")
    return event


def session_file(ctx: ProgrammeContext, pilot: Pilot, training_session: TrainingSession,
                     stamp: datetime) -> bytes:
    """One session of the pilot as an iCalendar file to add to one's calendar."""
    calendar = _calendar()
    calendar.add_component(_session(ctx, pilot, training_session, stamp, None))
    return bytes(calendar.to_ical())


def accompaniment_calendar(ctx: ProgrammeContext, chosen: Sequence[tuple[Pilot, Recipient | None]],
                           stamp: datetime, *, due_dates: bool) -> bytes:
    """The sessions of the `chosen` pilots whose accompaniment has started (each with its attendee,
    if one is given), and with `due_dates` their deliverables' due dates, as one calendar named
    after the programme. Re-reading it (a subscription) updates the events it already gave."""
    calendar = _calendar(f"{ctx.definition.organiser.name} — {ctx.programme.title}")
    for pilot, attendee in chosen:
        if pilot.status == PilotStatus.CHARTER_PENDING:
            continue
        for training_session in sessions_of(ctx, pilot):
            calendar.add_component(_session(ctx, pilot, training_session, stamp, attendee))
        if due_dates:
            for deliverable in deliverables_of(ctx, pilot):
                calendar.add_component(_due_date(pilot, deliverable, stamp))
    return bytes(calendar.to_ical())


def may_subscribe(bearer: Bearer) -> bool:
    """Whether a personal link has a calendar feed: every party of a pilot's accompaniment, not the jury."""
    return bearer.role not in (JUROR, PARTNER)


def personal_feed(ctx: ProgrammeContext, bearer: Bearer, stamp: datetime, siren: str | None = None) -> bytes:
    """The calendar a link's bearer subscribes to: the sessions of their pilot, and for the Cerdd and
    the consultancy, who follow the deliverables, their due dates too. The consultancy's link for
    every pilot: with `siren`, that pilot's whole year; without, `programme_feed` (what is coming
    for every pilot, bounded)."""
    if bearer.every_pilot and not siren:
        return programme_feed(ctx, stamp)
    pilot = find_pilot(ctx, siren or bearer.siren or "")
    return accompaniment_calendar(ctx, [(pilot, None)], stamp, due_dates=bearer.role != CharterParty.TERRITORY)


FEED_PAST = timedelta(days=30)
"""How far back the feed of every pilot goes: a subscription is polled every few hours (RFC 5545
clients replace what they hold by what the feed gives), so what ended a month ago has long been seen."""
FEED_EVENTS = 500
"""Events at most in the feed of every pilot (about 160 KB: no page over 300 KB, issue 25), the
nearest first: at 1,000 pilots on the same dates a single day holds more; the later ones come in as
the earlier ones pass, and each pilot's whole year is in its own feed."""


def programme_feed(ctx: ProgrammeContext, stamp: datetime) -> bytes:
    """The consultancy's feed of every pilot whose accompaniment has started: the sessions and due
    dates ending FEED_PAST before `stamp` or later, by start, FEED_EVENTS at most; two bounded
    queries, whatever the number of pilots. Same UID and SEQUENCE as every other door."""
    from sqlmodel import col, select

    since = stamp - FEED_PAST
    started = (Pilot.programme_id == ctx.programme_id, Pilot.status != PilotStatus.CHARTER_PENDING)
    sessions = ctx.session.exec(
        select(TrainingSession, Pilot).join(Pilot, col(Pilot.id) == TrainingSession.pilot_id)
        .where(*started, col(TrainingSession.ends_at) >= since)
        .order_by(col(TrainingSession.starts_at), col(TrainingSession.id)).limit(FEED_EVENTS)).all()
    dues = ctx.session.exec(
        select(Deliverable, Pilot).join(Pilot, col(Pilot.id) == Deliverable.pilot_id)
        .where(*started, col(Deliverable.due_at) >= since)
        .order_by(col(Deliverable.due_at), col(Deliverable.id)).limit(FEED_EVENTS)).all()
    timed = sorted([(s.starts_at, 0, s.id or 0, pilot, s) for s, pilot in sessions]
                   + [(d.due_at - timedelta(hours=1), 1, d.id or 0, pilot, d) for d, pilot in dues],
                   key=lambda line: line[:3])
    calendar = _calendar(f"{ctx.definition.organiser.name} — {ctx.programme.title}")
    for _, _, _, pilot, item in timed[:FEED_EVENTS]:
        calendar.add_component(_session(ctx, pilot, item, stamp, None) if isinstance(item, TrainingSession)
                               else _due_date(pilot, item, stamp))
    return bytes(calendar.to_ical())


def feed_tag(body: bytes) -> str:
    """A weak entity tag (RFC 9110 §8.8.3) of a calendar: the SHA-256 of its lines but DTSTAMP (the
    instant it was written, which changes at each request while the events do not), so a client
    asking again with If-None-Match is answered 304 while nothing it shows has changed."""
    digest = hashlib.sha256()
    for line in body.splitlines(keepends=True):
        if not line.startswith(b"DTSTAMP"):
            digest.update(line)
    return f'W/"{digest.hexdigest()[:32]}"'
