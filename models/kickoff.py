"""The kick-off: a pilot whose charter all three parties signed starts its year, laid out from
that instant (phases, milestones, sessions at the pilot's seat, the consultancy's deliverables)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import col, func, select

from models.charter import awaiting_charter, signatures
from models.clock import add_paris, format_duration, paris, parse_duration, utc
from models.context import ProgrammeContext
from models.notices import NoticeKind
from models.pilots import pilots, slot_taken
from models.recipients import all_parties
from models.stages import StageName, stage
from models.tables import Deliverable, Milestone, Pilot, PilotPhase, PilotStatus, TrainingSession
from models.wording import with_article


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
    accompaniment = ctx.definition.accompaniment
    pilot_id = pilot.id or 0
    for position, phase in enumerate(accompaniment.phases, start=1):
        ctx.session.add(PilotPhase(
            pilot_id=pilot_id, key=phase.key, title=phase.title, position=position,
            starts_at=add_paris(start, parse_duration(phase.start)),
            ends_at=add_paris(start, parse_duration(phase.end))))
    for milestone in accompaniment.milestones:
        ctx.session.add(Milestone(pilot_id=pilot_id, key=milestone.key, title=milestone.title,
                                  due_at=add_paris(start, parse_duration(milestone.at))))
    # Pilots started before this one: each moves this pilot's sessions by one more `stagger`.
    earlier = ctx.session.exec(select(func.count()).select_from(Pilot).where(
        Pilot.programme_id == ctx.programme_id, col(Pilot.id) != pilot.id,
        col(Pilot.kickoff_at).is_not(None))).one()
    territory = with_article(pilot.name)
    for training_session in accompaniment.sessions:
        offset = parse_duration(training_session.at)
        if training_session.stagger:
            offset += parse_duration(training_session.stagger) * earlier
        place = training_session.place.format(territoire=territory)
        begins = _working_day_at(ctx, add_paris(start, offset), training_session.start_time)
        while slot_taken(ctx, place, begins, begins + timedelta(hours=training_session.hours)):
            begins = _working_day_at(ctx, begins + timedelta(days=1), training_session.start_time)
        ctx.session.add(TrainingSession(
            pilot_id=pilot_id, key=training_session.key, title=training_session.title, location=place,
            audience=training_session.audience, starts_at=begins,
            ends_at=begins + timedelta(hours=training_session.hours)))
        ctx.session.flush()
    for deliverable in accompaniment.deliverables:
        ctx.session.add(Deliverable(pilot_id=pilot_id, key=deliverable.key, title=deliverable.title,
                                        due_at=_working_day_at(ctx, add_paris(start, parse_duration(deliverable.due)),
                                                               deliverable.due_time)))
    ctx.session.flush()



def _working_day_at(ctx: ProgrammeContext, instant: datetime, at: time) -> datetime:
    """The first working day on or after the instant's Paris date, at the given hour."""
    day = ctx.calendar.next_working_day(paris(instant).date())
    return utc(datetime.combine(day, at))
