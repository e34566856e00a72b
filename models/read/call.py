"""The call's public page (`/appel/<slug>`): its texts, dates and contacts, and how long is left, as
one frozen value."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from models.context import ProgrammeContext
from models.programme import Call, StaffMember


@dataclass(frozen=True)
class CallScreen:
    """What the call's page shows at `now`: `open` before the deadline (12:00:00 Paris time is
    closed), `started` once launched, `remaining` in French (« il reste 3 jours »)."""

    slug: str
    title: str
    call: Call
    organiser: str
    phone: str
    contacts: list[StaffMember]
    departements: list[str]
    started: bool
    open: bool
    remaining: str | None


def remaining(now: datetime, deadline: datetime) -> str | None:
    """How long is left before `deadline`, in French words, rounded down to what matters: days
    (« il reste 3 jours »), under two days hours (« il reste 5 heures »), under two hours minutes;
    None once it has passed."""
    left = (deadline - now).total_seconds()
    if left <= 0:
        return None
    for seconds, unit in ((86400, "jours"), (3600, "heures")):
        count = math.floor(left / seconds)
        if count >= 2:
            return f"il reste {count} {unit}"
    minutes = max(1, math.floor(left / 60))
    return f"il reste {minutes} minute{'s' if minutes > 1 else ''}"


def call_screen(ctx: ProgrammeContext, now: datetime) -> CallScreen:
    """The call's page at `now` (the portal's clock)."""
    definition = ctx.definition
    call = definition.call
    return CallScreen(definition.slug, definition.title, call, definition.organiser.full_name,
                      definition.organiser.phone, list(definition.organiser.contacts),
                      list(call.territory.departements), now >= call.launch, now < call.deadline,
                      remaining(now, call.deadline))
