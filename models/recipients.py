"""Who receives what: the people behind each party of the programme, as notice recipients.

Sources: the programme file (the Cerdd's team and manager, the consultancy, the jury) and each
application's form (the territory's operational leads and referents)."""

from __future__ import annotations

from models.context import ProgrammeContext
from models.forms import ApplicationForm, form_of
from models.notices import Recipient
from models.tables import Application, CharterParty, Pilot


def organiser_team(ctx: ProgrammeContext) -> list[Recipient]:
    """Every contact of the Cerdd named in the programme file."""
    return [Recipient(c.email, c.name) for c in ctx.definition.organiser.contacts]


def manager(ctx: ProgrammeContext) -> list[Recipient]:
    """The Cerdd's manager of the programme: reports, escalations, alerts."""
    person = ctx.definition.organiser_manager()
    return [Recipient(person.email, person.name)]


def jurors(ctx: ProgrammeContext) -> list[Recipient]:
    """Every member of the jury (call, « le jury »)."""
    return [Recipient(m.email, m.juror) for m in ctx.definition.jury.members]


def consultancy_contacts(ctx: ProgrammeContext) -> list[Recipient]:
    return [Recipient(c.email, c.name) for c in ctx.definition.consultancy.contacts]


def applicants(form: ApplicationForm) -> list[Recipient]:
    """The people an application names as contacts (form, « responsables » and « référents »)."""
    return [Recipient(p.courriel, p.nom) for p in form.contacts()]


def territory_contacts(ctx: ProgrammeContext, pilot: Pilot) -> list[Recipient]:
    """The pilot territory's people, from its application's current version (read and validated
    once per context and version: a stage asks for them for its notices, and again for each of
    their links)."""
    application = ctx.session.get(Application, pilot.application_id)
    assert application is not None
    key = ("territory_contacts", application.id, application.version)
    people: list[Recipient] | None = ctx.memo.get(key)
    if people is None:
        people = ctx.memo[key] = applicants(form_of(ctx.session, application))
    return list(people)


def all_parties(ctx: ProgrammeContext, pilot: Pilot) -> dict[str, list[Recipient]]:
    """Who speaks for each party of the charter (call: territory, Cerdd, consultancy)."""
    return {CharterParty.TERRITORY: territory_contacts(ctx, pilot), **other_parties(ctx)}


def other_parties(ctx: ProgrammeContext) -> dict[str, list[Recipient]]:
    """Who speaks for the Cerdd and for the consultancy in every pilot's charter (`all_parties`)."""
    organiser = ctx.definition.organiser
    signatory = [c for c in organiser.contacts if c.name == organiser.signatory]
    chief = ctx.definition.organiser_manager()
    cerdd = [Recipient(c.email, c.name) for c in [*signatory, chief]]
    return {CharterParty.ORGANISER: cerdd, CharterParty.CONSULTANCY: consultancy_contacts(ctx)}
