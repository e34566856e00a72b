"""What is due at an instant: the ordered stages of the programme, and the next instant that matters."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

# Importing the concept modules registers their stages (see models.stages).
from models import accompaniment, call, deliverables, intents, jury, pilots, training  # noqa: F401
from models.context import all_ctx
from models.notices import Renderer
from models.stages import REGISTRY, Stage, StageName
from models.tables import Notice, NoticeStatus


def _ordered() -> tuple[Stage, ...]:
    missing = [name for name in StageName if name not in REGISTRY]
    if missing:  # a stage named in the enum but bound to no function would silently never run
        raise RuntimeError(f"stages without a function: {', '.join(missing)}")
    return tuple(REGISTRY[name] for name in StageName)


STAGES: tuple[Stage, ...] = _ordered()
"""Every stage, in the order a tick runs them."""


def run_stage(session: Session, name: StageName | str, as_of: datetime, slug: str | None = None, *,
              renderer: Renderer) -> int:
    """Run one stage for every loaded programme (or the one named `slug`), each programme locked
    for the transaction; returns the number of changes."""
    function = REGISTRY[StageName(name)].run
    contexts = all_ctx(session, lock=True, renderer=renderer)
    return sum(function(ctx, as_of) for ctx in contexts if slug in (None, ctx.programme.slug))


def next_due(session: Session, after: datetime) -> datetime | None:
    """The first instant after `after` at which a tick has something to do, if any is planned:
    a stage, or a notice waiting for its sending time (a working day, within sending hours)."""
    later = [instant for ctx in all_ctx(session) for each in STAGES for instant in each.planned(ctx)
             if instant > after]
    waiting = session.exec(select(func.min(col(Notice.deliver_after)))
                           .where(Notice.status == NoticeStatus.PENDING, Notice.deliver_after > after)).one()
    if waiting is not None:
        later.append(waiting)
    return min(later) if later else None
