"""Pilots: the charter signed by its three parties, its reminders and deadline (extended, or the
pilot withdrawn and its place offered to the next application), and the kick-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from sqlmodel import col, func, select

from models.clock import add_paris, format_duration, format_paris, paris, parse_duration, utc
from models.context import Ctx
from models.errors import InvalidInput, NotFound, Refused
from models.forms import siren_or_reference
from models.notices import NoticeKind
from models.recipients import all_parties, manager
from models.reminders import Planned, due_now, plan_rule
from models.stages import StageName, stage
from models.tables import (
    Application,
    ApplicationStatus,
    CharterParty,
    CharterSignature,
    Deliverable,
    Milestone,
    Pilot,
    PilotPhase,
    PilotStatus,
    ProgrammeState,
    SessionStatus,
    TrainingSession,
)
from models.text import require_line, visible
from models.wording import with_article

PARTY_OF = {
    CharterParty.TERRITORY: "du territoire",
    CharterParty.ORGANISER: "du Cerdd",
    CharterParty.CONSULTANCY: "du prestataire",
}

PARTY_NAME = {
    CharterParty.TERRITORY: "le territoire",
    CharterParty.ORGANISER: "le Cerdd",
    CharterParty.CONSULTANCY: "le prestataire",
}
"""Each party of the charter as a sentence names it."""


def party_name(party: str) -> str:
    """« le territoire », « le Cerdd », « le prestataire » for a party key (the key itself when unknown)."""
    return PARTY_NAME[CharterParty(party)] if party in set(CharterParty) else party


def party_of(party: str) -> str:
    """« du territoire », « du Cerdd »… for a party key (the key itself when unknown)."""
    return PARTY_OF[CharterParty(party)] if party in set(CharterParty) else party


def pilots(ctx: Ctx, *statuses: str) -> list[Pilot]:
    query = select(Pilot).where(Pilot.programme_id == ctx.programme_id)
    if statuses:
        query = query.where(col(Pilot.status).in_(statuses))
    return list(ctx.session.exec(query.order_by(col(Pilot.rank))).all())


ActiveRow = TypeVar("ActiveRow", Deliverable, TrainingSession)


def by_active_pilot(ctx: Ctx, model: type[ActiveRow], *order: Any) -> dict[int, list[ActiveRow]]:
    """Rows of `model` (a table with a `pilot_id`) of every active pilot of the programme, by pilot
    id, each list in `order`, in one query: a stage walking every pilot reads them once."""
    found: dict[int, list[ActiveRow]] = {}
    for row in ctx.session.exec(select(model).join(Pilot).where(
            Pilot.programme_id == ctx.programme_id, Pilot.status == PilotStatus.ACTIVE).order_by(*order)):
        found.setdefault(row.pilot_id, []).append(row)
    return found


def find_pilot(ctx: Ctx, reference: str) -> Pilot:
    """A pilot by its lead's SIREN, receipt number or exact name; InvalidInput for a malformed
    SIREN (digits only, bad key or length), NotFound when nothing matches."""
    reference = siren_or_reference(reference)
    for pilot in pilots(ctx):
        application = ctx.session.get(Application, pilot.application_id)
        assert application is not None
        if reference in (application.lead_siren, application.receipt_number, pilot.name):
            return pilot
    raise NotFound(f"Aucun territoire pilote ne correspond à « {visible(reference)[:80]} ».")


def signatures(ctx: Ctx, pilot: Pilot) -> dict[str, CharterSignature]:
    rows = ctx.session.exec(select(CharterSignature).where(CharterSignature.pilot_id == pilot.id)).all()
    return {row.party: row for row in rows}


def sign_charter(ctx: Ctx, pilot: Pilot, *, party: str, signatory: str, at: datetime, role: str = "",
                 channel: str = "cli") -> bool:
    """Record one party's signature (the signatory's name and role, the channel: « cli » or
    « portail »); the audit entry records the SHA-256 of the charter's text as signed
    (`models.participation.charter_text`). Signing twice changes nothing."""
    from models.participation import charter_sha256  # participation builds on this module

    parties = ctx.definition.accompaniment.charter.parties
    signatory = require_line(signatory, "Nom du ou de la signataire")
    role = require_line(role, "Qualité du ou de la signataire") if role.strip() else ""
    if party not in parties:
        raise InvalidInput(f"Partie inconnue « {visible(party)[:40]} » (parties de la charte : {', '.join(parties)}).")
    if pilot.status == PilotStatus.WITHDRAWN:
        raise Refused(f"{pilot.name} a été retiré{_e(pilot)} du programme : la charte ne se signe plus.")
    if pilot.status != PilotStatus.CHARTER_PENDING:
        raise Refused(f"La charte de {pilot.name} est déjà signée par les trois parties.")
    if at < pilot.selected_at:
        raise Refused(f"{pilot.name} n'était pas encore retenu à cette date.")
    if party in signatures(ctx, pilot):
        return False
    ctx.session.add(CharterSignature(pilot_id=pilot.id or 0, party=party, signatory=signatory, role=role,
                                     channel=channel, signed_at=at))
    ctx.session.flush()
    quality = f" ({role})" if role else ""
    ctx.audit(at, signatory, "charte.signee", "pilot", pilot.id,
              f"Charte de {pilot.name} signée au nom {party_of(party)} par {signatory}{quality}.",
              partie=party, qualite=role, canal=channel, charte_sha256=charter_sha256(ctx, pilot))
    return True


def sign_by(ctx: Ctx, pilot: Pilot) -> datetime:
    """The pilot's signing deadline: the programme's, unless extended or offered later."""
    return pilot.sign_by or ctx.definition.accompaniment.charter.sign_by


def charter_series(ctx: Ctx, pilot: Pilot) -> list[Planned]:
    """The reminders planned around the pilot's signing deadline."""
    reminders = ctx.definition.reminders
    return plan_rule(ctx.calendar, sign_by(ctx, pilot), reminders.charter,
                     escalate_after=reminders.escalate_to_organiser)


