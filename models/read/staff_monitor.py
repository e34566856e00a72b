"""What the engine holds back, for the back office's home (issue 23, item 4): the programme's last
tick as the database recorded it, whether the scheduled tick holds the programme back (a live
programme more than `models.schedule.MAX_BACKLOG` behind: `transitions rattrapage` catches it up),
and, from the outbox, the notices still waiting `LATE_AFTER` past their sending time and those
given up (`NoticeStatus.DEAD`), each kind of trouble linking to the notices' page filtered on it.

What Prefect itself says (deployments, the last tick run and how it ended) is read from Prefect's
API by `flows.monitor`: the domain does not talk to the orchestrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, func, select

from models.context import ProgrammeContext
from models.notices import LABELS
from models.schedule import runnable
from models.tables import Notice, NoticeStatus, ProgrammeMode

LATE_AFTER = timedelta(hours=1)
"""A notice still waiting this long after its sending time is held back: delivery runs every
quarter of an hour in office hours and each hourly tick delivers too, so one hour is two missed
rounds at least."""
SHOWN = 5
"""Notices listed per kind of trouble (the oldest first); the count gives the rest."""
NOTICES_PAGE = "/equipe/avis"


@dataclass(frozen=True)
class HeldNotice:
    """One notice held back: its number, kind in French, recipient, subject, since when it was due
    (UTC) and the last error its channel gave (empty when none)."""

    id: int
    kind: str
    recipient: str
    subject: str
    since: datetime
    error: str


@dataclass(frozen=True)
class HeldBack:
    """What the engine holds back at an instant (values only)."""

    last_tick: datetime | None
    """The last instant the programme was ticked for (UTC; None: never ticked)."""
    live: bool
    """The programme runs on real time (a replay is driven by hand and never behind)."""
    behind: bool
    """A scheduled tick will not advance it (more than `MAX_BACKLOG` behind with work in between)."""
    late: tuple[HeldNotice, ...]
    late_count: int
    dead: tuple[HeldNotice, ...]
    dead_count: int
    late_page: str = f"{NOTICES_PAGE}?etat={NoticeStatus.PENDING.value}"
    dead_page: str = f"{NOTICES_PAGE}?etat={NoticeStatus.DEAD.value}"

    @property
    def nothing(self) -> bool:
        """Nothing is held back."""
        return not (self.behind or self.late_count or self.dead_count)


def held_back(ctx: ProgrammeContext, now: datetime) -> HeldBack:
    """What is held back for the programme at `now` (UTC): see the module's docstring. Reads only."""
    programme = ctx.programme
    live = programme.mode == ProgrammeMode.LIVE
    _, behind = runnable(ctx.session, now, programme.slug, live_only=True) if live else ([], [])
    waiting = (Notice.programme_id == ctx.programme_id, Notice.status == NoticeStatus.PENDING,
               col(Notice.deliver_after) <= now - LATE_AFTER)
    given_up = (Notice.programme_id == ctx.programme_id, Notice.status == NoticeStatus.DEAD)
    return HeldBack(programme.last_tick_at, live, bool(behind),
                    _oldest(ctx, waiting), _count(ctx, waiting), _oldest(ctx, given_up), _count(ctx, given_up))


def _count(ctx: ProgrammeContext, where: tuple) -> int:
    return int(ctx.session.exec(select(func.count()).select_from(Notice).where(*where)).one())


def _oldest(ctx: ProgrammeContext, where: tuple) -> tuple[HeldNotice, ...]:
    names = {kind.value: name for kind, name in LABELS.items()}
    rows = ctx.session.exec(select(Notice).where(*where)
                            .order_by(col(Notice.deliver_after), col(Notice.id)).limit(SHOWN)).all()
    return tuple(HeldNotice(n.id or 0, names.get(n.kind, n.kind), n.recipient_email, n.subject,
                            n.planned_at or n.deliver_after, n.last_error or "") for n in rows)
