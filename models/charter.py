"""The charter each pilot's three parties sign (the territory, the Cerdd, the consultancy): its
text and the SHA-256 each signature records, who may sign and when (`may_sign`), the signatures,
the signing deadline with its reminders and extension, and the request to sign sent to each party.

Both doors sign the same words through the same function: the portal and the CLI call
`sign_charter`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel import select

from models.clock import format_paris
from models.context import ProgrammeContext
from models.errors import ALLOWED, InvalidInput, Verdict
from models.notices import NoticeKind
from models.pilots import pilots
from models.recipients import all_parties, manager
from models.reminders import Planned, due_now, plan_rule
from models.stages import StageName, stage
from models.tables import CharterParty, CharterSignature, Pilot, PilotStatus, ProgrammeState
from models.text import require_line, require_text, visible
from models.wording import agreement

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



def party_label(party: str) -> str:
    """« du territoire », « du Cerdd »… for a party key (the key itself when unknown)."""
    return PARTY_OF.get(party, party)  # type: ignore[call-overload]


def charter_text(ctx: ProgrammeContext, pilot: Pilot) -> str:
    """The charter's text as the parties read and sign it (its SHA-256 is recorded with each
    signature): built from the programme's definition and the pilot's own signing deadline (a
    replacement pilot has a later one), so both doors sign the same words. It names no calendar
    start date: the accompaniment starts when the last of the three parties signs, which holds for
    original and replacement pilots alike. The text depends only on the pilot's name and deadline,
    so it is stable while the pilot's state does not change those."""
    definition = ctx.definition
    charter = definition.accompaniment.charter
    lines = [
        f"Charte « {charter.title} »",
        "",
        "Entre les trois parties :",
        f"- le territoire : {pilot.name} ;",
        f"- le {definition.organiser.name} : {definition.organiser.full_name} ;",
        f"- le prestataire : {definition.consultancy.name} ;",
        f"dans le cadre du programme « {definition.title} ».",
        "",
        "1. Objet. Les trois parties s'engagent réciproquement à conduire ensemble l'accompagnement du "
        "territoire pilote ; l'implication active de chacune est la condition de réussite de la démarche.",
        "2. Durée. L'accompagnement commence à la date de la dernière des trois signatures, "
        "pour la durée prévue par le programme.",
        "3. Étapes : " + " ; ".join(phase.title for phase in definition.accompaniment.phases) + ".",
        "4. Le territoire mobilise ses élus, ses services et ses partenaires, participe aux sessions de "
        "formation et de co-production, et répond aux invitations.",
        "5. Le prestataire remet ses livrables aux échéances convenues ; toute nouvelle échéance est "
        "demandée avec un motif et décidée par le Cerdd.",
        "6. Le Cerdd anime le programme, organise les sessions, examine les livrables et rend compte de "
        "l'avancement.",
        f"7. Signature. Chaque partie signe avant le {format_paris(sign_by(ctx, pilot))}.",
    ]
    return "\n".join(lines) + "\n"


def charter_sha256(ctx: ProgrammeContext, pilot: Pilot) -> str:
    """The SHA-256 of the charter's text (`charter_text`): what each signature records."""
    return hashlib.sha256(charter_text(ctx, pilot).encode("utf-8")).hexdigest()


def signatures(ctx: ProgrammeContext, pilot: Pilot) -> dict[str, CharterSignature]:
    rows = ctx.session.exec(select(CharterSignature).where(CharterSignature.pilot_id == pilot.id)).all()
    return {row.party: row for row in rows}



def may_sign(ctx: ProgrammeContext, pilot: Pilot, party: str, at: datetime) -> Verdict:
    """Whether `party` may sign the pilot's charter at `at`: one of the charter's parties, while the
    charter awaits signatures (not withdrawn, not signed by all three) and once the pilot is selected.
    A party that has signed already may sign again: nothing changes (`sign_charter` says so)."""
    parties = ctx.definition.accompaniment.charter.parties
    if party not in parties:
        return Verdict(f"Partie inconnue « {visible(party)[:40]} » (parties de la charte : {', '.join(parties)}).",
                       InvalidInput)
    if pilot.status == PilotStatus.WITHDRAWN:
        return Verdict(f"{pilot.name} a été retiré{agreement(pilot.name)} du programme : la charte ne se signe plus.")
    if pilot.status != PilotStatus.CHARTER_PENDING:
        return Verdict(f"La charte de {pilot.name} est déjà signée par les trois parties.")
    if at < pilot.selected_at:
        return Verdict(f"{pilot.name} n'était pas encore retenu à cette date.")
    return ALLOWED