def _awaiting_charter(ctx: Ctx) -> list[Pilot]:
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return pilots(ctx, PilotStatus.CHARTER_PENDING)


def planned_reminders(ctx: Ctx) -> list[datetime]:
    """The charter reminders and the deadline of each pilot whose charter awaits signatures."""
    return [at for pilot in _awaiting_charter(ctx)
            for at in [*(p.at for p in charter_series(ctx, pilot)), sign_by(ctx, pilot)]]


def planned_kickoff(ctx: Ctx) -> list[datetime]:
    """The planned kick-off, while a pilot's charter awaits signatures."""
    return [ctx.definition.accompaniment.kickoff] if _awaiting_charter(ctx) else []


def _deadline_key(ctx: Ctx, pilot: Pilot) -> str:
    return f"pilote-{pilot.id}:{sign_by(ctx, pilot).strftime('%Y%m%dT%H%M')}"


@stage(StageName.CHARTER_REMINDERS, planned=planned_reminders)
def charter_reminders(ctx: Ctx, as_of: datetime) -> int:
    """Remind each party that has not signed; past the signing date, the Cerdd's manager is copied,
    and told once per deadline that a decision is due (extend the deadline or withdraw the pilot)."""
    charter = ctx.definition.accompaniment.charter
    sent = 0
    for pilot in pilots(ctx, PilotStatus.CHARTER_PENDING):
        deadline = sign_by(ctx, pilot)
        signed = signatures(ctx, pilot)
        missing = [party_of(p) for p in charter.parties if p not in signed]
        if as_of >= deadline and missing:
            sent += ctx.notify(NoticeKind.CHARTER_EXPIRED, recipients=manager(ctx),
                               key=_deadline_key(ctx, pilot),
                               context={"pilote": pilot, "charte": charter, "echeance": deadline,
                                        "manquantes": missing}, at=as_of)
        reminder = due_now([p for p in charter_series(ctx, pilot) if p.at > pilot.selected_at], as_of)
        if reminder is None:
            continue
        for party, recipients in all_parties(ctx, pilot).items():
            if party in signed:
                continue
            if reminder.escalate:
                recipients = [*recipients, *manager(ctx)]
            sent += ctx.notify(NoticeKind.CHARTER_REMINDER, recipients=recipients,
                               key=f"{_deadline_key(ctx, pilot)}:{party}:{reminder.index}",
                               context={"pilote": pilot, "partie": party, "partie_libelle": party_of(party),
                                        "charte": charter, "en_retard": reminder.overdue,
                                        "signees": sorted(signed), "echeance": deadline},
                               at=as_of)
    return sent


