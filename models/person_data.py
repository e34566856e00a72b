"""Everything held about one person, found by their e-mail address (RGPD art. 15 and 17): the rows
of each table of the personal data map (`models.personal_data`) whose person columns hold that
address (compared exactly, case aside: never a LIKE pattern, so `%` and `_` are characters like
others, and a lookalike letter is another address), the names these rows give them, and the rows
naming them by one of those names (signatures, attendance, jurors' rows, audit entries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, SQLModel, col, func, select

from models.erasure import Needles
from models.errors import InvalidInput, UnknownPerson
from models.personal_data import BY_TABLE
from models.tables import (
    Application,
    ApplicationDraft,
    ApplicationVersion,
    Attendance,
    AuditEntry,
    CharterSignature,
    Contact,
    DueDateRequest,
    Intent,
    JuryScore,
    JurySubmission,
    MailMessage,
    Notice,
    Organisation,
    PartnerConfirmation,
    Pilot,
    PortalGrant,
    Programme,
    ProgrammeVersion,
    SessionAnswer,
    StaffMember,
    StaffSignInFailure,
)
from models.text import single_line

BY_ADDRESS: tuple[tuple[type[SQLModel], str], ...] = (
    (Contact, "email"), (Intent, "contact_email"), (PartnerConfirmation, "contact_email"),
    (PartnerConfirmation, "requested_by"), (ApplicationVersion, "submitted_by"), (SessionAnswer, "respondent"),
    (DueDateRequest, "requested_by"), (Notice, "recipient_email"), (PortalGrant, "person"), (MailMessage, "sender"),
    (StaffMember, "email"), (StaffSignInFailure, "email"), (CharterSignature, "via_person"),
)
"""Plain columns holding an address, compared with `lower(column) = address`."""
IN_JSON: tuple[tuple[type[SQLModel], str], ...] = (
    (ApplicationVersion, "payload"), (ApplicationDraft, "payload"), (ApplicationDraft, "holders"),
    (PartnerConfirmation, "line"), (Programme, "definition"), (ProgrammeVersion, "definition"),
)
"""JSON columns that may hold an address among their values."""
BY_NAME: tuple[tuple[type[SQLModel], str], ...] = (
    (CharterSignature, "signatory"), (Attendance, "person"), (JuryScore, "juror"), (JurySubmission, "juror"),
)
"""Columns naming a person by name (the names the rows found by address give)."""


def read_address(text: str) -> str:
    """The address typed, as compared: one line, trimmed, lower case. Raises InvalidInput for an
    empty text or one with control characters."""
    try:
        address = single_line(text).strip().lower()
    except ValueError as exc:
        raise InvalidInput(f"Adresse refusée : {exc}") from None
    if not address:
        raise InvalidInput("Adresse vide : donnez l'adresse électronique de la personne (--person).")
    local, at_sign, domain = address.partition("@")
    if not at_sign or not local or not domain or "@" in domain or any(c.isspace() for c in address):
        raise InvalidInput(f"« {text.strip()[:80]} » n'est pas une adresse électronique : une personne est "
                           "désignée par son adresse (exemple : prenom.nom@exemple.fr).")
    return address


def _holds(value: Any, address: str) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == address
    if isinstance(value, list):
        return any(_holds(item, address) for item in value)
    if isinstance(value, dict):
        return any(_holds(item, address) for item in value.values())
    return False


def _names_in(value: Any, address: str, needles: Needles) -> None:
    """Names beside the address in a JSON value (a form's person, a programme's member); an
    organisation's entry (a lead with its SIREN, an organiser) gives no name nor phone."""
    if isinstance(value, dict):
        organisation = "siren" in value or "full_name" in value
        if not organisation and any(_holds(value.get(key), address) for key in ("courriel", "email")):
            needles.add(value.get("nom") or value.get("name"), address, value.get("telephone"))
        for item in value.values():
            _names_in(item, address, needles)
    elif isinstance(value, list):
        for item in value:
            _names_in(item, address, needles)


@dataclass
class Found:
    """The rows held about one person, by table name, and the strings naming them."""

    address: str
    needles: Needles
    rows: dict[str, list[Any]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    mentions: list[Notice] = field(default_factory=list)
    """Notices to other people whose texts name this person (an erasure replaces only the needles)."""

    def add(self, row: Any) -> None:
        rows = self.rows.setdefault(row.__tablename__, [])
        if all(other is not row for other in rows):
            rows.append(row)


def find_person(session: Session, text: str) -> Found:
    """Every row held about the person whose address is `text`. Raises InvalidInput for an
    unreadable address and UnknownPerson when nothing is held about it."""
    address = read_address(text)
    found = Found(address, Needles({address}))
    for table, column in BY_ADDRESS:
        for row in session.exec(select(table).where(func.lower(getattr(table, column)) == address)):
            found.add(row)
            held = BY_TABLE[str(row.__tablename__)]
            found.needles.add(getattr(row, held.name, None) if held.name else None)
            found.needles.add(None, None, getattr(row, "phone", None))
    for table, column in IN_JSON:
        for row in session.exec(select(table)):
            value = getattr(row, column)
            if _holds(value, address):
                _names_in(value, address, found.needles)
                found.add(row)
    if not found.rows:
        raise UnknownPerson("Aucune donnée n'est enregistrée pour cette adresse (comparée exactement, "
                       "majuscules et minuscules confondues).")
    found.needles = only_theirs(session, address, found.needles)
    for table, column in BY_NAME:
        names = sorted(found.needles.names)
        if names:
            for row in session.exec(select(table).where(col(getattr(table, column)).in_(names))):
                found.add(row)
    found.audit = [entry for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
                   if found.needles.found(entry.actor) or found.needles.found(entry.summary)
                   or found.needles.in_value(entry.details)]
    found.mentions = [notice for notice in session.exec(select(Notice).order_by(col(Notice.id)))
                      if notice.recipient_email.lower() != address and any(found.needles.found(t) for t in (
                          notice.recipient_name, notice.subject, notice.body_text, notice.body_html,
                          notice.core_text, notice.calendar))]
    return found


def only_theirs(session: Session, address: str, needles: Needles) -> Needles:
    """`needles` without what names others too: an organisation's name (an EPCI, a pilot, a lead,
    a partner) and a name or phone another address's contact or intent also holds (RGPD art. 17
    erases one person's data, never another's)."""
    shared: set[str] = set()
    for column in (Organisation.name, Application.lead_name, Pilot.name, Intent.name,
                   ApplicationDraft.lead_name, PartnerConfirmation.lead_name, PartnerConfirmation.partner_name):
        shared |= {str(v).casefold() for v in session.exec(select(column).distinct()) if v}
    phones: set[str] = set()
    for name, email, phone in session.exec(select(Contact.name, Contact.email, Contact.phone)):
        if email.strip().lower() != address:
            shared.add(name.casefold())
            phones.add(phone or "")
    for name, email in session.exec(select(Intent.contact_name, Intent.contact_email)):
        if email.strip().lower() != address:
            shared.add(name.casefold())
    return Needles(needles.emails, {n for n in needles.names if n.casefold() not in shared},
                   needles.phones - phones)

