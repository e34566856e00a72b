"""What is due at an instant: the ordered stages of the programme, and the next instant that matters.

Where the work is found: each stage's `planned(ctx)` gives the instants at which its work may
change (a function of the facts alone). `record_tick` computes them once, after a tick that ran
something, and stores those after the tick's instant as `PlannedEvent` rows (`write_plan`, the
only caller of the `planned` functions while rows are current); the next ticks (`due_stages`),
`next_due`, `agenda` and `runnable` read those rows by index for as long as no fact was recorded
since the tick that wrote them began (`Programme.audit_seen`, the newest audit entry then). A
programme never ticked, or with a fact recorded since its last tick, is planned from its facts
as before (its rows are not current). Migration 0010, which created the table, forgets every
`audit_seen`: an existing database's next tick runs every stage and writes the rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

# Importing the concept modules registers their stages (see models.stages).
from models import accompaniment, call, charter, deliverables, delivery, intents, jury, kickoff, purge, training  # noqa: F401
from models.context import NoticeLinker, ProgrammeContext, all_ctx, definition_of
from models.db import lock_for_update
from models.notices import Renderer
from models.stages import AGENDA, REGISTRY, Stage, StageName
from models.tables import AuditEntry, Notice, NoticeStatus, PlannedEvent, Programme, ProgrammeMode


def _ordered() -> tuple[Stage, ...]:
    missing = [name for name in StageName if name not in REGISTRY]
    if missing:  # a stage named in the enum but bound to no function would silently never run
        raise RuntimeError(f"stages without a function: {', '.join(missing)}")
    return tuple(REGISTRY[name] for name in StageName)


STAGES: tuple[Stage, ...] = _ordered()
"""Every stage, in the order a tick runs them."""

_RANK: dict[StageName, int] = {each.name: rank for rank, each in enumerate(STAGES)}


MAX_BACKLOG = timedelta(days=3)
"""A live programme whose last tick is older than this, with work planned in between, is not
caught up by a scheduled run (it would send a burst): someone must ask for it."""


def run_stage(session: Session, name: StageName | str, as_of: datetime, slug: str | None = None, *,
              renderer: Renderer, linker: NoticeLinker | None = None, only: Collection[str] | None = None) -> int:
    """Run one stage for every loaded programme (or the one named `slug`, or those in `only`),
    each programme locked for the transaction, its notices written with `renderer` and `linker`;
    returns the number of changes."""
    function = REGISTRY[StageName(name)].run
    contexts = all_ctx(session, lock=True, renderer=renderer, linker=linker)
    return sum(function(ctx, as_of) for ctx in contexts
               if slug in (None, ctx.programme.slug) and (only is None or ctx.programme.slug in only))


@dataclass(frozen=True)
class _Ticked:
    """The columns of a programme the schedule reads (not its definition: nothing to validate)."""

    id: int
    slug: str
    mode: str
    last_tick_at: datetime | None
    audit_seen: int | None

    def current(self, mark: int, after: datetime | None = None) -> bool:
        """Whether this programme's `PlannedEvent` rows hold every planned instant after `after`
        (default: after its last tick): it was ticked, no fact was recorded since that tick began
        (`mark` is `audit_mark`), and `after` is not before that tick."""
        return (self.last_tick_at is not None and self.audit_seen is not None and mark <= self.audit_seen
                and (after is None or self.last_tick_at <= after))


# The statements an idle tick runs: built once (building a statement costs more than running it),
# on the tables rather than the ORM classes (no ORM machinery for a few columns).
_PROGRAMME: Any = Programme.__table__  # type: ignore[attr-defined]
_PLANNED: Any = PlannedEvent.__table__  # type: ignore[attr-defined]
_PROGRAMMES: Any = sa_select(_PROGRAMME.c.id, _PROGRAMME.c.slug, _PROGRAMME.c.mode, _PROGRAMME.c.last_tick_at,
                             _PROGRAMME.c.audit_seen).order_by(_PROGRAMME.c.id)
_AUDIT_MARK: Any = sa_select(func.max(AuditEntry.__table__.c.id))  # type: ignore[attr-defined]
_DUE: Any = (sa_select(_PROGRAMME.c.slug, _PLANNED.c.stage).distinct()
             .join_from(_PLANNED, _PROGRAMME, _PLANNED.c.programme_id == _PROGRAMME.c.id)
             .where(_PLANNED.c.programme_id.in_(bindparam("programme_ids", expanding=True)),
                    _PLANNED.c.due_at > _PROGRAMME.c.last_tick_at, _PLANNED.c.due_at <= bindparam("as_of")))
_RECORD: Any = (update(_PROGRAMME).where(_PROGRAMME.c.id == bindparam("programme_id"))
                .values(last_tick_at=bindparam("as_of"), audit_seen=bindparam("seen")))


@dataclass(frozen=True)
class Plan:
    """What a tick at an instant has to do (`plan`)."""

    programmes: list[str]
    """The programmes it advances (slugs)."""
    held_back: list[tuple[str, datetime]]
    """Live programmes too far behind to be caught up by a scheduled run: (slug, last tick)."""
    due: dict[StageName, list[str]]
    """The stages with something to do, and for which programmes (`due_stages`)."""
    seen: int
    """The newest audit entry when the tick began (`audit_mark`)."""
    recorded: bool
    """Nothing was due (no stage, no notice waiting to leave) and the tick was recorded with its plan."""


def plan(session: Session, as_of: datetime, slug: str | None = None, *, live_only: bool, record_idle: bool,
         now: datetime) -> Plan:
    """Plan a tick at `as_of`: the programmes it may advance (`runnable`; live ones only with
    `live_only`) and the stages due for them (`due_stages`), from one read of the programmes.

    With `record_idle`, the transaction holds the programmes' lock from its start (SQLite: the
    write lock; PostgreSQL: their rows) and a tick with nothing to do, no stage due and no notice
    waiting to leave at `now` (`models.delivery.waiting`), is recorded here (`record_tick`,
    nothing re-planned): an idle tick is one short transaction."""
    read = _programmes(session, lock=record_idle)
    seen = audit_mark(session)
    allowed, behind = runnable(session, as_of, slug, live_only=live_only, mark=seen, read=read)
    due = due_stages(session, as_of, allowed, mark=seen, read=read)
    idle = record_idle and not due and not delivery.waiting(session, as_of=as_of, now=now)
    if idle:
        record_tick(session, as_of, allowed, seen=seen, replan=False, locked=read)
    return Plan(allowed, behind, due, seen, idle)


def _programmes(session: Session, *, lock: bool = False) -> list[_Ticked]:
    query = lock_for_update(session, _PROGRAMMES) if lock else _PROGRAMMES
    return [_Ticked(*row) for row in session.connection().execute(query).all()]


def _ctx(session: Session, programme_id: int) -> ProgrammeContext:
    programme = session.get(Programme, programme_id)
    assert programme is not None
    return ProgrammeContext(session, programme, definition_of(programme))


def planned_by_stages(ctx: ProgrammeContext) -> Iterator[tuple[StageName, datetime]]:
    """Every (stage, instant) the stages' `planned` functions give for this programme, from its
    facts (the costly part: reminder series in working days), in tick order, duplicates included."""
    return ((each.name, instant) for each in STAGES for instant in each.planned(ctx))


def next_due(session: Session, after: datetime) -> datetime | None:
    """The first instant after `after` at which a tick has something to do, if any is planned:
    a stage (read from the `PlannedEvent` rows of the programmes whose rows are current at
    `after`, planned for the others), or a notice waiting for its sending time (a working day,
    within sending hours). Two indexed queries when every programme's rows are current."""
    mark = audit_mark(session)
    later: list[datetime] = []
    current: list[int] = []
    for programme in _programmes(session):
        if programme.current(mark, after):
            current.append(programme.id)
        else:
            later += [instant for _, instant in planned_by_stages(_ctx(session, programme.id)) if instant > after]
    if current:
        first = session.exec(select(func.min(col(PlannedEvent.due_at))).where(
            col(PlannedEvent.programme_id).in_(current), PlannedEvent.due_at > after)).one()
        later += [first] if first is not None else []
    waiting = session.exec(select(func.min(col(Notice.deliver_after)))
                           .where(Notice.status == NoticeStatus.PENDING, Notice.deliver_after > after)).one()
    if waiting is not None:
        later.append(waiting)
    return min(later) if later else None


