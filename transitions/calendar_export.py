"""An iCalendar file of the accompaniment (METHOD:PUBLISH): training sessions and deliverables'
due dates, for every pilot or one, or for one person's own sessions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.context import load_ctx
from models.errors import InvalidInput
from models.notices import Recipient
from models.pilots import find_pilot, pilots
from models.read.calendar import accompaniment_calendar
from models.tables import Pilot, PilotStatus
from models.text import visible
from models.training import invitees


def build_calendar(session: Session, slug: str | None, stamp: datetime, *, pilot: str | None = None,
                   person: str | None = None) -> bytes:
    """Sessions as timed events with their place, end and SEQUENCE (cancelled ones marked so);
    deliverables as one-hour events ending at their due hour. UIDs are the invitations' (one per
    session, `models.invitations`), so re-importing the file, or importing it beside the mailed
    invitations, updates a calendar instead of duplicating it. `person` (an e-mail address) keeps
    the sessions that person is invited to, with them as attendee, and leaves out due dates."""
    ctx = load_ctx(session, slug)
    chosen = [find_pilot(ctx, pilot)] if pilot else pilots(ctx)
    started = [each for each in chosen if each.status != PilotStatus.CHARTER_PENDING]
    if person is None:
        return accompaniment_calendar(ctx, [(each, None) for each in started], stamp, due_dates=True)
    wanted = person.strip().lower()
    mine: list[tuple[Pilot, Recipient | None]] = []
    for each in started:
        attendee = next((r for r in invitees(ctx, each) if r.email.lower() == wanted), None)
        if attendee is not None:
            mine.append((each, attendee))
    if not mine:
        raise InvalidInput(f"{visible(person)[:80]} n'est invité(e) à aucune session d'un accompagnement commencé.")
    return accompaniment_calendar(ctx, mine, stamp, due_dates=False)
