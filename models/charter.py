"""The charter each pilot's three parties sign (the territory, the Cerdd, the consultancy): who
may sign and when (`may_sign`), the signatures, the signing deadline with its reminders and
extension, and the request to sign sent to each party. Its words, frozen at the first signature,
and their SHA-256 are `models.charter_text`'s.

Both doors sign the same frozen words through the same function: the portal and the CLI call
`sign_charter`, each signature recording the SHA-256 of exactly the text it signed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import select

from models.charter_text import charter_sha256 as charter_sha256  # re-exported: the charter's words
from models.charter_text import charter_text as charter_text
from models.charter_text import check_read, freeze
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


def signatures(ctx: ProgrammeContext, pilot: Pilot) -> dict[str, CharterSignature]:
    rows = ctx.session.exec(select(CharterSignature).where(CharterSignature.pilot_id == pilot.id)).all()
    return {row.party: row for row in rows}



class Channel(StrEnum):
    """The door a signature came by (`CharterSignature.channel`)."""

    CLI = "cli"
    PORTAL = "portail"
    STAFF = "equipe"


CHANNEL_LABELS = {Channel.CLI: "ligne de commande", Channel.PORTAL: "portail", Channel.STAFF: "compte équipe"}
"""Each channel as the certificate names it."""

DEADLINE_BINDS = frozenset({Channel.PORTAL})
"""The doors the signing deadline closes: a signatory's own personal link. The command line and a
team account are the Cerdd's doors: the Cerdd, who alone may extend the deadline, records there a
signature it accepts late (on paper, say), as it always could."""


def channel_label(channel: str) -> str:
    """« portail », « ligne de commande », « compte équipe » (the key itself when unknown)."""
    return CHANNEL_LABELS.get(channel, channel)  # type: ignore[call-overload]


def may_sign(ctx: ProgrammeContext, pilot: Pilot, party: str, at: datetime, channel: str = Channel.CLI) -> Verdict:
    """Whether `party` may sign the pilot's charter at `at` through `channel`: one of the charter's
    parties, while the charter awaits signatures (not withdrawn, not signed by all three), once the
    pilot is selected and, on the portal, before its signing deadline (`sign_by`: the programme's, or
    the one the Cerdd set with `extend_charter`; reached at that very instant). A party that has signed
    already may sign again: nothing changes (`sign_charter` says so)."""
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
    deadline = sign_by(ctx, pilot)
    if channel in DEADLINE_BINDS and at >= deadline:
        return Verdict(f"Le délai de signature de la charte de {pilot.name} a expiré le {format_paris(deadline)} : "
                       "elle ne peut plus être signée en ligne. Seul le Cerdd peut prolonger ce délai ; "
                       "demandez-le-lui. Rien n'a été enregistré.")
    return ALLOWED


def sign_charter(ctx: ProgrammeContext, pilot: Pilot, *, party: str, signatory: str, at: datetime, role: str = "",
                 channel: str = Channel.CLI, via: tuple[str, str] = ("", ""), sha256: str | None = None) -> bool:
    """Record one party's signature (the signatory's name and role, the `channel`; `via`: the link
    (subject, version) or account used, never a token, and the link holder's address) when `may_sign`
    allows it. `sha256` is the SHA-256 of the text the signatory read (the portal's form always posts
    it; the command line's `--sha256`): another text's is Refused (`charter_text.check_read`),
    nothing written. The first signature freezes the text (`charter_text.freeze`); the signature and
    its audit entry record the frozen text's SHA-256, the signature its audit entry's id. Signing
    twice changes nothing (False)."""
    signatory = require_line(signatory, "Nom du ou de la signataire")
    role = require_line(role, "Qualité du ou de la signataire") if role.strip() else ""
    may_sign(ctx, pilot, party, at, channel).enforce()
    check_read(ctx, pilot, sha256)
    if party in signatures(ctx, pilot):
        return False
    text = freeze(ctx, pilot, at)
    row = CharterSignature(pilot_id=pilot.id or 0, party=party, signatory=signatory, role=role, channel=channel,
                           signed_at=at, text_sha256=text.sha256, via=via[0], via_person=via[1])
    ctx.session.add(row)
    ctx.session.flush()
    quality = f" ({role})" if role else ""
    entry = ctx.audit(at, signatory, "charte.signee", "pilot", pilot.id,
                      f"Charte de {pilot.name} signée au nom {party_of(party)} par {signatory}{quality}.",
                      partie=party, qualite=role, canal=channel, via=via[0], via_personne=via[1],
                      charte_sha256=text.sha256)
    ctx.session.flush()
    row.audit_entry_id = entry.id
    ctx.session.add(row)
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