@dataclass(frozen=True)
class Due:
    """A planned instant of one programme and what happens then (French)."""

    at: datetime
    programme: str
    what: str


def agenda(session: Session, after: datetime, *, limit: int = 10, live_only: bool = True) -> list[Due]:
    """The next `limit` instants (strictly after `after`) at which programmes have work, in time
    then slug order, with what is due then (the stages' short names, in tick order); by default
    live programmes only (a replay is driven by hand). One indexed query for the programmes whose
    rows are current at `after`; the others are planned."""
    mark = audit_mark(session)
    found: dict[tuple[str, datetime], set[StageName]] = {}
    current: list[int] = []
    for programme in _programmes(session):
        if live_only and programme.mode != ProgrammeMode.LIVE:
            continue
        if programme.current(mark, after):
            current.append(programme.id)
            continue
        for name, instant in planned_by_stages(_ctx(session, programme.id)):
            if instant > after:
                found.setdefault((programme.slug, instant), set()).add(name)
    if current:
        # One row per (programme, instant, stage) at most: the first `limit` (instant, programme)
        # pairs of these programmes are within the first `limit * len(STAGES)` rows in that order.
        rows = session.exec(select(Programme.slug, PlannedEvent.due_at, PlannedEvent.stage).join(Programme)
                            .where(col(PlannedEvent.programme_id).in_(current), PlannedEvent.due_at > after)
                            .order_by(col(PlannedEvent.due_at), col(Programme.slug))
                            .limit(limit * len(STAGES))).all()
        for slug, instant, stage in rows:
            found.setdefault((slug, instant), set()).add(StageName(stage))
    ordered = sorted(found.items(), key=lambda item: (item[0][1], item[0][0]))[:limit]
    return [Due(at, slug, ", ".join(AGENDA[name] for name in sorted(names, key=_RANK.__getitem__)))
            for (slug, at), names in ordered]


