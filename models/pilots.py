"""Pilots: the charter signed by its three parties, its reminders, and the kick-off."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import col, select

from models.clock import add_paris, format_duration, paris, parse_duration, utc
from models.context import Ctx
from models.errors import InvalidInput, NotFound, Refused
from models.notices import NoticeKind
from models.recipients import all_parties, manager
from models.reminders import Planned, due_now, plan_rule
from models.stages import StageName, stage
from models.tables import (
    Application,
    CharterParty,
    CharterSignature,
    Deliverable,
    Milestone,
    Pilot,
    PilotPhase,
    PilotStatus,
    ProgrammeState,
    TrainingSession,
)
from models.text import require_line, visible

PARTY_OF = {
    CharterParty.TERRITORY: "du territoire",
    CharterParty.ORGANISER: "du Cerdd",
    CharterParty.CONSULTANCY: "du prestataire",
}


def party_of(party: str) -> str:
    """« du territoire », « du Cerdd »… for a party key (the key itself when unknown)."""
    return PARTY_OF[CharterParty(party)] if party in set(CharterParty) else party


def pilots(ctx: Ctx, *statuses: str) -> list[Pilot]:
    query = select(Pilot).where(Pilot.programme_id == ctx.programme_id)
    if statuses:
        query = query.where(col(Pilot.status).in_(statuses))
    return list(ctx.session.exec(query.order_by(col(Pilot.rank))).all())


def find_pilot(ctx: Ctx, reference: str) -> Pilot:
    """A pilot by its lead's SIREN, receipt number or exact name."""
    for pilot in pilots(ctx):
        application = ctx.session.get(Application, pilot.application_id)
        assert application is not None
        if reference in (application.lead_siren, application.receipt_number, pilot.name):
            return pilot
    raise NotFound(f"Aucun territoire pilote ne correspond à « {visible(reference)[:80]} ».")


def signatures(ctx: Ctx, pilot: Pilot) -> dict[str, CharterSignature]:
    rows = ctx.session.exec(select(CharterSignature).where(CharterSignature.pilot_id == pilot.id)).all()
    return {row.party: row for row in rows}


def sign_charter(ctx: Ctx, pilot: Pilot, *, party: str, signatory: str, at: datetime) -> bool:
    """Record one party's signature; signing twice changes nothing."""
    parties = ctx.definition.accompaniment.charter.parties
    signatory = require_line(signatory, "Nom du ou de la signataire (--signatory)")
    if party not in parties:
        raise InvalidInput(f"Partie inconnue « {visible(party)[:40]} » (parties de la charte : {', '.join(parties)}).")
    if pilot.status != PilotStatus.CHARTER_PENDING:
        raise Refused(f"La charte de {pilot.name} est déjà signée par les trois parties.")
    if at < pilot.selected_at:
        raise Refused(f"{pilot.name} n'était pas encore retenu à cette date.")
    if party in signatures(ctx, pilot):
        return False
    ctx.session.add(CharterSignature(pilot_id=pilot.id or 0, party=party, signatory=signatory, signed_at=at))
    ctx.audit(at, signatory, "charte.signee", "pilot", pilot.id,
              f"Charte de {pilot.name} signée au nom {party_of(party)} par {signatory}.")
    return True


def charter_series(ctx: Ctx) -> list[Planned]:
    """The reminders planned around the charter's signing date."""
    reminders = ctx.definition.reminders
    return plan_rule(ctx.calendar, ctx.definition.accompaniment.charter.sign_by, reminders.charter,
                     escalate_after=reminders.escalate_to_organiser)


def _awaiting_charter(ctx: Ctx) -> list[Pilot]:
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return pilots(ctx, PilotStatus.CHARTER_PENDING)


def planned_reminders(ctx: Ctx) -> list[datetime]:
    """The charter reminders, while a pilot's charter awaits signatures."""
    return [p.at for p in charter_series(ctx)] if _awaiting_charter(ctx) else []


def planned_kickoff(ctx: Ctx) -> list[datetime]:
    """The planned kick-off, while a pilot's charter awaits signatures."""
    return [ctx.definition.accompaniment.kickoff] if _awaiting_charter(ctx) else []


@stage(StageName.CHARTER_REMINDERS, planned=planned_reminders)
def charter_reminders(ctx: Ctx, as_of: datetime) -> int:
    """Remind each party that has not signed; past the signing date, the Cerdd's manager is copied."""
    charter = ctx.definition.accompaniment.charter
    planned = charter_series(ctx)
    sent = 0
    for pilot in pilots(ctx, PilotStatus.CHARTER_PENDING):
        reminder = due_now([p for p in planned if p.at > pilot.selected_at], as_of)
        if reminder is None:
            continue
        signed = signatures(ctx, pilot)
        for party, recipients in all_parties(ctx, pilot).items():
            if party in signed:
                continue
            if reminder.escalate:
                recipients = [*recipients, *manager(ctx)]
            sent += ctx.notify(NoticeKind.CHARTER_REMINDER, recipients=recipients,
                               key=f"pilote-{pilot.id}:{party}:{reminder.index}",
                               context={"pilote": pilot, "partie": party, "partie_libelle": party_of(party),
                                        "charte": charter, "en_retard": reminder.overdue,
                                        "signees": sorted(signed)},
                               at=as_of)
    return sent


@stage(StageName.KICKOFF, planned=planned_kickoff)
def kickoff(ctx: Ctx, as_of: datetime) -> int:
    """Start the accompaniment of every pilot whose charter all parties signed.

    It starts at the planned kick-off, or at the last signature if that came later; its phases,
    milestones, sessions and consultancy tasks are laid out from that instant.
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


def _lay_out(ctx: Ctx, pilot: Pilot, start: datetime) -> None:
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
    for item in accompaniment.sessions:
        begins = _working_day_at(ctx, add_paris(start, parse_duration(item.at)), item.start_time)
        ctx.session.add(TrainingSession(
            pilot_id=pilot_id, key=item.key, title=item.title, location=item.location,
            starts_at=begins, ends_at=begins + timedelta(hours=item.hours)))
    for task in accompaniment.tasks:
        ctx.session.add(Deliverable(pilot_id=pilot_id, key=task.key, title=task.title,
                                        due_at=_working_day_at(ctx, add_paris(start, parse_duration(task.due)),
                                                               task.due_time)))
    ctx.session.flush()


def _working_day_at(ctx: Ctx, instant: datetime, at: time) -> datetime:
    """The first working day on or after the instant's Paris date, at the given hour."""
    day = ctx.calendar.next_working_day(paris(instant).date())
    return utc(datetime.combine(day, at))