def extend_charter(ctx: Ctx, pilot: Pilot, *, to: datetime, reason: str, at: datetime, by: str = "cerdd") -> bool:
    """Give a pilot whose charter is not fully signed a new signing deadline (a reason is required);
    its parties are told, and reminders follow the new date."""
    if not reason.strip():
        raise InvalidInput("Prolongation refusée : le motif est obligatoire.")
    if pilot.status != PilotStatus.CHARTER_PENDING:
        raise Refused(f"La charte de {pilot.name} n'attend plus de signature : rien à prolonger.")
    if to <= at:
        raise InvalidInput(f"La nouvelle date ({format_paris(to)}) doit être postérieure au {format_paris(at)}.")
    if pilot.sign_by == to:
        return False
    before = sign_by(ctx, pilot)
    pilot.sign_by = to
    ctx.session.add(pilot)
    ctx.session.flush()
    recipients = [r for group in all_parties(ctx, pilot).values() for r in group]
    ctx.notify(NoticeKind.CHARTER_EXTENDED, recipients=recipients, key=_deadline_key(ctx, pilot),
               context={"pilote": pilot, "charte": ctx.definition.accompaniment.charter, "echeance": to,
                        "motif": reason}, at=at)
    ctx.audit(at, by, "charte.prolongee", "pilot", pilot.id,
              f"Charte de {pilot.name} : date de signature reportée du {format_paris(before)} "
              f"au {format_paris(to)} ({reason}).", motif=reason)
    return True


def withdraw(ctx: Ctx, pilot: Pilot, *, reason: str, at: datetime, by: str = "cerdd") -> Pilot | None:
    """Withdraw a pilot from the programme (its parties are told) and offer its place to the next
    admissible application of the ranking above the threshold that was not selected, while the
    jury's maximum allows; returns the new pilot, if any. Withdrawing twice changes nothing."""
    from models.jury import ranking  # the jury module imports this one

    if not reason.strip():
        raise InvalidInput("Retrait refusé : le motif est obligatoire.")
    if pilot.status == PilotStatus.WITHDRAWN:
        return None
    if pilot.status == PilotStatus.FINISHED:
        raise Refused(f"L'accompagnement de {pilot.name} est terminé : il ne peut plus être retiré.")
    if at < pilot.selected_at:
        raise Refused(f"{pilot.name} n'était pas encore retenu{_e(pilot)} à cette date.")
    pilot.status = PilotStatus.WITHDRAWN
    pilot.withdrawn_at = at
    pilot.withdraw_reason = reason
    ctx.session.add(pilot)
    for item in ctx.session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id)):
        if item.status != SessionStatus.CANCELLED and item.starts_at > at:
            item.status = SessionStatus.CANCELLED
            item.cancel_reason = "Territoire retiré du programme"
            ctx.session.add(item)
    ctx.session.flush()
    ctx.audit(at, by, "pilote.retire", "pilot", pilot.id, f"{pilot.name} retiré{_e(pilot)} du programme : {reason}.",
              motif=reason)
    jury = ctx.definition.jury
    taken = {p.application_id for p in pilots(ctx)}
    remaining = len(pilots(ctx, PilotStatus.CHARTER_PENDING, PilotStatus.ACTIVE, PilotStatus.FINISHED))
    successor: Pilot | None = None
    if remaining < jury.pilots.max:
        ranked = ranking(ctx)
        for rank, entry in enumerate(ranked, start=1):
            application = entry.application
            if (application.id in taken or application.status != ApplicationStatus.NOT_SELECTED
                    or not entry.complete or (entry.score or 0) < jury.threshold):
                continue
            successor = _offer_place(ctx, application, rank, entry.score or 0, replaced=pilot, at=at)
            break
    recipients = [r for group in all_parties(ctx, pilot).values() for r in group]
    ctx.notify(NoticeKind.PILOT_WITHDRAWN, recipients=recipients, key=f"pilote-{pilot.id}",
               context={"pilote": pilot, "motif": reason, "remplacant": successor}, at=at)
    return successor


@dataclass(frozen=True)
class Withdrawal:
    """A pilot's withdrawal as its pages tell it: when, why, and the pilot offered its place."""

    at: datetime
    reason: str
    successor: str | None


def withdrawal_of(ctx: Ctx, pilot: Pilot, as_of: datetime | None = None) -> Withdrawal | None:
    """The pilot's withdrawal recorded by `as_of` (any time if None), or None. Its successor is the
    pilot whose place was offered by the withdrawal itself (`withdraw` selects it at the same
    instant); None when no application could take the place."""
    if pilot.withdrawn_at is None or (as_of is not None and pilot.withdrawn_at > as_of):
        return None
    successor = next((p.name for p in pilots(ctx) if p.id != pilot.id and p.selected_at == pilot.withdrawn_at),
                     None)
    return Withdrawal(pilot.withdrawn_at, pilot.withdraw_reason or "", successor)


