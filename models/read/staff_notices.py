"""The back office's notices and audit log (issue 23): the outbox filtered by kind and state
(`models.outbox.notices`, what `transitions outbox list` reads), each given-up, waiting or expired
notice offered « Relancer » (`models.outbox.retry`); the audit log filtered by action, actor and
day (Paris), paged by `JOURNAL_PAGE` entries (what `transitions audit` reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import col, func, select

from models.clock import PARIS, InstantError, paris, read_typed
from models.context import ProgrammeContext
from models.errors import InvalidInput
from models.notices import LABELS, NoticeKind
from models.outbox import notices
from models.tables import AuditEntry, Notice, NoticeStatus, label
from models.text import visible

_RETRIED = frozenset({NoticeStatus.DEAD, NoticeStatus.EXPIRED})
NOTICE_LIMIT = 200
"""Notices listed at most (the latest first)."""
JOURNAL_PAGE = 50
"""Audit entries per page."""


@dataclass(frozen=True)
class NoticeLine:
    """One notice of the outbox as the page lists it."""

    id: int
    kind: str
    """The kind in French (« Accusé de réception »)."""
    recipient: str
    subject: str
    status: str
    """The state in French (« abandonné »)."""
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    error: str
    may_retry: bool
    """Given up or expired: « Relancer » puts it back (a waiting notice leaves at its time anyway,
    within the sending hours; putting it back would send it now, on a Sunday too)."""
    """Not sent yet (waiting, given up or expired): `outbox.retry` puts it back."""


@dataclass(frozen=True)
class NoticesScreen:
    """The outbox page: the chosen filters, the choices, and the notices (latest first)."""

    lines: tuple[NoticeLine, ...]
    kind: str | None
    state: str | None
    kinds: tuple[tuple[str, str], ...]
    """Every kind: (code, French name)."""
    states: tuple[tuple[str, str], ...]
    counts: tuple[tuple[str, int], ...]
    """How many notices of the programme each state holds (French state, count)."""


def _choice(value: str | None, allowed: set[str], what: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(f"{what} inconnu « {visible(value)[:40]} » : choisissez-en un dans la liste.")
    return value


def notices_screen(ctx: ProgrammeContext, *, kind: str | None = None, state: str | None = None) -> NoticesScreen:
    """The outbox filtered by `kind` and `state` (codes; empty: any); InvalidInput for an unknown one."""
    kind = _choice(kind, {k.value for k in NoticeKind}, "Type d'avis")
    state = _choice(state, {s.value for s in NoticeStatus}, "État")
    rows = notices(ctx.session, state, NOTICE_LIMIT, kind=kind, programme_id=ctx.programme_id)
    names = {k.value: name for k, name in LABELS.items()}
    lines = tuple(NoticeLine(n.id or 0, names.get(n.kind, n.kind),
                             n.recipient_email, n.subject, label(n.status), n.attempts, n.created_at, n.sent_at,
                             n.last_error or "", n.status in _RETRIED) for n in rows)
    counted = dict(ctx.session.exec(select(Notice.status, func.count()).where(
        Notice.programme_id == ctx.programme_id).group_by(col(Notice.status))).all())
    return NoticesScreen(lines, kind, state, tuple((k.value, LABELS.get(k, k.value)) for k in NoticeKind),
                         tuple((s.value, label(s.value)) for s in NoticeStatus),
                         tuple((label(s.value), int(counted.get(s.value, 0))) for s in NoticeStatus))


@dataclass(frozen=True)
class JournalScreen:
    """One page of the audit log, latest first, with its filters and how many entries match."""

    entries: tuple[AuditEntry, ...]
    action: str
    actor: str
    day: date | None
    page: int
    pages: int
    total: int


def journal_screen(ctx: ProgrammeContext, *, action: str = "", actor: str = "", typed_day: str = "",
                   page: int = 1) -> JournalScreen:
    """The programme's audit entries whose action starts with `action`, whose actor contains `actor`
    (any case), on the Paris day `typed_day` if given (as people type dates, `clock.read_typed`:
    InvalidInput in French otherwise); page `page` (from 1, beyond the last: the last) of `JOURNAL_PAGE`."""
    action, actor = visible(action.strip())[:80], visible(actor.strip())[:120]
    try:
        day = paris(read_typed(typed_day, time(0))).date() if typed_day.strip() else None
    except InstantError as exc:
        raise InvalidInput(f"Jour : {exc}") from None
    query = select(AuditEntry).where(AuditEntry.programme_id == ctx.programme_id)
    if action:
        query = query.where(col(AuditEntry.action).startswith(action, autoescape=True))
    if actor:
        query = query.where(func.lower(AuditEntry.actor).contains(actor.lower(), autoescape=True))
    if day is not None:
        start = datetime.combine(day, time(0), PARIS)
        query = query.where(col(AuditEntry.at) >= start, col(AuditEntry.at) < start + timedelta(days=1))
    total = ctx.session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, -(-total // JOURNAL_PAGE))
    page = min(max(1, page), pages)
    rows = ctx.session.exec(query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
                            .offset((page - 1) * JOURNAL_PAGE).limit(JOURNAL_PAGE)).all()
    return JournalScreen(tuple(rows), action, actor, day, page, pages, total)