def sign_charter(ctx: ProgrammeContext, pilot: Pilot, *, party: str, signatory: str, at: datetime, role: str = "",
                 channel: str = "cli") -> bool:
    """Record one party's signature (the signatory's name and role, the channel: « cli » or
    « portail ») when `may_sign` allows it; the audit entry records the SHA-256 of the charter's
    text as signed (`charter_text`). Signing twice changes nothing."""
    signatory = require_line(signatory, "Nom du ou de la signataire")
    role = require_line(role, "Qualité du ou de la signataire") if role.strip() else ""
    may_sign(ctx, pilot, party, at).enforce()
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



def sign_by(ctx: ProgrammeContext, pilot: Pilot) -> datetime:
    """The pilot's signing deadline: the programme's, unless extended or offered later."""
    return pilot.sign_by or ctx.definition.accompaniment.charter.sign_by


def charter_series(ctx: ProgrammeContext, pilot: Pilot) -> list[Planned]:
    """The reminders planned around the pilot's signing deadline."""
    reminders = ctx.definition.reminders
    return plan_rule(ctx.calendar, sign_by(ctx, pilot), reminders.charter,
                     escalate_after=reminders.escalate_to_organiser)


def awaiting_charter(ctx: ProgrammeContext) -> list[Pilot]:
    """The pilots whose charter awaits signatures, while the programme is at that stage."""
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return pilots(ctx, PilotStatus.CHARTER_PENDING)


def planned_reminders(ctx: ProgrammeContext) -> list[datetime]:
    """The charter reminders and the deadline of each pilot whose charter awaits signatures."""
    return [at for pilot in awaiting_charter(ctx)
            for at in [*(p.at for p in charter_series(ctx, pilot)), sign_by(ctx, pilot)]]


def _deadline_key(ctx: ProgrammeContext, pilot: Pilot) -> str:
    return f"pilote-{pilot.id}:{sign_by(ctx, pilot).strftime('%Y%m%dT%H%M')}"


@stage(StageName.CHARTER_REMINDERS, planned=planned_reminders)
def charter_reminders(ctx: ProgrammeContext, as_of: datetime) -> int:
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


def may_extend(pilot: Pilot) -> Verdict:
    """Whether the pilot's signing deadline may be extended: while its charter awaits signatures
    (Refused otherwise, in French). The back office reads it to offer the act; `extend_charter`
    enforces it."""
    if pilot.status != PilotStatus.CHARTER_PENDING:
        return Verdict(f"La charte de {pilot.name} n'attend plus de signature : rien à prolonger.")
    return ALLOWED


def extend_charter(ctx: ProgrammeContext, pilot: Pilot, *, to: datetime, reason: str, at: datetime,
                   by: str = "cerdd") -> bool:
    """Give a pilot whose charter is not fully signed a new signing deadline (a reason is required);
    its parties are told, and reminders follow the new date."""
    if not reason.strip():
        raise InvalidInput("Prolongation refusée : le motif est obligatoire.")
    reason = require_text(reason, "Motif")
    may_extend(pilot).enforce()
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


def notify_charter_to_sign(ctx: ProgrammeContext, pilot: Pilot, at: datetime) -> None:
    """Ask each party to sign the pilot's charter before its deadline."""
    accompaniment = ctx.definition.accompaniment
    for party, recipients in all_parties(ctx, pilot).items():
        ctx.notify(NoticeKind.CHARTER_TO_SIGN, recipients=recipients, key=f"pilote-{pilot.id}:{party}",
                   context={"pilote": pilot, "partie": party, "partie_libelle": party_of(party),
                            "charte": accompaniment.charter, "echeance": sign_by(ctx, pilot),
                            "lancement": max(accompaniment.kickoff, sign_by(ctx, pilot))}, at=at)

