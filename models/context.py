"""Loading a programme (its row, its validated definition, its register) for domain functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from models import audit
from models.clock import WorkingCalendar
from models.db import lock_for_update
from models.errors import InvalidInput, NotFound
from models.programme import ProgrammeDefinition, load_definition, register_path
from models.register import Register, load_register
from models.tables import Organisation, OrgKind, Programme, Stage


@dataclass
class Ctx:
    """A programme as the domain functions see it, inside one session."""

    session: Session
    programme: Programme
    definition: ProgrammeDefinition

    @property
    def programme_id(self) -> int:
        assert self.programme.id is not None
        return self.programme.id

    @property
    def calendar(self) -> WorkingCalendar:
        return self.definition.calendar()

    @property
    def register(self) -> Register:
        path = register_path(Path(self.programme.source), self.definition)
        return load_register(path, tuple(self.definition.call.territory.departements))

    def audit(self, at: datetime, actor: str, action: str, entity: str, entity_id: int | None,
              summary: str, **details: object) -> None:
        audit.record(self.session, programme_id=self.programme_id, at=at, actor=actor,
                     action=action, entity=entity, entity_id=entity_id, summary=summary,
                     details=dict(details))


def load_ctx(session: Session, slug: str | None = None) -> Ctx:
    """The programme named `slug`, or the only one loaded."""
    programmes = session.exec(select(Programme).order_by(Programme.id)).all()  # type: ignore[arg-type]
    if not programmes:
        raise NotFound(
            "Aucun programme n'est chargé dans la base : lancez d'abord « transitions init »."
        )
    if slug is None:
        if len(programmes) > 1:
            names = ", ".join(p.slug for p in programmes)
            raise InvalidInput(f"Plusieurs programmes sont chargés ({names}) : précisez --programme.")
        programme = programmes[0]
    else:
        found = [p for p in programmes if p.slug == slug]
        if not found:
            raise NotFound(f"Le programme « {slug} » n'est pas chargé dans la base.")
        programme = found[0]
    definition = ProgrammeDefinition.model_validate(programme.definition)
    return Ctx(session, programme, definition)


def all_ctx(session: Session, *, lock: bool = False) -> list[Ctx]:
    """Every loaded programme. With `lock`, the programmes are held until the transaction ends
    (PostgreSQL: their rows; SQLite: the write lock), so two ticks running at once advance a
    programme one after the other."""
    query = select(Programme).order_by(Programme.id)  # type: ignore[arg-type]
    if lock:
        query = lock_for_update(session, query)
    programmes = session.exec(query).all()
    return [Ctx(session, p, ProgrammeDefinition.model_validate(p.definition)) for p in programmes]


def install_programme(session: Session, path: Path, at: datetime, actor: str) -> tuple[Ctx, bool]:
    """Load a programme file into the database; reloading an unchanged file changes nothing.

    Once the call is launched, only a file with the same dates may replace the definition
    (wording and reminder rules can evolve; the calendar the applicants were given cannot).
    """
    definition = load_definition(path)
    data = definition.model_dump(mode="json")
    existing = session.exec(select(Programme).where(Programme.slug == definition.slug)).first()
    if existing is not None:
        if existing.definition == data and existing.source == str(path.resolve()):
            return Ctx(session, existing, definition), False
        if existing.stage != Stage.READY:
            before = ProgrammeDefinition.model_validate(existing.definition)
            if _calendar(before) != _calendar(definition):
                raise InvalidInput(
                    f"Le programme « {definition.slug} » est déjà lancé : ses dates ne peuvent plus changer."
                )
        existing.definition = data
        existing.source = str(path.resolve())
        existing.title = definition.title
        ctx = Ctx(session, existing, definition)
        ctx.audit(at, actor, "programme.mis_a_jour", "programme", existing.id,
                  f"Définition du programme {definition.slug} mise à jour depuis {path.name}.")
        return ctx, True
    programme = Programme(slug=definition.slug, title=definition.title, definition=data,
                          source=str(path.resolve()), loaded_at=at)
    session.add(programme)
    session.flush()
    ctx = Ctx(session, programme, definition)
    ensure_organisation(session, OrgKind.ORGANISER, definition.organiser.name, None)
    ensure_organisation(session, OrgKind.CONSULTANCY, definition.consultancy.name, None)
    ctx.audit(at, actor, "programme.charge", "programme", programme.id,
              f"Programme {definition.slug} chargé depuis {path.name}.")
    return ctx, True


def _calendar(definition: ProgrammeDefinition) -> tuple[object, ...]:
    """The dates applicants and pilots were given."""
    accompaniment = definition.accompaniment
    return (definition.call.launch, definition.call.deadline, definition.jury.meeting,
            accompaniment.charter.sign_by, accompaniment.kickoff, accompaniment.duration)


def ensure_organisation(session: Session, kind: str, name: str, siren: str | None) -> Organisation:
    """The organisation with this SIREN (or, without one, this kind and name), created if new."""
    query = select(Organisation)
    query = query.where(Organisation.siren == siren) if siren else query.where(
        Organisation.kind == kind, Organisation.name == name)
    organisation = session.exec(query).first()
    if organisation is None:
        organisation = Organisation(kind=kind, name=name, siren=siren)
        session.add(organisation)
        session.flush()
    return organisation
