"""Partners named in an application confirm their participation by their own link (issue 22, item 2:
« partenaire confirmé » on the juror's sheet). The call asks for « les partenaires participant à la
candidature » and their motivations; here each partner's contact says so itself.

The lead asks (`request_confirmations`, from its online draft, or after its deposit): each partner
line with a contact's address gets a row of `PartnerConfirmation` and a personal link
(`partenaire:<lead SIREN>:<number>`, held by the contact's address) mailed to that contact
(`confirmation_partenaire`). The contact's page shows what the application says about the partner;
« Confirmer » or « Décliner » (`answer`) may be given again, the last answer counting, until the
jury meets (`may_answer`); the lead's holders are told (`reponse_partenaire`). Audited.

A line changed in a later version needs a new confirmation: an answer holds for the line as it was
asked (its `fingerprint`: the partner's name, type and SIREN, its contact's name and address; a
corrected phone number or role does not count). The juror's sheet reads each partner of the current
version against the confirmations by fingerprint (`states`): a changed line reads « non confirmé »
until its new contact answers a new request. Times: `at` is the programme's instant.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import col, func, select

from models.clock import format_paris
from models.context import ProgrammeContext
from models.drafts import applicant_bearer, application_of, find_draft, may_edit
from models.errors import ALLOWED, InvalidInput, NotFound, Refused, Verdict
from models.forms import MAX_ROWS, Partner, form_of
from models.links import PARTNER, Bearer, LinkForbidden, partner_request
from models.notices import NoticeKind, Recipient
from models.tables import ApplicationDraft, ApplicationStatus, PartnerAnswer, PartnerConfirmation

EXCERPT = 600
"""Characters of the motivations shown to a partner asked to confirm."""
MAX_REQUESTS = 3 * MAX_ROWS
"""Requests one lead may send in all (each mails an address it typed): every partner line asked,
then its contact corrected twice; past it the Cerdd is asked (the call's address is no relay)."""


def partner_bearer(lead_siren: str, number: int, person: str = "") -> Bearer:
    """The bearer of a partner's link: request `number` of the lead `lead_siren`, held by `person`."""
    return Bearer(PARTNER, siren=f"{lead_siren}:{number}", person=person)


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def fingerprint(partner: Partner) -> str:
    """What an answer holds for (SHA-256, hex): the partner's name (case and spaces aside), type and
    SIREN, its contact's name and address."""
    contact = partner.contact
    key = [_folded(partner.nom), partner.type.value, partner.siren or "",
           _folded(contact.nom) if contact else "", contact.courriel.lower() if contact else ""]
    return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()


def partner_lines(payload: Mapping[str, Any]) -> list[Partner]:
    """The partner lines of a form's payload (a draft's, unchecked: a line the form refuses is left out)."""
    lines = []
    for row in payload.get("partenaires", []) if isinstance(payload.get("partenaires"), list) else []:
        try:
            lines.append(Partner.model_validate(row))
        except ValidationError:
            continue
    return lines


def _withdrawn(ctx: ProgrammeContext, draft: ApplicationDraft) -> bool:
    application = application_of(ctx, draft)
    return application is not None and application.status == ApplicationStatus.WITHDRAWN


def may_request(ctx: ProgrammeContext, draft: ApplicationDraft, at: datetime) -> Verdict:
    """Whether the lead may ask its partners to confirm at `at`: from the call's opening until the
    jury meets, its application not withdrawn."""
    meeting = ctx.definition.jury.meeting
    if at < ctx.definition.call.launch:
        return Verdict("L'appel à candidature n'est pas encore ouvert.")
    if at >= meeting:
        return Verdict(f"Le jury s'est réuni le {format_paris(meeting)} : les partenaires ne peuvent plus confirmer.")
    if _withdrawn(ctx, draft):
        return Verdict("Cette candidature a été retirée : ses partenaires n'ont plus à confirmer.")
    return ALLOWED


def _source(ctx: ProgrammeContext, draft: ApplicationDraft, at: datetime) -> Mapping[str, Any]:
    """What the lead asks about: its draft while it may change, then the version the jury reads."""
    application = application_of(ctx, draft)
    if may_edit(ctx, draft, at) or application is None:
        return draft.payload
    return form_of(ctx.session, application).model_dump(mode="json")


def confirmations(ctx: ProgrammeContext, lead_siren: str) -> list[PartnerConfirmation]:
    """Every request of the lead `lead_siren`, in the order asked."""
    return list(ctx.session.exec(select(PartnerConfirmation).where(
        PartnerConfirmation.programme_id == ctx.programme_id, PartnerConfirmation.lead_siren == lead_siren)
        .order_by(col(PartnerConfirmation.number))).all())


@dataclass(frozen=True)
class Requested:
    """What « Demander la confirmation des partenaires » did: the partners asked now, those asked
    already (same line), and those without a contact's address (nothing to send)."""

    asked: list[str]
    already: list[str]
    without_contact: list[str]


def request_confirmations(ctx: ProgrammeContext, draft: ApplicationDraft, *, at: datetime, by: str) -> Requested:
    """Ask each partner line with a contact's address that was not asked yet (by fingerprint) to
    confirm: a row, its link mailed to the contact (`confirmation_partenaire`, leaves at once, carrying
    the link), an audit entry, in the caller's transaction. Refused (`may_request`) from the jury's
    meeting on, or for a withdrawn application; Refused, nothing sent, when the lead would pass
    `MAX_REQUESTS` in all. Idempotent: asking again sends nothing new."""
    may_request(ctx, draft, at).enforce()
    source = _source(ctx, draft, at)
    known = {c.fingerprint for c in confirmations(ctx, draft.lead_siren)}
    number = ctx.session.exec(select(func.max(PartnerConfirmation.number)).where(
        PartnerConfirmation.programme_id == ctx.programme_id,
        PartnerConfirmation.lead_siren == draft.lead_siren)).one() or 0
    excerpt = str(source.get("motivations", ""))[:EXCERPT]
    lines = partner_lines(source)
    new = {fingerprint(p) for p in lines if p.contact is not None} - known
    if number + len(new) > MAX_REQUESTS:
        raise Refused(f"{draft.lead_name} a déjà envoyé {number} demandes de confirmation à ses partenaires "
                      f"(au plus {MAX_REQUESTS}) : pour en envoyer d'autres, écrivez au Cerdd. Rien n'a été envoyé.")
    done = Requested([], [], [])
    for partner in lines:
        mark = fingerprint(partner)
        if partner.contact is None:
            done.without_contact.append(partner.nom)
            continue
        if mark in known:
            done.already.append(partner.nom)
            continue
        known.add(mark)
        number += 1
        row = PartnerConfirmation(programme_id=ctx.programme_id, lead_siren=draft.lead_siren,
                                  lead_name=draft.lead_name, number=number, fingerprint=mark, partner_name=partner.nom,
                                  contact_email=partner.contact.courriel.lower(), line=partner.model_dump(mode="json"),
                                  excerpt=excerpt, requested_at=at, requested_by=by)
        ctx.session.add(row)
        ctx.session.flush()
        ctx.notify(NoticeKind.PARTNER_REQUEST, [Recipient(row.contact_email, partner.contact.nom)],
                   key=f"{draft.lead_siren}:{number}",
                   context={"porteur": partner_bearer(draft.lead_siren, number, row.contact_email),
                            "chef_de_file": draft.lead_name, "partenaire": row, "jury": ctx.definition.jury}, at=at)
        ctx.audit(at, by, "partenaire.confirmation_demandee", "partner_confirmation", row.id,
                  f"Confirmation demandée à {partner.nom} ({row.contact_email}) pour la candidature de "
                  f"{draft.lead_name}.", siren=draft.lead_siren, numero=number)
        done.asked.append(partner.nom)
    return done


def confirmation_of(ctx: ProgrammeContext, bearer: Bearer) -> PartnerConfirmation:
    """The request a partner's link is for (NotFound when none; LinkForbidden when the link is not
    held by that request's contact)."""
    row = partner_request(ctx, bearer)
    if row is None:
        raise NotFound("Cette demande de confirmation n'existe pas.")
    if bearer.person != row.contact_email:
        raise LinkForbidden("Ce lien personnel ne donne pas accès à cette demande de confirmation.")
    return row


def may_answer(ctx: ProgrammeContext, row: PartnerConfirmation, at: datetime) -> Verdict:
    """Whether the partner may (still) answer at `at`: until the jury meets (an answer then stays as
    it is), while the application is not withdrawn."""
    meeting = ctx.definition.jury.meeting
    if at >= meeting:
        return Verdict(f"Le jury s'est réuni le {format_paris(meeting)} : votre réponse ne peut plus changer.")
    try:
        draft = find_draft(ctx, row.lead_siren)
    except NotFound:
        return ALLOWED  # asked after a deposit by file, without a draft: nothing withdraws it here
    if _withdrawn(ctx, draft):
        return Verdict("Cette candidature a été retirée : il n'y a plus rien à confirmer.")
    return ALLOWED


def answer(ctx: ProgrammeContext, row: PartnerConfirmation, *, confirmed: bool, at: datetime, by: str) -> bool:
    """« Confirmer » or « Décliner »: the answer recorded (replacing an earlier one), audited, the
    lead's holders told (`reponse_partenaire`). Refused when `may_answer` says no. Returns whether
    anything changed (the same answer twice changes nothing and tells no one)."""
    may_answer(ctx, row, at).enforce()
    state = PartnerAnswer.CONFIRMED if confirmed else PartnerAnswer.DECLINED
    if row.state == state:
        return False
    row.state, row.answered_at = state, at
    ctx.session.add(row)
    word = "confirme sa participation à" if confirmed else "décline sa participation à"
    ctx.audit(at, by, "partenaire.confirme" if confirmed else "partenaire.decline", "partner_confirmation", row.id,
              f"{row.partner_name} {word} la candidature de {row.lead_name}.", siren=row.lead_siren,
              numero=row.number)
    try:
        holders = find_draft(ctx, row.lead_siren).holders
    except NotFound:
        holders = []
    ctx.notify(NoticeKind.PARTNER_ANSWER, [Recipient(email, email) for email in holders],
               key=f"{row.lead_siren}:{row.number}:{state}:{int(at.timestamp())}",
               context={"porteur": applicant_bearer(row.lead_siren), "chef_de_file": row.lead_name,
                        "partenaire": row}, at=at)
    return True


def states(ctx: ProgrammeContext, lead_siren: str, partners: Iterable[Partner]) -> list[tuple[Partner, str]]:
    """Each partner line with where its confirmation stands (`PartnerAnswer`: confirmed or declined
    for this very line, otherwise asked, which reads « non confirmé », asked or not)."""
    answered = {c.fingerprint: c.state for c in confirmations(ctx, lead_siren)}
    return [(p, answered.get(fingerprint(p), PartnerAnswer.ASKED)) for p in partners]


def read_answer(value: str) -> bool:
    """The answer a partner's form posts: True to confirm, False to decline (InvalidInput otherwise)."""
    if value not in ("confirmer", "decliner"):
        raise InvalidInput("Choisissez « Confirmer » ou « Décliner ». Rien n'a été enregistré.")
    return value == "confirmer"
