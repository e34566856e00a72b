"""Personal links to the portal instead of accounts: who the bearer is (a pilot's party, a juror,
the consultancy), signed expiring tokens naming them, revocation by version, and one-time form
tokens (CSRF and replay protection).

A token is `itsdangerous`-signed JSON {g: programme id, s: subject, p: person, v: version, e: expiry
(Unix seconds)}: the subject says what the bearer may do (a party of a pilot, a juror, the
consultancy), the person who holds it (each contact their own link). The version is stored in
`PortalGrant` per subject and person, so issuing a new link (`issue_link`) revokes every older one
of that person only, while a notice carrying a link (`current_link`) reuses the current version.
Expiry is checked against the instant given by the caller (the portal's clock), not the machine's.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from models import link_tokens
from models.context import NoticeLinker, ProgrammeContext
from models.db import lock_row
from models.errors import InvalidInput, NotFound, Refused
from models.forms import CONTACT_FIELDS, siren_or_reference
from models.notices import NoticeKind, Recipient
from models.pilots import find_pilot
from models.recipients import all_parties, consultancy_contacts, other_parties, territory_contacts
from models.tables import (
    Application,
    ApplicationDraft,
    ApplicationVersion,
    CharterParty,
    PartnerConfirmation,
    Pilot,
    PilotStatus,
    PortalFormUse,
    PortalGrant,
)
from models.text import visible

LINK_SALT = link_tokens.LINK_SALT
FORM_SALT = "transitions.formulaire"
FORM_LIFETIME = timedelta(hours=12)
"""How long a form stays valid after its page was shown."""

JUROR = "jure"
CONSULTANCY = "prestataire"
APPLICANT = "candidat"
"""The lead of an application written online (`candidat:SIREN`, held by an address on file for its draft)."""
PARTNER = "partenaire"
"""A partner named in an application, asked to confirm it (`partenaire:<lead SIREN>:<number>`, held by
its contact's address; `models.partners`)."""
ALL_PILOTS = "*"
ROLES = (CharterParty.TERRITORY.value, CharterParty.ORGANISER.value, CharterParty.CONSULTANCY.value, JUROR,
         APPLICANT, PARTNER)
ROLE_LABELS = {"territoire": "le territoire", "cerdd": "le Cerdd", "prestataire": "le prestataire", "jure": "le jury",
               "candidat": "la candidature en ligne", "partenaire": "la confirmation de partenariat"}


class LinkRefused(Refused):
    """A personal link or a form that cannot be honoured; `reason` says why (for the HTTP status)."""

    reason = "invalide"


class LinkInvalid(LinkRefused):
    reason = "invalide"


class LinkExpired(LinkRefused):
    reason = "expire"


class LinkRevoked(LinkRefused):
    reason = "revoque"


class LinkForbidden(LinkRefused):
    reason = "interdit"


class FormInvalid(LinkRefused):
    reason = "formulaire"


class FormReplayed(LinkRefused):
    reason = "rejoue"


@dataclass(frozen=True)
class Bearer:
    """Who holds a link: `role` is territoire, cerdd or prestataire (for the pilot `siren`, or for
    every pilot when the consultancy's `siren` is « * »), or jure (with `email`); `person` is the
    holder's address (lower case), empty for a link of the party as a whole."""

    role: str
    siren: str | None = None
    email: str | None = None
    person: str = ""

    @property
    def subject(self) -> str:
        return f"{self.role}:{self.email if self.role == JUROR else self.siren}"

    @property
    def every_pilot(self) -> bool:
        return self.role == CONSULTANCY and self.siren == ALL_PILOTS

    @classmethod
    def from_subject(cls, subject: str) -> Bearer:
        role, _, rest = subject.partition(":")
        if role not in ROLES or not rest:
            raise LinkInvalid("Ce lien n'est pas valide.")
        return cls(role, email=rest) if role == JUROR else cls(role, siren=rest)


def pilot_bearer(ctx: ProgrammeContext, siren: str, party: str, person: str | None = None) -> Bearer:
    """The bearer for one party of a pilot: held by `person` (an address of one of the party's
    contacts: their own link), or by the party as a whole when None. InvalidInput for an unknown
    party, a bad SIREN or an address that is not one of the party's contacts; NotFound when no
    pilot has this SIREN."""
    if party not in (CharterParty.TERRITORY, CharterParty.ORGANISER, CharterParty.CONSULTANCY):
        raise InvalidInput(f"Partie inconnue « {visible(party)[:40]} » (territoire, cerdd ou prestataire).")
    siren = siren_or_reference(siren)
    if not siren.isdigit():
        raise InvalidInput(f"--pilot attend le numéro SIREN du territoire pilote (9 chiffres), "
                           f"pas « {visible(siren)[:40]} ».")
    pilot = find_pilot(ctx, siren)
    bearer = consultancy_bearer() if party == CharterParty.CONSULTANCY else Bearer(party, siren=siren)
    return bearer if person is None else _held_by(bearer, all_parties(ctx, pilot)[party], person)


def _held_by(bearer: Bearer, people: list[Recipient], person: str) -> Bearer:
    """`bearer` held by `person`, who must be one of `people` (InvalidInput otherwise)."""
    wanted = person.strip().lower()
    emails = list(dict.fromkeys(p.email.lower() for p in people))
    if wanted not in emails:
        raise InvalidInput(f"« {visible(person)[:80]} » n'est pas un contact de cette partie (contacts : "
                           + ", ".join(emails) + ").")
    return replace(bearer, person=wanted)


def juror_bearer(ctx: ProgrammeContext, email: str) -> Bearer:
    """The bearer for a member of the jury, by e-mail address (case-insensitive); NotFound otherwise."""
    wanted = email.strip().lower()
    for member in ctx.definition.jury.members:
        if member.email.lower() == wanted:
            return Bearer(JUROR, email=member.email.lower(), person=member.email.lower())
    raise NotFound(f"« {visible(email)[:80]} » n'est l'adresse d'aucun membre du jury.")


def consultancy_bearer() -> Bearer:
    """The consultancy, for every pilot (held by no one in particular)."""
    return Bearer(CONSULTANCY, siren=ALL_PILOTS)


def consultant_bearer(ctx: ProgrammeContext, person: str) -> Bearer:
    """One consultant's own link to every pilot (InvalidInput when `person` is not a consultant)."""
    return _held_by(consultancy_bearer(), consultancy_contacts(ctx), person)


def holder_address(ctx: ProgrammeContext, bearer: Bearer) -> Recipient | None:
    """The address on file for the person holding `bearer`'s link, if they still speak for its
    party (a contact removed from the application gets nothing); None for a party's link."""
    if not bearer.person:
        return None
    if bearer.role == JUROR:
        people = [Recipient(m.email, m.juror) for m in ctx.definition.jury.members]
    elif bearer.role == APPLICANT:
        people = [Recipient(email, email) for email in draft_holders(ctx, bearer.siren or "")]
    elif bearer.role == PARTNER:
        asked = partner_request(ctx, bearer)
        people = [] if asked is None else [Recipient(asked.contact_email, asked.partner_name)]
    elif bearer.every_pilot:
        people = consultancy_contacts(ctx)
    else:
        try:
            pilot = find_pilot(ctx, bearer.siren or "")
        except NotFound:
            return None
        people = all_parties(ctx, pilot).get(bearer.role, [])
    return next((p for p in people if p.email.lower() == bearer.person), None)


def draft_holders(ctx: ProgrammeContext, siren: str) -> list[str]:
    """The addresses on file for the online application of the lead `siren` (none without a draft)."""
    draft = ctx.session.exec(select(ApplicationDraft).where(ApplicationDraft.programme_id == ctx.programme_id,
                                                            ApplicationDraft.lead_siren == siren)).first()
    return [] if draft is None else list(draft.holders)


def partner_request(ctx: ProgrammeContext, bearer: Bearer) -> PartnerConfirmation | None:
    """The confirmation a partner's link (`partenaire:<lead SIREN>:<number>`) is for, if any."""
    lead, _, number = (bearer.siren or "").partition(":")
    if bearer.role != PARTNER or not number.isdigit() or len(number) > 9:
        return None
    return ctx.session.exec(select(PartnerConfirmation).where(
        PartnerConfirmation.programme_id == ctx.programme_id, PartnerConfirmation.lead_siren == lead,
        PartnerConfirmation.number == int(number))).first()


_GRANT = select(PortalGrant).where(PortalGrant.programme_id == bindparam("programme_id"),
                                   PortalGrant.subject == bindparam("subject"),
                                   PortalGrant.person == bindparam("person"))
"""A person's grant (built once: every page reads it, `models.context._PROGRAMMES`)."""


_GRANTS: Any = PortalGrant.__table__  # type: ignore[attr-defined]
_LINK_VERSION: Any = sa_select(_GRANTS.c.version).where(_GRANTS.c.programme_id == bindparam("programme_id"),
                                                         _GRANTS.c.subject == bindparam("subject"),
                                                         _GRANTS.c.person == bindparam("person"))
"""A person's current link version, on the table (every page checks it: no ORM step for one number)."""


def _current_version(ctx: ProgrammeContext, bearer: Bearer) -> int | None:
    """The version of `bearer`'s current link (None: never issued), what this session changed included."""
    ctx.session.flush()
    values = {"programme_id": ctx.programme_id, "subject": bearer.subject, "person": bearer.person}
    return ctx.session.connection().execute(_LINK_VERSION, values).scalar_one_or_none()


def _grant(ctx: ProgrammeContext, bearer: Bearer) -> PortalGrant | None:
    return ctx.session.exec(_GRANT, params={"programme_id": ctx.programme_id, "subject": bearer.subject,
                                            "person": bearer.person}).first()


def _sign(ctx: ProgrammeContext, secret: str, grant: PortalGrant, expires: datetime) -> str:
    return link_tokens.sign(secret, ctx.programme_id, link_tokens.LinkRef(grant.subject, grant.person, grant.version,
                                                                          expires))


def holder(bearer: Bearer) -> str:
    """Who holds a link, for the audit log: the subject, and the person when it is one's."""
    return f"{bearer.subject} ({bearer.person})" if bearer.person and bearer.role != JUROR else bearer.subject


def issue_link(ctx: ProgrammeContext, bearer: Bearer, *, secret: str, at: datetime, days: int,
               by: str = "cerdd", valid_from: datetime | None = None) -> str:
    """A new personal link for `bearer`, recorded at `at` (the programme's instant) and valid `days`
    days from `valid_from` (default `at`; the real time for a replayed programme: a link is a
    credential checked in real time); every older link of the same person is revoked (its
    version is left behind), no one else's. Audited (the token itself is never stored)."""
    grant = _raise_version(ctx, bearer, at)
    ctx.audit(at, by, "lien.emis", "portal_grant", grant.id,
              f"Lien personnel n° {grant.version} émis pour {holder(bearer)} ; ses liens précédents sont révoqués.",
              sujet=bearer.subject, personne=bearer.person, version=grant.version)
    return _sign(ctx, secret, grant, (valid_from or at) + timedelta(days=days))


def current_link(ctx: ProgrammeContext, bearer: Bearer, *, secret: str, at: datetime, days: int,
                 valid_from: datetime | None = None) -> str:
    """A link for `bearer` at its current version (created at version 1, at `at`, if none was
    issued), valid `days` days from `valid_from` (default `at`): what a notice carries. Revokes nothing."""
    grant = _grant(ctx, bearer)
    if grant is None:
        grant = PortalGrant(programme_id=ctx.programme_id, subject=bearer.subject, person=bearer.person,
                            version=1, issued_at=at)
        ctx.session.add(grant)
        ctx.session.flush()
    return _sign(ctx, secret, grant, (valid_from or at) + timedelta(days=days))


def link_expiry(link: str | None) -> datetime | None:
    """Until when a link (a token or an address holding one) works, read from its payload without
    checking its signature (for a notice's footer: the portal checks it), or None."""
    return link_tokens.expiry(link_tokens.unsigned_payload(link))


def _payload(token: str, secret: str) -> tuple[Any, Bearer, int, int]:
    """The programme, bearer, version and expiry a token names, its signature checked (LinkInvalid)."""
    try:
        payload = URLSafeSerializer(secret, salt=LINK_SALT).loads(token)
        programme, subject, version, expires = payload["g"], payload["s"], payload["v"], payload["e"]
        person = payload.get("p", "")
        if not (isinstance(subject, str) and isinstance(version, int) and isinstance(expires, int)
                and isinstance(person, str)):
            raise TypeError
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise LinkInvalid("Ce lien n'est pas valide : il a peut-être été mal copié. Utilisez le lien complet "
                          "reçu par courriel, ou demandez-en un nouveau au Cerdd.") from None
    return programme, replace(Bearer.from_subject(subject), person=person), version, expires


def token_holder(token: str, *, secret: str) -> Bearer | None:
    """Whom a token names if its signature holds (expired or replaced alike), else None: what the
    page of a link that no longer works offers a new link to."""
    try:
        return _payload(token, secret)[1]
    except LinkInvalid:
        return None


def signed_bearer(ctx: ProgrammeContext, token: str, *, secret: str) -> tuple[Bearer, int, int]:
    """The bearer, version and expiry (Unix seconds) a token names, its signature and programme
    checked (LinkInvalid), whether or not it still works."""
    programme, bearer, version, expires = _payload(token, secret)
    if programme != ctx.programme_id:
        raise LinkInvalid("Ce lien n'est pas valide pour ce programme.")
    return bearer, version, expires


def read_link(ctx: ProgrammeContext, token: str, *, secret: str, now: datetime) -> Bearer:
    """The bearer a token names, checked: signature (LinkInvalid), programme (LinkInvalid), expiry
    at `now` (LinkExpired), version of its person still current (LinkRevoked)."""
    bearer, version, expires = signed_bearer(ctx, token, secret=secret)
    if now.timestamp() > expires:
        raise LinkExpired("Ce lien a expiré : vous pouvez recevoir un nouveau lien par courriel ci-dessous.")
    if _current_version(ctx, bearer) != version:
        raise LinkRevoked("Ce lien a été remplacé par un lien plus récent : utilisez le dernier lien reçu, "
                          "ou recevez-en un nouveau par courriel ci-dessous.")
    return bearer


RENEWAL_FORM = "nouveau-lien"
"""The form of a link that no longer works: « Recevoir un nouveau lien »."""
RENEWAL_INTERVAL = timedelta(minutes=15)
"""At most one new link mailed per person in this time (real time: links are checked in real time)."""


def renew_link(ctx: ProgrammeContext, token: str, *, secret: str, now: datetime, at: datetime) -> bool:
    """Mail the person a link names (expired or replaced, its signature good: LinkInvalid
    otherwise) a link that works, at the address on file for them, through the outbox (a
    `nouveau_lien` notice carrying their current version, valid from `now`, the real time), audited
    at `at` (the programme's instant). Nothing is sent for a link of a party rather than a
    person, a person who no longer speaks for it, or within `RENEWAL_INTERVAL` of the last request
    (counted in `PortalGrant.requested_at`). Revokes nothing: an old link found by someone
    else only brings its owner a message. Returns whether a notice was queued; the page says
    the same either way."""
    bearer, _, _ = signed_bearer(ctx, token, secret=secret)
    grant = _grant(ctx, bearer)
    if grant is not None:  # two requests at once (two portal processes): the second reads the first's instant
        lock_row(ctx.session, PortalGrant.id, grant.id)
        ctx.session.refresh(grant)
    address = holder_address(ctx, bearer) if grant is not None else None
    if grant is None or address is None:
        return False
    if grant.requested_at is not None and now - grant.requested_at < RENEWAL_INTERVAL:
        return False  # nothing happens, nothing is written: an old link replayed cannot fill the audit log
    grant.requested_at = now
    ctx.session.add(grant)
    ctx.notify(NoticeKind.NEW_LINK, [address], key=f"{bearer.subject}|{bearer.person}|{int(now.timestamp())}",
               context={"porteur": bearer, "partie_libelle": ROLE_LABELS.get(bearer.role, bearer.role)}, at=at)
    ctx.audit(at, "portail", "lien.renvoye", "portal_grant", grant.id,
              f"Nouveau lien envoyé par courriel à {holder(bearer)}, à sa demande (version {grant.version}).",
              sujet=bearer.subject, personne=bearer.person, version=grant.version)
    return True


def send_link(ctx: ProgrammeContext, bearer: Bearer, *, at: datetime, by: str) -> Recipient:
    """Issue a new link for the person holding `bearer` (`issue_link`: their older links are
    revoked, no colleague's) and mail it to their address on file (a `nouveau_lien` notice
    carrying the new version, `par_le_cerdd` set); audited as done by `by`. InvalidInput for a
    link of a party rather than a person, or a person who no longer speaks for it. Returns
    whom it was sent to. The link's signature and validity are the notice linker's (the
    portal's settings), as for every notice."""
    address = holder_address(ctx, bearer)
    if address is None:
        raise InvalidInput(f"Aucune adresse au dossier pour {holder(bearer)} : le lien n'est pas envoyé. "
                           "Rien n'a été enregistré.")
    grant = _raise_version(ctx, bearer, at)
    ctx.notify(NoticeKind.NEW_LINK, [address], key=f"{bearer.subject}|{bearer.person}|v{grant.version}",
               context={"porteur": bearer, "partie_libelle": ROLE_LABELS.get(bearer.role, bearer.role),
                        "par_le_cerdd": True}, at=at)
    ctx.audit(at, by, "lien.envoye", "portal_grant", grant.id,
              f"Lien personnel n° {grant.version} envoyé par courriel à {holder(bearer)} ; ses liens précédents "
              "sont révoqués.", sujet=bearer.subject, personne=bearer.person, version=grant.version)
    return address


def revoke_link(ctx: ProgrammeContext, bearer: Bearer, *, at: datetime, by: str) -> bool:
    """Revoke every link of the person holding `bearer` (their version is left behind, no new link
    is signed; no colleague's link changes); audited as done by `by`. The next notice to them, or
    a new link they ask for at their address on file, carries a link that works again. Returns
    False when no link was ever made for them (nothing to revoke)."""
    if _grant(ctx, bearer) is None:
        return False
    grant = _raise_version(ctx, bearer, at)
    ctx.audit(at, by, "lien.revoque", "portal_grant", grant.id,
              f"Liens personnels de {holder(bearer)} révoqués (version {grant.version - 1} et antérieures).",
              sujet=bearer.subject, personne=bearer.person, version=grant.version)
    return True


def _raise_version(ctx: ProgrammeContext, bearer: Bearer, at: datetime) -> PortalGrant:
    """The person's grant at a new version (created at version 1): their older links stop working."""
    grant = _grant(ctx, bearer)
    if grant is None:
        grant = PortalGrant(programme_id=ctx.programme_id, subject=bearer.subject, person=bearer.person,
                            version=1, issued_at=at)
    else:
        grant.version += 1
        grant.issued_at = at
    ctx.session.add(grant)
    ctx.session.flush()
    for key in [key for key in ctx.memo if isinstance(key, tuple) and key[:3] == (_LINK, bearer.subject,
                                                                                  bearer.person)]:
        del ctx.memo[key]  # the notices queued from now on carry the new version
    return grant


def form_token(secret: str, bearer: Bearer, form: str, now: datetime) -> str:
    """A one-time token for one form shown to `bearer` (its hidden CSRF field)."""
    payload = {"s": bearer.subject, "p": bearer.person or "", "f": form, "n": secrets.token_urlsafe(18),
               "e": int((now + FORM_LIFETIME).timestamp())}
    return URLSafeSerializer(secret, salt=FORM_SALT).dumps(payload)


def use_form_token(session: Session, secret: str, token: str | None, bearer: Bearer, form: str,
                   now: datetime) -> None:
    """Check a form's token and spend it in the current transaction: FormInvalid when missing,
    tampered, for another person or form, or expired; FormReplayed when already spent (the
    action it came with is then not done again)."""
    if not token:
        raise FormInvalid("Le formulaire est incomplet (jeton de sécurité manquant) : rechargez la page et "
                          "recommencez. Rien n'a été enregistré.")
    try:
        payload = URLSafeSerializer(secret, salt=FORM_SALT).loads(token)
        subject, person, name, nonce, expires = payload["s"], payload["p"], payload["f"], payload["n"], payload["e"]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise FormInvalid("Le jeton de sécurité du formulaire n'est pas valide : rechargez la page et recommencez. "
                          "Rien n'a été enregistré.") from None
    if subject != bearer.subject or person != (bearer.person or "") or name != form:
        raise FormInvalid("Ce formulaire ne correspond pas à cette page : rechargez la page et recommencez. "
                          "Rien n'a été enregistré.")
    if not isinstance(expires, int) or now.timestamp() > expires:
        raise FormInvalid("Ce formulaire a expiré : rechargez la page et recommencez. Rien n'a été enregistré.")
    digest = hashlib.sha256(str(nonce).encode("utf-8")).hexdigest()
    if session.get(PortalFormUse, digest) is not None:
        raise FormReplayed("Ce formulaire a déjà été envoyé : il n'est pas pris en compte une seconde fois.")
    try:
        with session.begin_nested():
            session.add(PortalFormUse(nonce=digest, subject=bearer.subject, used_at=now))
            session.flush()
    except IntegrityError:
        raise FormReplayed("Ce formulaire a déjà été envoyé : il n'est pas pris en compte une seconde fois.") from None


# --- Links in notices ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkSettings:
    """What a notice's link needs: the secret, the portal's public address, the validity in days,
    and `issued`, the real instant the link is issued at (UTC): its validity counts from the later
    of that and the notice's own instant, since the portal checks expiry in real time (a notice of
    a replayed programme, dated 2015, still carries a link that works for `days` days). A link is
    signed once per bearer and notice instant in a context (`notice_link`): the notices of one
    transaction to the same bearer carry the same link, valid from when the first was written."""

    secret: str
    base_url: str
    days: int
    issued: datetime | None = None


JURY_KINDS = frozenset({NoticeKind.JURY_CONVOCATION, NoticeKind.JURY_REMINDER})


def bearer_for(ctx: ProgrammeContext, kind: NoticeKind, recipient: Recipient, context: Mapping[str,
                                                                                               Any]) -> Bearer | None:
    """Whose page a notice's recipient should reach from it: a juror for the jury's notices, the
    recipient's party of the pilot the notice is about (the consultancy: every pilot); None when
    the notice is about no pilot, or the recipient speaks for none of its parties."""
    email = recipient.email.lower()
    if kind in (NoticeKind.DRAFT_LINK, NoticeKind.PARTNER_ANSWER):  # each holder on file of the draft, their own
        holder = context.get("porteur")
        return replace(holder, person=email) if isinstance(holder, Bearer) and holder.role == APPLICANT else None
    if kind in (NoticeKind.NEW_LINK, NoticeKind.PARTNER_REQUEST):  # the person the link is for, whatever the page
        holder = context.get("porteur")
        return holder if isinstance(holder, Bearer) and holder.person == email else None
    if kind in JURY_KINDS:
        members = {m.email.lower() for m in ctx.definition.jury.members}
        return Bearer(JUROR, email=email, person=email) if email in members else None
    pilot = context.get("pilote")
    application = context.get("candidature")
    if not isinstance(pilot, Pilot) and isinstance(application, Application):
        pilot = ctx.session.exec(select(Pilot).where(Pilot.application_id == application.id)).first()
    if not isinstance(pilot, Pilot) or pilot.status == PilotStatus.WITHDRAWN:
        return None
    bearer = _pilot_bearers(ctx, pilot).get(email)
    return None if bearer is None else replace(bearer, person=email)


_BEARERS = "pilot_bearers"
"""The key of a pilot's bearers in `ProgrammeContext.memo`: (_BEARERS, pilot id) → (its application's version,
bearers)."""
BULK_AFTER = 8
"""A context that worked out this many pilots' bearers one by one reads every other pilot's at once."""


def _pilot_bearers(ctx: ProgrammeContext, pilot: Pilot) -> dict[str, Bearer]:
    """The bearer of each address that speaks for a party of `pilot` (lower case; an address in
    several parties is its first party's, in `all_parties`' order), worked out once per context
    and version of the pilot's application: a stage queues a notice per pilot and recipient.
    After `BULK_AFTER` pilots (a stage walking every pilot), the rest are read in one query
    (`read_pilot_bearers`) instead of one query and one form validation per pilot."""
    key = (_BEARERS, pilot.id)
    known: tuple[int, dict[str, Bearer]] | None = ctx.memo.get(key)
    if known is not None:
        # An application this transaction changed (a new version) is in the session; one it
        # never loaded is as it was read.
        loaded = ctx.session.identity_map.get(identity_key(Application, pilot.application_id))
        if loaded is None or loaded.version == known[0]:
            return known[1]
    misses = ctx.memo[(_BEARERS, "misses")] = ctx.memo.get((_BEARERS, "misses"), 0) + 1
    if misses == BULK_AFTER:
        ctx.memo.update(read_pilot_bearers(ctx))
        return _pilot_bearers(ctx, pilot)
    lead = ctx.session.get(Application, pilot.application_id)
    assert lead is not None
    found = _bearers_by_email(ctx, lead.lead_siren, {CharterParty.TERRITORY: [
        person.email for person in territory_contacts(ctx, pilot)]})
    ctx.memo[key] = (lead.version, found)
    return found


def _bearers_by_email(ctx: ProgrammeContext, siren: str, territory: Mapping[str, list[str]]) -> dict[str, Bearer]:
    parties = {**territory, **{party: [p.email for p in people] for party, people in other_parties(ctx).items()}}
    found: dict[str, Bearer] = {}
    for party, emails in parties.items():
        bearer = consultancy_bearer() if party == CharterParty.CONSULTANCY else Bearer(party, siren=siren)
        for email in emails:
            found.setdefault(email.lower(), bearer)
    return found


_APPLICATION: Any = Application.__table__  # type: ignore[attr-defined]
_VERSION: Any = ApplicationVersion.__table__  # type: ignore[attr-defined]
_PILOT: Any = Pilot.__table__  # type: ignore[attr-defined]
_CONTACTS: Any = (
    sa_select(_PILOT.c.id, _APPLICATION.c.version, _APPLICATION.c.lead_siren,
              *(_VERSION.c.payload[name] for name in CONTACT_FIELDS))
    .join_from(_PILOT, _APPLICATION, _PILOT.c.application_id == _APPLICATION.c.id)
    .join_from(_APPLICATION, _VERSION, (_VERSION.c.application_id == _APPLICATION.c.id)
               & (_VERSION.c.version == _APPLICATION.c.version))
    .where(_PILOT.c.programme_id == bindparam("programme_id")))
"""Each pilot's application, current version and its contacts' lists (not the whole form)."""


def read_pilot_bearers(ctx: ProgrammeContext) -> dict[tuple[str, int], tuple[int, dict[str, Bearer]]]:
    """Every pilot's bearers (`_pilot_bearers`), in one query, keyed as `ProgrammeContext.memo` holds them. The
    territory's addresses are read from the stored form without validating it again: it was
    validated before it was stored (the same addresses as `territory_contacts`)."""
    ctx.session.flush()  # a version this transaction added is read as the session sees it
    rows = ctx.session.connection().execute(_CONTACTS, {"programme_id": ctx.programme_id})
    return {(_BEARERS, pilot_id): (version, _bearers_by_email(
                ctx, siren, {CharterParty.TERRITORY: [person["courriel"] for people in lists for person in people]}))
            for pilot_id, version, siren, *lists in rows}


_LINK = "notice_link"
"""The key of a token in `ProgrammeContext.memo`: (_LINK, subject, person, secret, days, the notice's instant)."""


def notice_linker(settings: Callable[[], LinkSettings | None]) -> NoticeLinker:
    """A context's linker (`ProgrammeContext.linker`, given to `load_ctx` by whoever loads it, as the renderer
    is): each notice's link written by `notice_link` with the settings `settings()` gives when the
    notice is queued (None: no link)."""

    def link(ctx: ProgrammeContext, kind: NoticeKind, recipient: Recipient, context: Mapping[str, Any],
             at: datetime) -> str | None:
        return notice_link(ctx, kind, recipient, context, at, settings=settings())

    return link


def notice_link(ctx: ProgrammeContext, kind: NoticeKind, recipient: Recipient, context: Mapping[str, Any],
                at: datetime, *, settings: LinkSettings | None) -> str | None:
    """The personal link a notice carries to its recipient's page (current version, valid from the
    notice's instant), or None without portal settings or without a page for this recipient.
    Signed once per bearer and instant in `ctx` (one transaction: a tick's stage), and again after
    `issue_link` revokes the bearer's links in it."""
    if settings is None:
        return None
    bearer = bearer_for(ctx, kind, recipient, context)
    if bearer is None:
        return None
    key = (_LINK, bearer.subject, bearer.person, settings.secret, settings.days, at)
    token: str | None = ctx.memo.get(key)
    if token is None:  # signed once per bearer and instant in this context (a tick's stage)
        valid_from = max(at, settings.issued) if settings.issued is not None else at
        token = ctx.memo[key] = current_link(ctx, bearer, secret=settings.secret, at=at, days=settings.days,
                                             valid_from=valid_from)
    return settings.base_url.rstrip("/") + home_path(bearer, token)


def home_path(bearer: Bearer, token: str) -> str:
    """The path of the bearer's own page on the portal (the token is a path segment, never a query
    string, which proxies log and browsers send on more readily)."""
    if bearer.role == JUROR:
        return f"/l/{token}/jury"
    if bearer.every_pilot:
        return f"/l/{token}/prestataire"
    if bearer.role == PARTNER:
        lead, _, number = (bearer.siren or "").partition(":")
        return f"/l/{token}/partenaire/{lead}/{number}"
    return f"/l/{token}/{bearer.role}/{bearer.siren}"


def notice_url(programme_id: int | None, ref: link_tokens.LinkRef, settings: LinkSettings) -> str:
    """The link a notice carries, built again at sending time from what the notice stores (`ref`)
    with the portal's settings: byte for byte the link `notice_link` wrote when it was queued (the
    same secret and address), at the version it was queued with, so a link revoked since stays
    revoked (the portal refuses it and offers a new one). LinkInvalid for a subject no link names."""
    bearer = replace(Bearer.from_subject(ref.subject), person=ref.person)
    return settings.base_url.rstrip("/") + home_path(bearer, link_tokens.sign(settings.secret, programme_id, ref))