def _e(pilot: Pilot) -> str:
    from models.wording import agreement

    return agreement(pilot.name)


def _offer_place(ctx: Ctx, application: Application, rank: int, score: float, *, replaced: Pilot,
                 at: datetime) -> Pilot:
    from models.applications import form_of
    from models.clock import format_number
    from models.recipients import applicants
    from models.wording import of_territory

    jury = ctx.definition.jury
    charter = ctx.definition.accompaniment.charter
    deadline = utc(datetime.combine(ctx.calendar.shift_working_days(paris(at).date(), charter.extension), time(18)))
    application.status = ApplicationStatus.SELECTED
    application.decided_at = at
    application.decision_reason = (
        f"Retenue après le retrait {of_territory(replaced.name)} : note pondérée "
        f"{format_number(score)}/{jury.scale_max}, rang {rank}.")
    ctx.session.add(application)
    successor = Pilot(programme_id=ctx.programme_id, application_id=application.id or 0,
                      organisation_id=application.organisation_id, name=application.lead_name, rank=rank,
                      selected_at=at, sign_by=deadline)
    ctx.session.add(successor)
    ctx.session.flush()
    ctx.notify(NoticeKind.SELECTED, recipients=applicants(form_of(ctx.session, application)),
               key=application.receipt_number,
               context={"candidature": application, "note": score, "rang": rank, "echeance": deadline,
                        "remplace": replaced}, at=at)
    notify_charter_to_sign(ctx, successor, at)
    ctx.audit(at, "cerdd", "candidature.retenue", "application", application.id,
              f"{application.lead_name} : {application.decision_reason}")
    return successor


def notify_charter_to_sign(ctx: Ctx, pilot: Pilot, at: datetime) -> None:
    """Ask each party to sign the pilot's charter before its deadline."""
    accompaniment = ctx.definition.accompaniment
    for party, recipients in all_parties(ctx, pilot).items():
        ctx.notify(NoticeKind.CHARTER_TO_SIGN, recipients=recipients, key=f"pilote-{pilot.id}:{party}",
                   context={"pilote": pilot, "partie": party, "partie_libelle": party_of(party),
                            "charte": accompaniment.charter, "echeance": sign_by(ctx, pilot),
                            "lancement": max(accompaniment.kickoff, sign_by(ctx, pilot))}, at=at)


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
    # Pilots started before this one: each moves this pilot's sessions by one more `stagger`.
    earlier = ctx.session.exec(select(func.count()).select_from(Pilot).where(
        Pilot.programme_id == ctx.programme_id, col(Pilot.id) != pilot.id,
        col(Pilot.kickoff_at).is_not(None))).one()
    territory = with_article(pilot.name)
    for item in accompaniment.sessions:
        offset = parse_duration(item.at)
        if item.stagger:
            offset += parse_duration(item.stagger) * earlier
        place = item.place.format(territoire=territory)
        begins = _working_day_at(ctx, add_paris(start, offset), item.start_time)
        while slot_taken(ctx, place, begins, begins + timedelta(hours=item.hours)):
            begins = _working_day_at(ctx, begins + timedelta(days=1), item.start_time)
        ctx.session.add(TrainingSession(
            pilot_id=pilot_id, key=item.key, title=item.title, location=place, audience=item.audience,
            starts_at=begins, ends_at=begins + timedelta(hours=item.hours)))
        ctx.session.flush()
    for task in accompaniment.tasks:
        ctx.session.add(Deliverable(pilot_id=pilot_id, key=task.key, title=task.title,
                                        due_at=_working_day_at(ctx, add_paris(start, parse_duration(task.due)),
                                                               task.due_time)))
    ctx.session.flush()


def slot_taken(ctx: Ctx, place: str, starts: datetime, ends: datetime, *, besides: int | None = None) -> bool:
    """Whether a planned session of the programme already holds this place at that time."""
    rows = ctx.session.exec(select(TrainingSession).join(Pilot, col(Pilot.id) == TrainingSession.pilot_id).where(
        Pilot.programme_id == ctx.programme_id, TrainingSession.location == place,
        TrainingSession.status == SessionStatus.PLANNED,
        col(TrainingSession.starts_at) < ends, col(TrainingSession.ends_at) > starts)).all()
    return any(row.id != besides for row in rows)


def _working_day_at(ctx: Ctx, instant: datetime, at: time) -> datetime:
    """The first working day on or after the instant's Paris date, at the given hour."""
    day = ctx.calendar.next_working_day(paris(instant).date())
    return utc(datetime.combine(day, at))
