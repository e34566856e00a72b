"""The kick-off: a pilot whose charter all three parties signed starts its year, laid out from
that instant (phases, milestones, sessions at the pilot's seat, the consultancy's deliverables)."""

from __future__ import annotations

from datetime import datetime

from models.charter import awaiting_charter, signatures
from models.clock import add_paris, format_duration, parse_duration
from models.context import ProgrammeContext
from models.layout import lay_out, row_of, started_before
from models.notices import NoticeKind
from models.pilots import pilots, slot_taken
from models.recipients import all_parties
from models.stages import StageName, stage
from models.tables import Pilot, PilotStatus


def planned_kickoff(ctx: ProgrammeContext) -> list[datetime]:
    """The planned kick-off, while a pilot's charter awaits signatures."""
    return [ctx.definition.accompaniment.kickoff] if awaiting_charter(ctx) else []


@stage(StageName.KICKOFF, planned=planned_kickoff)
def kickoff(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Start the accompaniment of every pilot whose charter all parties signed.

    It starts at the planned kick-off, or at the last signature if that came later; its phases,
    milestones, sessions and consultancy deliverables are laid out from that instant.
    """
    accompaniment = ctx.definition.accompaniment
    started = 0
    for pilot in pilots(ctx, PilotStatus.CHARTER_PENDING):
        signed = signatures(ctx, pilot)
        if set(accompaniment.charter.parties) - set(signed):
            continue
        start = max([accompaniment.kickoff, *(s.signed_at for s in signed.values())])
        if as_of < start:
            continue
        pilot.status = PilotStatus.ACTIVE
        pilot.kickoff_at = start
        pilot.ends_at = add_paris(start, parse_duration(accompaniment.duration))
        ctx.session.add(pilot)
        _lay_out(ctx, pilot, start)
        recipients = [r for group in all_parties(ctx, pilot).values() for r in group]
        ctx.notify(NoticeKind.KICKOFF,
                   recipients=recipients, key=f"pilote-{pilot.id}",
                   context={"pilote": pilot, "accompagnement": accompaniment}, at=as_of)
        ctx.audit(as_of, "système", "pilote.lance", "pilot", pilot.id,
                  f"Accompagnement de {pilot.name} lancé pour {format_duration(accompaniment.duration)}.")
        started += 1
    return started


def _lay_out(ctx: ProgrammeContext, pilot: Pilot, start: datetime) -> None:
    """Store the pilot's year as `models.layout.lay_out` places it (a place held by another pilot's
    session moves a session to the next working day)."""
    for item in lay_out(ctx.definition.accompaniment, ctx.calendar, start, pilot.name, started_before(ctx, pilot),
                        lambda place, begins, ends: slot_taken(ctx, place, begins, ends)):
        ctx.session.add(row_of(item, pilot.id or 0))
    ctx.session.flush()
