"""A programme as domain functions see it (its row, its validated definition, its stored register,
the renderer its notices are written with and the linker that writes their links to the portal),
and installing a programme into the database."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, literal_column
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from models import audit
from models.clock import WorkingCalendar
from models.db import lock_for_update
from models.errors import InvalidInput, NotFound
from models.link_tokens import KeyRef
from models.notices import NoticeKind, Recipient, Renderer
from models.outbox import dedup_key, enqueue, queued_keys
from models.programme import ProgrammeDefinition, layout_changes
from models.programme_versions import record_version
from models.register import Register, parse_register
from models.tables import (
    AuditEntry,
    Organisation,
    OrgKind,
    Pilot,
    PilotStatus,
    Programme,
    ProgrammeMode,
    ProgrammeState,
    RegisterSnapshot,
)
from models.wording import counted


@dataclass(frozen=True)
class ProgrammeBundle:
    """Everything a programme needs at run time, read from its files once by the shell: the
    validated definition, the file it came from (a name, for information), the register's CSV
    text, the template overrides (name → source) and the warnings its files deserve (in French,
    for whoever loads them: words of earlier versions still accepted)."""

    definition: ProgrammeDefinition
    source: str
    register_name: str
    register_csv: str
    templates: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def register_sha256(self) -> str:
        return hashlib.sha256(self.register_csv.encode("utf-8")).hexdigest()


@dataclass
class ProgrammeContext:
    """A programme as the domain functions see it, inside one session.

    `renderer` writes the notices a domain function asks for (`notify`); read-only uses may
    leave it out. `linker` writes each notice's personal link to the portal (`models.links.
    notice_linker`), given by whoever loads the context like the renderer; without one, notices
    carry no link.
    """

    session: Session
    programme: Programme
    definition: ProgrammeDefinition
    renderer: Renderer | None = None
    linker: NoticeLinker | None = None
    _queued: dict[str, bool] = field(default_factory=dict, init=False, repr=False)
    """Deduplication keys read ahead (`prefetch`): whether each is already in the outbox."""
    queued_count: int = field(default=0, init=False, repr=False)
    """How many notices `notify` has queued through this context (a command's count of what it sent)."""
    memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False)
    """Values derived once per context, that is per transaction (each stage of a tick has its own):
    the contacts of an application's current version, the bearers a pilot's notices reach, the
    links a notice carries (`models.recipients`, `models.links`). Each owner keys its entries with
    what they depend on, or drops them when it changes that; nothing outlives the context."""

    @property
    def programme_id(self) -> int:
        assert self.programme.id is not None
        return self.programme.id

    def present(self, real: datetime) -> datetime:
        """The programme's current instant for an action that carries none of its own (a web page):
        `real` (the real time, UTC) for a live programme; for a replayed one (`ProgrammeMode.REPLAY`)
        its last tick, the replay's present, so that what is recorded stays in the programme's
        own time line (a signature on the 2015 demo is dated 2016, not the day the page is opened)."""
        programme = self.programme
        if programme.mode == ProgrammeMode.REPLAY and programme.last_tick_at is not None:
            return programme.last_tick_at
        return real

    @cached_property
    def calendar(self) -> WorkingCalendar:
        """French working days and the sending hours (built once per context)."""
        return self.definition.calendar()

    @cached_property
    def register(self) -> Register:
        """The register of EPCI stored when the programme was installed."""
        sha = self.programme.register_sha256
        if sha is None:
            raise NotFound(f"Le programme « {self.programme.slug} » n'a pas de registre des EPCI : "
                           "réinstallez-le avec « transitions init ».")
        departements = tuple(self.definition.call.territory.departements)
        return parse_register(sha, departements, lambda: _snapshot_text(self.session, sha))

    @cached_property
    def whole_register(self) -> Register:
        """The stored register with the EPCI of every département it lists, not only the call's: to
        tell an EPCI of another département from a SIREN the register does not know."""
        self.register  # noqa: B018 — the same refusal when there is none
        sha = self.programme.register_sha256 or ""
        return parse_register(sha, ("",), lambda: _snapshot_text(self.session, sha))

    def prefetch(self, kind: NoticeKind, requests: Iterable[tuple[str, list[Recipient]]]) -> None:
        """Read ahead, in one query per `models.db.IN_LIST` keys, which of these notices (`key`, recipients) are
        already queued, so that the `notify` calls for them that follow ask the outbox nothing:
        a stage walking every active pilot's reminders, most of them sent long ago, makes a few
        queries instead of one per reminder."""
        keys = [dedup_key(kind, key, person) for key, people in requests for person in people]
        found = queued_keys(self.session, keys)
        self._queued.update({notice_key: notice_key in found for notice_key in keys})

    def queued(self, kind: NoticeKind, key: str, recipients: list[Recipient]) -> bool:
        """Whether every one of these notices was read ahead (`prefetch`) and found in the outbox:
        `notify` would queue none of them (False when any was not read ahead)."""
        queued = self._queued
        return all(queued.get(dedup_key(kind, key, person), False) for person in recipients)

    def notify(self, kind: NoticeKind, recipients: list[Recipient], *, key: str, context: dict[str, Any],
               at: datetime, deliver_after: datetime | None = None,
               calendar: Callable[[Recipient], str] | None = None, key_ref: KeyRef | None = None) -> int:
        """Queue a notice to each recipient in this transaction (see `models.outbox.enqueue`);
        `calendar` writes each recipient's iCalendar part; `key_ref`: a staff member's single-use key."""
        if self.renderer is None:  # a programming error: a writing command must give one
            raise RuntimeError("this context was loaded without a renderer: it cannot queue notices")
        linker = self.linker
        keys = [dedup_key(kind, key, person) for person in recipients]
        known = all(notice_key in self._queued for notice_key in keys)
        if known and all(self._queued[notice_key] for notice_key in keys):
            return 0  # read ahead: every one of them is queued already
        created = enqueue(self.session, programme=self.programme, definition=self.definition,
                          renderer=self.renderer, kind=kind, recipients=recipients, key=key, context=context,
                          at=at, deliver_after=deliver_after, calendar=calendar,
                          linker=None if linker is None else lambda person: linker(self, kind, person, context, at),
                          queued={k for k in keys if self._queued[k]} if known else None, key_ref=key_ref)
        if known:
            self._queued.update(dict.fromkeys(keys, True))
        self.queued_count += created
        return created

    def audit(self, at: datetime, actor: str, action: str, entity: str, entity_id: int | None,
              summary: str, **details: object) -> AuditEntry:
        """Record an audit entry in this transaction (`models.audit.record`) and return it (its id
        once flushed)."""
        return audit.record(self.session, programme_id=self.programme_id, at=at, actor=actor,
                            action=action, entity=entity, entity_id=entity_id, summary=summary,
                            details=dict(details))


NoticeLinker = Callable[[ProgrammeContext, NoticeKind, Recipient, Mapping[str, Any], datetime], str | None]
"""Writes the personal link a notice carries to one recipient (the templates' `lien`), or None:
called as `linker(ctx, kind, recipient, context, at)`."""


def _snapshot_text(session: Session, sha: str) -> str:
    snapshot = session.get(RegisterSnapshot, sha)
    if snapshot is None:
        raise NotFound(f"Le registre des EPCI {sha[:12]}… manque dans la base.")
    return snapshot.content


_PROGRAMMES = select(Programme).order_by(Programme.id)  # type: ignore[arg-type]
"""Every loaded programme, in order. A query every command runs is built once: SQLAlchemy keeps
its cache key and ORM compile state on the statement, about half of a small query's cost."""
_STAMPED_PROGRAMMES: Any = (select(Programme, literal_column("xmin::text"),
                                   literal_column("pg_current_xact_id_if_assigned() IS NOT NULL"))
                            .options(defer(Programme.definition))  # type: ignore[arg-type]
                            .order_by(Programme.id))  # type: ignore[arg-type]
"""PostgreSQL: every loaded programme without its definition (14 KB of JSON decoded per read), with
its row version (`xmin`, which every UPDATE of the row changes) to find its validated definition by,
and whether this transaction has written anything (its own writes share one `xmin`: two UPDATEs of
the row in one transaction leave the same version, so a transaction that writes never uses the kept
definitions; `pg_current_xact_id_if_assigned`, PostgreSQL ≥ 13)."""
_DEFINITION_NOW: Any = (select(Programme.definition, literal_column("xmin::text"))
                        .where(Programme.id == bindparam("programme_id")))


def load_ctx(session: Session, slug: str | None = None, *, renderer: Renderer | None = None,
             linker: NoticeLinker | None = None, lock: bool = False) -> ProgrammeContext:
    """The programme named `slug`, or the only one loaded. With `lock`, the programmes are held
    until the transaction ends, as `all_ctx` holds them.

    On PostgreSQL without `lock`, the programme's definition is found by its row's version
    (`stamped_definition`): its JSON is neither read nor decoded while the row has not changed, and
    `programme.definition` loads when first read.

    Raises NotFound when none (or not that one) is loaded, InvalidInput when several are and
    none is named."""
    stamped = not lock and session.get_bind().dialect.name == "postgresql"
    if stamped:
        rows: list[tuple[Programme, str | None]] = [(p, None if writing else stamp)
                                                    for p, stamp, writing in session.execute(_STAMPED_PROGRAMMES)]
    else:
        rows = [(p, None) for p in session.exec(lock_for_update(session, _PROGRAMMES) if lock else _PROGRAMMES)]
    if not rows:
        raise NotFound(
            "Aucun programme n'est chargé dans la base : lancez d'abord « transitions init »."
        )
    if slug is None:
        if len(rows) > 1:
            names = ", ".join(p.slug for p, _ in rows)
            raise InvalidInput(f"Plusieurs programmes sont chargés ({names}) : précisez --programme.")
        programme, stamp = rows[0]
    else:
        found = [(p, stamp) for p, stamp in rows if p.slug == slug]
        if not found:
            raise NotFound(f"Le programme « {slug} » n'est pas chargé dans la base.")
        programme, stamp = found[0]
    definition = definition_of(programme) if stamp is None else stamped_definition(session, programme, stamp)
    return ProgrammeContext(session, programme, definition, renderer, linker)


def all_ctx(session: Session, *, lock: bool = False, renderer: Renderer | None = None,
            linker: NoticeLinker | None = None) -> list[ProgrammeContext]:
    """Every loaded programme. With `lock`, the programmes are held until the transaction ends
    (PostgreSQL: their rows; SQLite: the write lock), so two ticks running at once advance a
    programme one after the other."""
    programmes = session.exec(lock_for_update(session, _PROGRAMMES) if lock else _PROGRAMMES).all()
    return [ProgrammeContext(session, p, definition_of(p), renderer, linker) for p in programmes]


_DEFINITIONS: dict[int, tuple[dict[str, Any], ProgrammeDefinition]] = {}
"""Per programme id: the stored JSON last validated (a private copy) and its validated definition."""


def definition_of(programme: Programme) -> ProgrammeDefinition:
    """The programme's validated definition; validated once per process for the same stored JSON
    (a tick reads its programmes several times, a submission once: validation, e-mail addresses
    included, costs about a millisecond). The stored JSON is compared with the one validated last
    for this programme (a dict comparison, a few microseconds): a programme installed again with
    another definition is validated again. Treat the result as read-only."""
    data = programme.definition
    known = _DEFINITIONS.get(programme.id or 0)
    if known is not None and known[0] == data:
        return known[1]
    found = ProgrammeDefinition.model_validate(data)
    if len(_DEFINITIONS) > 32:
        _DEFINITIONS.clear()
    _DEFINITIONS[programme.id or 0] = (copy.deepcopy(data), found)  # a copy: the row's dict may change in place
    return found


_STAMPED: dict[tuple[str, int], tuple[str, ProgrammeDefinition]] = {}
"""Per database (its URL, whole) and programme id: the row version last validated and its definition."""


def stamped_definition(session: Session, programme: Programme, stamp: str) -> ProgrammeDefinition:
    """PostgreSQL: the validated definition of `programme`, read with its row version `stamp`
    (`xmin` as text): validated once per process for each version of the row (a tick's UPDATE of
    its bookkeeping makes a new version: its definition is read and compared again, about 0.5 ms
    once). A definition already loaded in this session (perhaps changed in memory) is
    `definition_of`'s. Treat the result as read-only."""
    if "definition" in programme.__dict__:
        return definition_of(programme)
    key = (str(session.get_bind().engine.url), programme.id or 0)
    known = _STAMPED.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    data, now = session.execute(_DEFINITION_NOW, {"programme_id": programme.id}).one()
    set_committed_value(programme, "definition", data)  # loaded as if read with the row
    found = definition_of(programme)
    if len(_STAMPED) > 32:
        _STAMPED.clear()
    _STAMPED[key] = (now, found)
    return found


def install_programme(session: Session, bundle: ProgrammeBundle, at: datetime, actor: str, *,
                      renderer: Renderer | None = None, linker: NoticeLinker | None = None,
                      mode: str | None = None, typed: str | None = None) -> tuple[ProgrammeContext, bool]:
    """Store a programme (definition, register, wording) in the database; installing the same
    bundle again changes nothing. Returns the programme's context and whether anything changed.

    Once the call is launched, only a definition with the same dates may replace it (wording and
    reminder rules can evolve; the calendar the applicants were given cannot): InvalidInput otherwise.
    `mode` is « direct » (scheduled runs advance it) or « rejeu » (only explicit instants do); None
    keeps a stored programme's mode (a new one is « direct »): reloading a file never switches a
    replayed programme to direct unless asked (an explicit change is audited as `programme.mode`).
    `typed`: the file's path as its user typed it, shown in the commands a refusal suggests
    (default: the bundle's source, the file's name).
    """
    if mode is not None and mode not in set(ProgrammeMode):
        raise InvalidInput(f"Mode « {mode} » inconnu : « direct » ou « rejeu ».")
    definition = bundle.definition
    data = definition.model_dump(mode="json")
    sha = bundle.register_sha256
    if session.get(RegisterSnapshot, sha) is None:
        session.add(RegisterSnapshot(sha256=sha, name=bundle.register_name, content=bundle.register_csv))
        session.flush()
    templates = dict(bundle.templates)
    existing = session.exec(select(Programme).where(Programme.slug == definition.slug)).first()
    if existing is not None:
        mode = existing.mode if mode is None else mode
        moved = existing.mode != mode
        if moved:
            existing.mode = mode
            session.add(existing)
            audit.record(session, programme_id=existing.id, at=at, actor=actor, action="programme.mode",
                         entity="programme", entity_id=existing.id,
                         summary=f"Programme {existing.slug} en mode {mode}.")
        if existing.definition == data and existing.templates == templates and existing.register_sha256 == sha:
            return ProgrammeContext(session, existing, definition, renderer, linker), moved
        if existing.state != ProgrammeState.READY:
            before = ProgrammeDefinition.model_validate(existing.definition)
            if _calendar(before) != _calendar(definition):
                raise InvalidInput(
                    f"Le programme « {definition.slug} » est déjà lancé : ses dates ne peuvent plus changer."
                )
            _refuse_moving_laid_out_pilots(session, existing, before, bundle, typed or bundle.source)
        existing.definition = data
        existing.source = bundle.source
        existing.templates = templates
        existing.register_sha256 = sha
        existing.title = definition.title
        ctx = ProgrammeContext(session, existing, definition, renderer, linker)
        ctx.audit(at, actor, "programme.mis_a_jour", "programme", existing.id,
                  f"Définition du programme {definition.slug} mise à jour depuis {bundle.source}.")
        record_version(session, existing, source=bundle.source, at=at, actor=actor, reason="transitions init")
        return ctx, True
    programme = Programme(slug=definition.slug, title=definition.title, definition=data, source=bundle.source,
                          templates=templates, register_sha256=sha, loaded_at=at, mode=mode or ProgrammeMode.LIVE)
    session.add(programme)
    session.flush()
    ctx = ProgrammeContext(session, programme, definition, renderer, linker)
    ensure_organisation(session, OrgKind.ORGANISER, definition.organiser.name, None)
    ensure_organisation(session, OrgKind.CONSULTANCY, definition.consultancy.name, None)
    ctx.audit(at, actor, "programme.charge", "programme", programme.id,
              f"Programme {definition.slug} chargé depuis {bundle.source}.")
    record_version(session, programme, source=bundle.source, at=at, actor=actor, reason="installation")
    return ctx, True


def _refuse_moving_laid_out_pilots(session: Session, existing: Programme, before: ProgrammeDefinition,
                                   bundle: ProgrammeBundle, shown: str) -> None:
    """InvalidInput when `bundle` would lay out differently the year of pilots under way (active, that
    is kicked off and neither finished nor withdrawn: those `programme apply` moves): storing it
    would move no one's dates and tell no one (issue 26), so such a change goes through `transitions
    programme diff` and `apply`. A programme whose pilots are all finished or withdrawn loads (`diff`
    has nothing to move). `shown`: the file's path in the suggested commands."""
    changes = layout_changes(before, bundle.definition)
    if not changes:
        return
    under_way = session.exec(select(Pilot.id).where(Pilot.programme_id == existing.id,
                                                    Pilot.status == PilotStatus.ACTIVE,
                                                    col(Pilot.kickoff_at).is_not(None)).limit(1)).first()
    if under_way is None:
        return
    raise InvalidInput(
        f"Programme {shown} non chargé : il déplace l'accompagnement des territoires pilotes en cours "
        f"du programme « {existing.slug} » ({counted(len(changes), 'changement')}). Prévisualisez d'abord le "
        f"changement avec « transitions programme diff {shown} », puis appliquez-le avec « transitions "
        f"programme apply {shown} --reason \"…\" » : chaque personne concernée en sera avertie.",
        changes)


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
