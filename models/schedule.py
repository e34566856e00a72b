"""What is due at an instant: the ordered stages of the programme, and the next instant that matters."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

# Importing the concept modules registers their stages (see models.stages).
from models import accompaniment, call, deliverables, intents, jury, pilots, training  # noqa: F401
from models.context import Ctx, all_ctx
from models.notices import Renderer
from models.stages import AGENDA, REGISTRY, Stage, StageName
from models.tables import AuditEntry, Notice, NoticeStatus, ProgrammeMode


def _ordered() -> tuple[Stage, ...]:
    missing = [name for name in StageName if name not in REGISTRY]
    if missing:  # a stage named in the enum but bound to no function would silently never run
        raise RuntimeError(f"stages without a function: {', '.join(missing)}")
    return tuple(REGISTRY[name] for name in StageName)


STAGES: tuple[Stage, ...] = _ordered()
"""Every stage, in the order a tick runs them."""


MAX_BACKLOG = timedelta(days=3)
"""A live programme whose last tick is older than this, with work planned in between, is not
caught up by a scheduled run (it would send a burst): someone must ask for it."""


def run_stage(session: Session, name: StageName | str, as_of: datetime, slug: str | None = None, *,
              renderer: Renderer, only: Collection[str] | None = None) -> int:
    """Run one stage for every loaded programme (or the one named `slug`, or those in `only`),
    each programme locked for the transaction; returns the number of changes."""
    function = REGISTRY[StageName(name)].run
    contexts = all_ctx(session, lock=True, renderer=renderer)
    return sum(function(ctx, as_of) for ctx in contexts
               if slug in (None, ctx.programme.slug) and (only is None or ctx.programme.slug in only))


def next_due(session: Session, after: datetime) -> datetime | None:
    """The first instant after `after` at which a tick has something to do, if any is planned:
    a stage, or a notice waiting for its sending time (a working day, within sending hours)."""
    mark = audit_mark(session)
    later: list[datetime] = []
    for ctx in all_ctx(session):
        programme = ctx.programme
        if (programme.audit_seen is not None and programme.audit_seen == mark and programme.last_tick_at is not None
                and programme.last_tick_at <= after
                and (programme.next_due_at is None or programme.next_due_at > after)):
            # No fact since the last tick, which planned its next instant: that is the answer.
            later += [programme.next_due_at] if programme.next_due_at is not None else []
            continue
        later += [instant for each in STAGES for instant in each.planned(ctx) if instant > after]
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
    """The next `limit` instants (strictly after `after`) at which programmes have work, with
    what is due then; by default live programmes only (a replay is driven by hand)."""
    found: dict[tuple[str, datetime], list[str]] = {}
    for ctx in all_ctx(session):
        if live_only and ctx.programme.mode != ProgrammeMode.LIVE:
            continue
        for each in STAGES:
            for instant in each.planned(ctx):
                if instant > after:
                    names = found.setdefault((ctx.programme.slug, instant), [])
                    if AGENDA[each.name] not in names:
                        names.append(AGENDA[each.name])
    ordered = sorted(found.items(), key=lambda item: (item[0][1], item[0][0]))[:limit]
    return [Due(at, slug, ", ".join(names)) for (slug, at), names in ordered]


def runnable(session: Session, now: datetime, slug: str | None = None, *, live_only: bool) -> tuple[
        list[str], list[tuple[str, datetime]]]:
    """Programmes a tick at `now` may advance, and the live ones held back because they are more
    than MAX_BACKLOG behind with work planned in between (their slug and last tick)."""
    allowed: list[str] = []
    behind: list[tuple[str, datetime]] = []
    for ctx in all_ctx(session):
        programme = ctx.programme
        if slug not in (None, programme.slug) or (live_only and programme.mode != ProgrammeMode.LIVE):
            continue
        last = programme.last_tick_at
        if live_only and last is not None and now - last > MAX_BACKLOG and _work_between(ctx, last, now):
            behind.append((programme.slug, last))
            continue
        allowed.append(programme.slug)
    return allowed, behind


def _work_between(ctx: Ctx, start: datetime, end: datetime) -> bool:
    return any(start < instant <= end for each in STAGES for instant in each.planned(ctx))


def audit_mark(session: Session) -> int:
    """The newest audit entry's id (0 when none): every fact is audited in its own transaction,
    so a newer entry than a tick saw means the facts changed since that tick began."""
    return int(session.exec(select(func.max(col(AuditEntry.id)))).one() or 0)


def due_stages(session: Session, as_of: datetime, slugs: Collection[str]) -> dict[StageName, list[str]]:
    """For each stage, the programmes (among `slugs`) for which it may have something to do at
    `as_of`: every stage when the programme was never ticked or a fact was recorded since its
    last tick began (`Programme.audit_seen`); otherwise only the stages with a planned instant in
    (last tick, as_of]. A stage's work is a function of the facts and of the instant, and its
    `planned` instants are every instant at which that work changes (the replay already jumps
    from one to the next): with the facts unchanged, a stage with no planned instant in the
    window would change nothing. The first planned instant after the last tick is kept with the
    programme (`Programme.next_due_at`, see `record_tick`): before it, nothing is re-planned.
    Returns only stages with at least one programme."""
    mark = audit_mark(session)
    due: dict[StageName, list[str]] = {}
    for ctx in all_ctx(session):
        programme = ctx.programme
        if programme.slug not in slugs:
            continue
        last = programme.last_tick_at
        everything = last is None or programme.audit_seen is None or mark > programme.audit_seen
        if not everything and (programme.next_due_at is None or as_of < programme.next_due_at):
            continue  # the stored next instant: nothing planned has come, no need to plan again
        for each in STAGES:
            if everything or any(last < instant <= as_of for instant in each.planned(ctx)):  # type: ignore[operator]
                due.setdefault(each.name, []).append(programme.slug)
    return due


def record_tick(session: Session, as_of: datetime, slugs: Collection[str], *, seen: int | None = None,
                replan: bool = True) -> None:
    """Remember the latest instant each programme was advanced to, with `seen` the newest audit
    entry when the tick began (`audit_mark`), and the first planned instant after `as_of`
    (`replan=False` keeps the stored one: the tick ran no stage and no fact changed)."""
    for ctx in all_ctx(session):
        programme = ctx.programme
        if programme.slug in slugs and (programme.last_tick_at is None or as_of >= programme.last_tick_at):
            programme.last_tick_at = as_of
            programme.audit_seen = seen
            if replan or seen is None:
                later = [instant for each in STAGES for instant in each.planned(ctx) if instant > as_of]
                programme.next_due_at = min(later) if later else None
            session.add(programme)
