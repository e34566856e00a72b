"""The purge: what is past retention (`models.retention`) anonymised, one unit per transaction
(RGPD art. 5-1-e). Names, addresses, phones, free texts and files go; counts, scores, statuses,
dates and the audit chain stay (an audit entry's personal part is erased only through
`models.audit.redact_entries`, which records a chained entry of its own). The outbox's `.eml`
files of erased notices are removed after the commit (`sweep_outbox`): a crash in between leaves
files whose notices are erased, which the next purge (the tick's stage or `transitions privacy
purge`) removes, since it sweeps every erased notice's file each time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models import audit, staff_retention
from models.anonymise import (
    application_needles,
    erase_application,
    erase_draft,
    erase_intent,
    erase_mail,
    erase_pilot,
    kept_people,
)
from models.context import ProgrammeContext, all_ctx, load_ctx
from models.db import get_engine, session_scope
from models.erasure import ERASED_BODY, Needles, erase_notice, erase_traces, people_of_payload
from models.errors import InvalidInput
from models.retention import Unit, UnitKind, past_retention, planned, purge_instant
from models.stages import StageName, stage
from models.tables import Application, ApplicationDraft, Intent, MailMessage, Notice, Pilot, ProgrammeMode

ACTOR = "purge"
STAFF_UNITS = frozenset({UnitKind.STAFF_ACCOUNT, UnitKind.STAFF_SESSIONS, UnitKind.STAFF_SIGN_INS,
                         UnitKind.STAFF_SIGN_IN_ENTRIES})


def due_units(ctx: ProgrammeContext, at: datetime) -> list[Unit]:
    """What the purge of `ctx`'s programme erases at `at`: the programme's units past retention
    (`models.retention`), then the team's (`models.staff_retention`: in every programme's purge,
    the first erases them)."""
    return past_retention(ctx, at) + staff_retention.past(ctx.session, at)


def planned_purge(ctx: ProgrammeContext) -> list[datetime]:
    """When the tick's purge has work in a live programme: the programme's instants
    (`models.retention.planned`) and the day after each of the team's traces reaches its end."""
    if ctx.programme.mode != ProgrammeMode.LIVE:
        return []
    team = {purge_instant(ended) for _, _, ended in staff_retention.ends(ctx.session)}
    return sorted(set(planned(ctx)) | team)


def purge_unit(ctx: ProgrammeContext, unit: Unit, at: datetime, actor: str = ACTOR) -> Counter[str]:
    """Erase one unit past retention in the caller's transaction, with one audit entry
    (`donnees.effacees`, through `redact_entries`) naming the unit, never the people. Returns the
    counts per category (French)."""
    session, counts = ctx.session, Counter[str]()
    if unit.kind in STAFF_UNITS:
        return staff_retention.purge(session, unit, programme_id=ctx.programme_id, at=at, actor=actor)
    if unit.kind == UnitKind.NOTICES:
        for notice in session.exec(select(Notice).where(col(Notice.id).in_(unit.notices),
                                                        Notice.body_text != ERASED_BODY)):
            erase_notice(notice, Needles())
            session.add(notice)
            counts["corps d'avis effacés"] += 1
        erased = counts["corps d'avis effacés"]
        audit.record(session, programme_id=ctx.programme_id, at=at, actor=actor, action="donnees.effacees",
                     entity="notice", entity_id=None, summary=f"Corps de {erased} avis effacés : durée de "
                     "conservation échue.", details={"avis": list(unit.notices)})
        return counts
    needles = Needles()
    if unit.kind in (UnitKind.APPLICATION, UnitKind.PILOT):
        application = session.get(Application, unit.id)
        assert application is not None
        needles = application_needles(ctx, application)
        pilot = session.exec(select(Pilot).where(Pilot.application_id == application.id)).first()
        if pilot is not None:
            erase_pilot(ctx, pilot, needles, counts)
        erase_application(ctx, application, needles, counts)
        kind = "candidatures non retenues anonymisées" if unit.kind == UnitKind.APPLICATION else "pilotes anonymisés"
        counts[kind] += 1
    elif unit.kind == UnitKind.INTENT:
        intent = session.get(Intent, unit.id)
        assert intent is not None
        needles.add(intent.contact_name, intent.contact_email)
        erase_intent(ctx, intent, counts)
    elif unit.kind == UnitKind.DRAFT:
        draft = session.get(ApplicationDraft, unit.id)
        assert draft is not None
        people_of_payload(draft.payload, needles)
        for holder in draft.holders:
            needles.add(None, holder)
        erase_draft(ctx, draft, counts)
    elif unit.kind == UnitKind.MAIL:
        mail = session.get(MailMessage, unit.id)
        assert mail is not None
        needles.add(None, mail.sender)
        erase_mail(ctx, mail, needles, counts)
    needles = needles.without(kept_people(ctx, {unit.id} if unit.kind in (UnitKind.APPLICATION, UnitKind.PILOT)
                                          else set()))
    replacements = erase_traces(session, ctx.programme_id, needles, counts)
    audit.redact_entries(session, replacements, programme_id=ctx.programme_id, at=at, actor=actor,
                         reason=f"durée de conservation échue ({unit.kind.value} {unit.label})")
    return counts


