"""The back office's home for a member of the team: who is signed in, their role, and the
programme's next planned instants (read from the stored plan, `models.schedule.agenda`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.context import ProgrammeContext
from models.schedule import Due, agenda
from models.staff import PERMISSIONS, ROLE_LABELS, StaffAct
from models.tables import StaffMember, StaffRole

AGENDA_LENGTH = 8


@dataclass(frozen=True)
class StaffHome:
    """What the home page shows (values only)."""

    name: str
    email: str
    role: str
    """The role in French (« chargé·e de mission »)."""
    acts: tuple[StaffAct, ...]
    """What the role allows besides reading."""
    programme: str
    agenda: tuple[Due, ...]
    """The programme's next instants after `now`, and what happens then (French)."""


def staff_home(ctx: ProgrammeContext, member: StaffMember, now: datetime) -> StaffHome:
    """The home page of `member` at the programme's present `now`."""
    role = StaffRole(member.role)
    due = [d for d in agenda(ctx.session, now, limit=AGENDA_LENGTH * 4, live_only=False)
           if d.programme == ctx.programme.slug][:AGENDA_LENGTH]
    acts = tuple(act for act, roles in PERMISSIONS.items() if act != StaffAct.READ and role in roles)
    return StaffHome(member.name, member.email, ROLE_LABELS[role], acts, ctx.definition.title, tuple(due))