def runnable(session: Session, now: datetime, slug: str | None = None, *, live_only: bool,
             mark: int | None = None, read: list[_Ticked] | None = None,
             ) -> tuple[list[str], list[tuple[str, datetime]]]:
    """Programmes a tick at `now` may advance, and the live ones held back because they are more
    than MAX_BACKLOG behind with work planned in between (their slug and last tick); `mark` is
    `audit_mark(session)` and `read` the programmes' columns when the caller already read them."""
    mark = audit_mark(session) if mark is None else mark
    allowed: list[str] = []
    behind: list[tuple[str, datetime]] = []
    for programme in _programmes(session) if read is None else read:
        if slug not in (None, programme.slug) or (live_only and programme.mode != ProgrammeMode.LIVE):
            continue
        last = programme.last_tick_at
        if live_only and last is not None and now - last > MAX_BACKLOG and _work_between(
                session, programme, mark, last, now):
            behind.append((programme.slug, last))
            continue
        allowed.append(programme.slug)
    return allowed, behind


def _work_between(session: Session, programme: _Ticked, mark: int, start: datetime, end: datetime) -> bool:
    """Whether a stage of `programme` plans an instant in (start, end]: one indexed query on its
    rows when they are current at `start`, else its stages' plans."""
    if programme.current(mark, start):
        return session.exec(select(PlannedEvent.due_at).where(
            PlannedEvent.programme_id == programme.id, PlannedEvent.due_at > start, PlannedEvent.due_at <= end)
            .limit(1)).first() is not None
    return any(start < instant <= end for _, instant in planned_by_stages(_ctx(session, programme.id)))


def audit_mark(session: Session) -> int:
    """The newest audit entry's id (0 when none): every fact is audited in its own transaction,
    so a newer entry than a tick saw means the facts changed since that tick began. Ids are drawn
    when entries are recorded, not when they commit (`models.audit_hash`): a transaction open
    across a whole tick, from `plan` to `record_tick`, could commit an id older than the mark
    unseen, as an entry of another chain always could; an act on the portal lasts milliseconds."""
    return int(session.connection().execute(_AUDIT_MARK).scalar() or 0)


def due_query(as_of: datetime, programme_ids: Collection[int]) -> Any:
    """The statement `due_stages` runs for the programmes whose rows are current: each distinct
    (programme's slug, stage) with a planned instant in (the programme's last tick, `as_of`],
    through the primary key's index (programme, instant)."""
    return _DUE.params(programme_ids=list(programme_ids), as_of=as_of)


def due_stages(session: Session, as_of: datetime, slugs: Collection[str], *,
               mark: int | None = None, read: list[_Ticked] | None = None) -> dict[StageName, list[str]]:
    """For each stage (in tick order), the programmes (among `slugs`, in programme order) for
    which it may have something to do at `as_of`: every stage when the programme was never
    ticked or a fact was recorded since its last tick began (`Programme.audit_seen`); otherwise
    only the stages with a planned instant in (last tick, as_of], found by one indexed query on
    the `PlannedEvent` rows for all such programmes (`due_query`). A stage's work is a function
    of the facts and of the instant, and its `planned` instants are every instant at which that
    work changes (the replay already jumps from one to the next): with the facts unchanged, a
    stage with no planned instant in the window would change nothing.
    `mark` is `audit_mark(session)` and `read` the programmes' columns when the caller already read
    them. Returns only stages with at least one programme."""
    mark = audit_mark(session) if mark is None else mark
    chosen = [programme for programme in (_programmes(session) if read is None else read) if programme.slug in slugs]
    quiet = [programme.id for programme in chosen if programme.current(mark)]
    found: set[tuple[str, StageName]] = set()
    if quiet:
        found = {(slug, StageName(name)) for slug, name in session.connection().execute(
            _DUE, {"programme_ids": quiet, "as_of": as_of}).all()}
    due: dict[StageName, list[str]] = {}
    for each in STAGES:
        for programme in chosen:
            if not programme.current(mark) or (programme.slug, each.name) in found:
                due.setdefault(each.name, []).append(programme.slug)
    return due