@stage(StageName.PURGE, planned=planned_purge)
def purge_due(ctx: ProgrammeContext, as_of: datetime) -> int:
    """The tick's purge: every unit past retention at `as_of` (`due_units`), in the stage's
    transaction (the outbox's files go after its commit, `flows.plain.run_one_stage`). Returns the
    units erased."""
    units = due_units(ctx, as_of)
    for unit in units:
        purge_unit(ctx, unit, as_of)
    return len(units)


def sweep_outbox(session: Any, directory: Path, *, remove: bool = True) -> int:
    """Remove (or, `remove` False, count) the outbox's `.eml` files that carry an erased notice
    (header X-Transitions-Notices); idempotent."""
    if not directory.is_dir():
        return 0
    erased = set(session.exec(select(Notice.id).where(Notice.body_text == ERASED_BODY)).all())
    removed = 0
    for path in sorted(directory.glob("*.eml")):
        if erased & _carried(path):
            removed += 1
            if remove:
                path.unlink(missing_ok=True)
    return removed


def _carried(path: Path) -> set[int]:
    """The notice numbers of a message file's header X-Transitions-Notices (folded or not)."""
    value: bytes | None = None
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                break
            if value is not None and line[:1] in (b" ", b"\t"):
                value += line
            elif value is not None:
                break
            elif line.lower().startswith(b"x-transitions-notices:"):
                value = line.split(b":", 1)[1]
    return {int(n) for n in (value or b"").split() if n.isdigit()}


@dataclass(frozen=True)
class PurgeReport:
    """What a purge did (or, `dry_run`, would do): the units (kind, label), counts per category
    (French) and the outbox files removed."""

    at: datetime
    dry_run: bool
    units: list[tuple[str, str]]
    counts: Counter[str]
    files: int


def purge_programmes(url: str, at: datetime, *, slug: str | None = None, dry_run: bool = False,
                     outbox_dir: Path, actor: str = ACTOR) -> PurgeReport:
    """Purge what is past retention at `at` in every programme (or `slug`): one transaction per
    unit (the programme locked for it), the outbox's files of erased notices removed after each
    commit. `dry_run`: the same work in one transaction rolled back, files counted, not removed.
    Raises NotFound for an unknown programme, InvalidInput for an empty name."""
    if slug is not None and not slug.strip():
        raise InvalidInput("Nom de programme vide (--programme) : donnez le nom d'un programme chargé, ou "
                           "rien pour les purger tous.")
    with session_scope(url) as session:
        slugs = [load_ctx(session, slug).programme.slug] if slug else [c.programme.slug for c in all_ctx(session)]
    units: list[tuple[str, str]] = []
    counts, files = Counter[str](), 0
    if dry_run:  # one transaction for every programme: the team's units are counted once
        with Session(get_engine(url)) as session:
            for each in slugs:
                ctx = load_ctx(session, each, lock=True)
                for unit in due_units(ctx, at):
                    counts += purge_unit(ctx, unit, at, actor)
                    units.append((unit.kind.value, unit.label))
                session.flush()
            files += sweep_outbox(session, outbox_dir, remove=False)
            session.rollback()
        return PurgeReport(at, dry_run, units, counts, files)
    for each in slugs:
        with session_scope(url) as session:
            pending = due_units(load_ctx(session, each), at)
        for unit in pending:
            with session_scope(url) as session:
                counts += purge_unit(load_ctx(session, each, lock=True), unit, at, actor)
            units.append((unit.kind.value, unit.label))
            with session_scope(url) as session:
                files += sweep_outbox(session, outbox_dir)
        with session_scope(url) as session:  # a crash after an earlier run's commit left files: they go now
            files += sweep_outbox(session, outbox_dir)
    return PurgeReport(at, dry_run, units, counts, files)
