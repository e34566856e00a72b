"""The back office's people and links (issue 23): each contact of each party with their own
personal link's state: its version, when it was issued, until when the last one mailed works,
and whether it was revoked (`models.links`: one version per person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from models import links
from models.context import ProgrammeContext
from models.links import Bearer
from models.notices import Recipient
from models.read.paging import Listing, pilot_page
from models.read.pilot import siren_of
from models.recipients import all_parties, consultancy_contacts
from models.tables import AuditEntry, CharterParty, Notice, Pilot, PilotStatus, PortalGrant


@dataclass(frozen=True)
class LinkState:
    """A person's link: never made (`version` None), or its current version, when it was issued,
    until when the last link mailed to them at that version works (None: none mailed, e.g. printed
    on the command line), and whether it was revoked since (no link of that version exists)."""

    version: int | None
    issued_at: datetime | None
    expires_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class PersonLine:
    name: str
    email: str
    party: str
    """territoire, cerdd or prestataire (what the forms post back)."""
    party_label: str
    link: LinkState


@dataclass(frozen=True)
class PartyPeople:
    """A pilot's people (`siren`), or the consultancy's for every pilot (`siren` None)."""

    title: str
    siren: str | None
    people: tuple[PersonLine, ...]


def _state(ctx: ProgrammeContext, bearer: Bearer, grants: dict[tuple[str, str], PortalGrant]) -> LinkState:
    grant = grants.get((bearer.subject, bearer.person))
    if grant is None:
        return LinkState(None, None, None, False)
    last = ctx.session.exec(select(AuditEntry.action).where(AuditEntry.entity == "portal_grant",
                                                            AuditEntry.entity_id == grant.id)
                            .order_by(col(AuditEntry.id).desc())).first()
    mailed = ctx.session.exec(select(func.max(Notice.link_expires)).where(
        Notice.programme_id == ctx.programme_id, func.lower(Notice.recipient_email) == bearer.person,
        Notice.link_subject == bearer.subject, Notice.link_person == bearer.person,
        Notice.link_version == grant.version)).first()
    return LinkState(grant.version, grant.issued_at, mailed, last == "lien.revoque")


def _lines(ctx: ProgrammeContext, bearer: Bearer, people: list[Recipient],
           grants: dict[tuple[str, str], PortalGrant]) -> tuple[PersonLine, ...]:
    seen: dict[str, PersonLine] = {}
    for person in people:
        email = person.email.lower()
        if email not in seen:
            held = Bearer(bearer.role, siren=bearer.siren, person=email)
            seen[email] = PersonLine(person.name, email, bearer.role, links.ROLE_LABELS[bearer.role],
                                     _state(ctx, held, grants))
    return tuple(seen.values())


def people_screen(ctx: ProgrammeContext, page: int | None = None, search: str = "") -> Listing[PartyPeople]:
    """Page `page` of the pilots not withdrawn, by rank (PAGE_SIZE a page; with `search`, those whose
    name holds it or whose SIREN starts with it): their territory's and the Cerdd's contacts; then,
    on every page, the consultancy's contacts (one link each, for every pilot). Each person with
    their own link's state."""
    pager, chosen = pilot_page(ctx, page, search, where=[Pilot.status != PilotStatus.WITHDRAWN])
    grants = {(g.subject, g.person): g for g in ctx.session.exec(
        select(PortalGrant).where(PortalGrant.programme_id == ctx.programme_id)).all()}
    blocks = []
    for pilot in chosen:
        siren = siren_of(ctx, pilot)
        parties = all_parties(ctx, pilot)
        people = tuple(line for party in (CharterParty.TERRITORY, CharterParty.ORGANISER)
                       for line in _lines(ctx, Bearer(party, siren=siren), parties[party], grants))
        blocks.append(PartyPeople(pilot.name, siren, people))
    consultancy = _lines(ctx, links.consultancy_bearer(), consultancy_contacts(ctx), grants)
    blocks.append(PartyPeople(f"{ctx.definition.consultancy.name} (tous les pilotes)", None, consultancy))
    return Listing(tuple(blocks), pager, search)


def person_bearer(ctx: ProgrammeContext, siren: str, party: str, email: str) -> Bearer:
    """The bearer a people's form names: a contact of a pilot's party, or a consultant (empty
    `siren`); InvalidInput or NotFound in French otherwise (`models.links`)."""
    if party == CharterParty.CONSULTANCY:
        return links.consultant_bearer(ctx, email)
    return links.pilot_bearer(ctx, siren, party, email)
