"""The portal's legal pages (`/mentions-legales`, `/donnees-personnelles`, `/accessibilite`) as one
frozen value: who publishes the portal (LCEN art. 6-III), whom to write to, the register of
processing (`models.processing`, RGPD art. 13-14 and 30) and the accessibility contact (loi
2005-102 art. 47)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from models.context import all_ctx
from models.processing import Register, register

TO_COMPLETE = "à compléter"


@dataclass(frozen=True)
class Publisher:
    """The portal's publisher: the programme's organiser, its director of publication (the
    organiser's signatory) and the manager people write to about their data or accessibility."""

    name: str
    address: str
    phone: str
    director: str
    contact_name: str
    contact_email: str


@dataclass(frozen=True)
class LegalPages:
    """What the three legal pages show: the publisher, the host (a setting) and the register."""

    publisher: Publisher
    host: str
    register: Register


def legal_pages(session: Session, programme: str | None, *, host: str, address: str,
                link_days: int = 120) -> LegalPages:
    """The legal pages for the programmes this portal serves (`programme`: its slug, or None for
    every one loaded; usually one). `host` and `address` are the settings `LEGAL_HOST` and
    `LEGAL_PUBLISHER_ADDRESS`, `link_days` the setting `PORTAL_LINK_DAYS` (told as « 120 jours »).
    Without a programme loaded, the publisher reads « à compléter »."""
    definitions = [c.definition for c in all_ctx(session) if programme is None or c.definition.slug == programme]
    if not definitions:
        publisher = Publisher(TO_COMPLETE, address, TO_COMPLETE, TO_COMPLETE, TO_COMPLETE, TO_COMPLETE)
        return LegalPages(publisher, host, register([], link_days=link_days))
    first = definitions[0]
    organiser = first.organiser
    manager = first.organiser_manager()
    name = organiser.full_name if organiser.name == organiser.full_name else f"{organiser.full_name} ({organiser.name})"
    publisher = Publisher(name, address, organiser.phone, organiser.signatory, manager.name, str(manager.email))
    return LegalPages(publisher, host, register(definitions, link_days=link_days))
