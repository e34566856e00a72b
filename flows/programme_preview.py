"""« What happens if… »: the preview of a change of a running programme (`transitions programme
diff`). The programme's future from T is replayed twice, each time in a transaction rolled back:
unchanged, then with the change applied at T (`models.programme_apply.apply_change`); each replay
runs the tick's stages at each planned instant up to the programme's end (`models.schedule.plan`,
`run_stage`, `record_tick`), the notices the stages queue read back from the outbox, never
delivered. The two futures are compared: every planned instant, notice (kind, recipient, planned
time, subject) and calendar event (UID, SEQUENCE) that appears, disappears or moves, with the file's
change that caused it. Only the preview itself is stored afterwards (the file's name and hash, the
version it was compared with, who made it and when, its result as JSON): `apply` requires it, the
back office shows it (`/equipe/programme`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.context import NoticeLinker, load_ctx
from models.db import get_engine, session_scope
from models.errors import InvalidInput
from models.notices import Renderer
from models.programme import ProgrammeDefinition
from models.programme_apply import apply_change, check_plan, file_sha256
from models.programme_change import ChangePlan, Move, active_pilots, plan_change
from models.programme_versions import record_preview
from models.read.programme_diff import Change, Difference, Preview, preview_json
from models.schedule import STAGES, plan, record_tick, run_stage
from models.tables import Notice, Pilot, PlannedEvent, Programme

MAX_TICKS = 5000
"""A replay stops there whatever happens (a year has a few hundred planned instants)."""

@dataclass(frozen=True)
class Sent:
    """A notice one replay queued: who, what, when it was planned to leave, its calendar event."""

    kind: str
    person: str
    about: str
    subject: str
    planned_at: datetime
    uid: str | None = None
    sequence: int | None = None
    event_at: str | None = None


def preview_change(url: str, definition: ProgrammeDefinition, *, source: str, templates: dict[str, str],
                   at: datetime, made_at: datetime, actor: str, renderer: Renderer,
                   linker: NoticeLinker | None = None) -> Preview:
    """Preview `definition` (read from the file named `source`) as a change of its programme at
    `at` (see the module), kept with who made it (`actor`) and when (`made_at`, UTC) as a
    `ProgrammePreview` row whose id the result carries; InvalidInput when the programme is not
    installed or has no pilot under way."""
    sha = file_sha256(definition)
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            ctx = load_ctx(session, definition.slug, renderer=renderer, linker=linker)
            if not active_pilots(ctx):
                raise InvalidInput(f"Le programme « {definition.slug} » n'a aucun territoire pilote en cours : un "
                                   "changement de son déroulement se fait avec « transitions init ».")
            change = plan_change(ctx, definition, at)
            result = Preview(definition.slug, sha, ctx.programme.version, at, change, check_plan(ctx, change))
            until = _end_of(session, ctx.programme_id)
            before, instants_before = _future(session, definition.slug, at, until, renderer, linker)
        finally:
            session.rollback()
        if result.problems:
            return _kept(url, result, source=source, made_at=made_at, actor=actor)
        try:
            ctx = load_ctx(session, definition.slug, renderer=renderer, linker=linker)
            mark = _last_notice(session)
            apply_change(ctx, definition, source=source, templates=templates, reason="prévisualisation", at=at,
                         actor="prévisualisation", previewed=False)
            after, instants_after = _future(session, definition.slug, at, until, renderer, linker, mark)
        finally:
            session.rollback()
    result.future = sorted({(sent.kind, sent.person, sent.planned_at) for sent in after})
    result.differences = _compare(before, after, change) + _instants(instants_before, instants_after)
    result.differences += [_element(move) for move in change.moves]
    result.differences.sort(key=lambda d: (d.person, d.when, d.what, d.kind, d.subject))
    return _kept(url, result, source=source, made_at=made_at, actor=actor)


def _kept(url: str, result: Preview, *, source: str, made_at: datetime, actor: str) -> Preview:
    """`result` stored as the programme's latest preview (its id set)."""
    with session_scope(url) as session:
        row = record_preview(session, load_ctx(session, result.slug).programme, sha256=result.sha256, at=result.at,
                             made_at=made_at, actor=actor, source=source, result=preview_json(result))
        result.id = row.id
    return result


def _end_of(session: Session, programme_id: int) -> datetime:
    """The programme's end: its last pilot's end, plus a month for the closing notices."""
    end = session.exec(select(func.max(col(Pilot.ends_at))).where(Pilot.programme_id == programme_id)).one()
    return (end or datetime.max) + timedelta(days=31)


def _last_notice(session: Session) -> int:
    return int(session.exec(select(func.max(col(Notice.id)))).one() or 0)