def write_plan(ctx: ProgrammeContext, as_of: datetime) -> list[tuple[StageName, datetime]]:
    """Rewrite the programme's `PlannedEvent` rows from its stages' `planned` functions: every
    distinct (stage, instant) strictly after `as_of`; `Programme.next_due_at` becomes the first
    instant (None when none). Returns the rows written, in time then tick order."""
    rows = sorted({(name, instant) for name, instant in planned_by_stages(ctx) if instant > as_of},
                  key=lambda row: (row[1], _RANK[row[0]]))
    session = ctx.session
    session.exec(delete(PlannedEvent).where(col(PlannedEvent.programme_id) == ctx.programme_id))
    if rows:
        session.exec(insert(PlannedEvent), params=[
            {"programme_id": ctx.programme_id, "due_at": instant, "stage": name.value} for name, instant in rows])
    ctx.programme.next_due_at = rows[0][1] if rows else None
    session.add(ctx.programme)
    return rows


_FORGET: Any = delete(_PLANNED).where(_PLANNED.c.programme_id == bindparam("programme_id"),
                                     _PLANNED.c.due_at <= bindparam("as_of"))
_NEXT: Any = (update(_PROGRAMME).where(_PROGRAMME.c.id == bindparam("programme_id"))
              .values(next_due_at=sa_select(func.min(_PLANNED.c.due_at))
                      .where(_PLANNED.c.programme_id == _PROGRAMME.c.id).scalar_subquery()))


def _forget_until(session: Session, programme_id: int, as_of: datetime) -> None:
    """What `write_plan` leaves when the programme's rows are current and its facts unchanged:
    its rows after `as_of`, the first of them as `Programme.next_due_at` (two statements, no plan)."""
    connection = session.connection()
    connection.execute(_FORGET, {"programme_id": programme_id, "as_of": as_of})
    connection.execute(_NEXT, {"programme_id": programme_id})


def record_tick(session: Session, as_of: datetime, slugs: Collection[str], *, seen: int | None = None,
                replan: bool = True, locked: list[_Ticked] | None = None) -> None:
    """Remember the latest instant each programme among `slugs` was advanced to, with `seen` the
    newest audit entry when the tick began (`audit_mark`), the programmes locked; and re-plan
    their `PlannedEvent` rows after `as_of` (`write_plan`), unless `replan` is False: the tick ran
    no stage and no fact changed, so the rows stay current (a programme whose rows were never
    written, `audit_seen` None, is re-planned all the same). A programme whose rows were current
    when the tick began (`seen`) and whose facts did not change since (no newer audit entry: its
    stages only queued notices) keeps its rows after `as_of` without planning them again
    (`_forget_until`), which leaves what `write_plan` would write. An instant before a programme's last
    tick changes nothing for it. `locked`: the programmes' columns as `plan` read them, holding
    their lock (`lock_programmes`) in this transaction."""
    unchanged: bool | None = None  # no fact recorded since `seen` (asked once, if needed)
    for programme in _programmes(session, lock=True) if locked is None else locked:
        if programme.slug not in slugs or (programme.last_tick_at is not None and as_of < programme.last_tick_at):
            continue
        kept = replan and seen is not None and programme.current(seen)
        if kept:
            # Its rows held every planned instant after its last tick when this tick began, and
            # no fact was recorded since: its stages would plan the same instants (a function of
            # the facts alone), so only those up to `as_of` go.
            unchanged = audit_mark(session) == seen if unchanged is None else unchanged
            kept = unchanged
        if kept:
            _forget_until(session, programme.id, as_of)
        elif replan or seen is None or programme.audit_seen is None:
            write_plan(_ctx(session, programme.id), as_of)
        session.connection().execute(_RECORD, {"programme_id": programme.id, "as_of": as_of, "seen": seen})