def _future(session: Session, slug: str, at: datetime, until: datetime, renderer: Renderer,
            linker: NoticeLinker | None, mark: int | None = None) -> tuple[list[Sent], set[tuple[str, datetime]]]:
    """Tick the programme at `at` and at each instant it plans next, up to `until`; the notices
    queued since `mark` (default: from now on) and every (stage, instant) planned along the way
    (the `PlannedEvent` rows each tick wrote)."""
    mark = _last_notice(session) if mark is None else mark
    instants: set[tuple[str, datetime]] = set()
    instant: datetime | None = at
    programme_id = session.exec(select(Programme.id).where(Programme.slug == slug)).one()
    for _ in range(MAX_TICKS):
        if instant is None or instant > until:
            break
        ticked = plan(session, instant, slug, live_only=False, record_idle=False, now=instant)
        changed = False
        for each in STAGES:
            if changed or slug in ticked.due.get(each.name, []):
                changes = run_stage(session, each.name, instant, slug, renderer=renderer, linker=linker)
                changed = changed or bool(changes)
        record_tick(session, instant, [slug], seen=ticked.seen)
        session.flush()
        instants |= {(stage, due) for due, stage in session.exec(select(PlannedEvent.due_at, PlannedEvent.stage).where(
            PlannedEvent.programme_id == programme_id, PlannedEvent.due_at <= until))}
        instant = session.exec(select(Programme.next_due_at).where(Programme.slug == slug)).one()
    rows = session.exec(select(Notice).where(col(Notice.id) > mark).order_by(col(Notice.id))).all()
    return [_sent(row) for row in rows], instants


_CALENDAR = {name: re.compile(rf"^{name}[^:\r\n]*:(.*?)\r?$", re.MULTILINE) for name in ("UID", "SEQUENCE", "DTSTART")}
_REVISION = re.compile(r"\b(session|livrable)-(\d+):\d+")


def _sent(row: Notice) -> Sent:
    about = row.dedup_key.removeprefix(f"{row.kind}:").removesuffix(f":{row.recipient_email}")
    found: dict[str, str | None] = {}
    for name, pattern in _CALENDAR.items():
        match = pattern.search(row.calendar or "")
        found[name] = match.group(1).strip() if match else None
    sequence = found["SEQUENCE"]
    return Sent(row.kind, row.recipient_email.lower(), _REVISION.sub(r"\1-\2", about), row.subject,
                row.planned_at or row.deliver_after, found["UID"], int(sequence) if sequence else None,
                found["DTSTART"])


def _cause_of(change: ChangePlan) -> Callable[[str], str]:
    """The file's change behind a notice, found from what the notice is about (its key)."""
    by_row: dict[tuple[str, int], str] = {(move.kind, move.row_id): move.cause for move in change.moves
                                          if move.row_id is not None}
    by_key = {(move.pilot_id, move.key): move.cause for move in change.moves if move.kind in ("phase", "jalon")}

    def cause(about: str) -> str:
        if match := re.match(r"(session|livrable)-(\d+)", about):
            return by_row.get((match.group(1), int(match.group(2))), "")
        if match := re.match(r"pilote-(\d+):([a-z0-9_-]+)", about):
            return by_key.get((int(match.group(1)), match.group(2)), "")
        if about.startswith("programme-v"):
            return "changement de programme (avis aux personnes concernées)"
        return ""

    return cause


def _compare(before: list[Sent], after: list[Sent], change: ChangePlan) -> list[Difference]:
    cause = _cause_of(change)
    old = {(s.kind, s.person, s.about): s for s in before}
    new = {(s.kind, s.person, s.about): s for s in after}
    found: list[Difference] = []
    for key in [*old, *(k for k in new if k not in old)]:
        was, now = old.get(key), new.get(key)
        if was is not None and now is not None:
            if (was.planned_at, was.event_at, was.sequence) == (now.planned_at, now.event_at, now.sequence):
                continue
            found.append(Difference("avis", "deplace", now.person, now.kind, now.subject, was.planned_at,
                                    now.planned_at, cause(now.about), now.uid, was.sequence, now.sequence))
        elif now is not None:
            found.append(Difference("avis", "apparait", now.person, now.kind, now.subject, None, now.planned_at,
                                    cause(now.about), now.uid, None, now.sequence))
        elif was is not None:
            found.append(Difference("avis", "disparait", was.person, was.kind, was.subject, was.planned_at, None,
                                    cause(was.about), was.uid, was.sequence, None))
    return found


def _instants(before: set[tuple[str, datetime]], after: set[tuple[str, datetime]]) -> list[Difference]:
    gone = [Difference("instant", "disparait", "", stage, "", instant, None, "") for stage, instant in before - after]
    return gone + [Difference("instant", "apparait", "", stage, "", None, instant, "")
                   for stage, instant in after - before]


def _element(move: Move) -> Difference:
    change, pilot, kind, line, before, after = move.shown()
    return Difference("element", cast(Change, change), pilot, kind, line, before, after, move.cause)
