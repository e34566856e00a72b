"""Delivery bookkeeping for the outbox: claiming batches under a lease, grouping digests (and
recording each digest's identity before anything leaves), recording each outcome, backing off,
expiring notices that no longer make sense, and alerting the manager about dead letters."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from models import link_tokens
from models.addresses import redact
from models.clock import WorkingCalendar
from models.db import lock_for_update
from models.identifiers import digest_key, message_id
from models.notices import IMMEDIATE, NoticeKind, Recipient, Renderer
from models.outbox import enqueue
from models.programme import ProgrammeDefinition
from models.tables import Notice, NoticeStatus, Programme

MAX_AGE = timedelta(days=5)
"""Default time after which a notice still failing temporarily is given up (like Postfix)."""


_NOTICE: Any = Notice.__table__  # type: ignore[attr-defined]
_WAITING: Any = (sa_select(_NOTICE.c.id)
                 .where(_NOTICE.c.status == NoticeStatus.PENDING.value, _NOTICE.c.deliver_after <= bindparam("as_of"),
                        or_(_NOTICE.c.claimed_until.is_(None), _NOTICE.c.claimed_until < bindparam("now")))
                 .limit(1))
"""Built once: an idle tick asks it at every run (building a statement costs more than running it)."""

_LEASE: Any = (sa_update(_NOTICE).where(_NOTICE.c.id == bindparam("nid"))
               .values(claimed_until=bindparam("until")))
_SENT: Any = (sa_update(_NOTICE).where(_NOTICE.c.id == bindparam("nid"))
              .values(status=NoticeStatus.SENT.value, sent_at=bindparam("at"), attempts=_NOTICE.c.attempts + 1,
                      claimed_until=None, last_error=None, digest_id=bindparam("carried_by")))
"""The writes delivery makes for every notice, built once and run as one statement (or one
executemany) on the session's connection instead of through the ORM's change tracking (which
cost more than the SMTP exchange). The loaded `Notice` objects are given the same values as
committed state (`set_committed_value`), so they stay what the database holds."""


def waiting(session: Session, *, as_of: datetime, now: datetime) -> bool:
    """Whether a notice is due for delivery at `as_of` and free to claim (no live lease at `now`):
    what `claim` would take, asked without taking anything (one indexed read, no lock)."""
    return session.connection().execute(_WAITING, {"as_of": as_of, "now": now}).first() is not None


def claim(session: Session, *, as_of: datetime, now: datetime, limit: int, lease: timedelta,
          handed: Sequence[tuple[Sequence[Notice], str | None]] = ()) -> list[Notice]:
    """Take a batch of notices due for delivery and lease them to this deliverer.

    On PostgreSQL the rows are locked with SKIP LOCKED so that two deliverers never take the same
    notice; on SQLite the claim takes the write lock first (BEGIN IMMEDIATE), so deliverers claim one
    after the other. A lease that expired (a deliverer died mid-batch) makes its notices claimable again.
    A digest recorded on a claimed notice brings every other waiting notice of that digest along,
    even past `limit`, so that a redelivered digest carries exactly the same notices.
    `handed`: messages of the previous batch accepted by their channel and not yet recorded
    (`record_sent`, sent at `as_of`), recorded in the same transaction: one commit, one wait for
    the disk, instead of two.
    """
    claimable = or_(col(Notice.claimed_until).is_(None), col(Notice.claimed_until) < now)
    query = (
        select(Notice)
        .where(Notice.status == NoticeStatus.PENDING, Notice.deliver_after <= as_of)
        .where(claimable)
        .order_by(col(Notice.id))
        .limit(limit)
    )
    session.commit()  # the claim opens its own transaction, so that it can take the lock first
    locked = lock_for_update(session, query, skip_locked=True)
    if handed:
        record_sent(session, handed, at=as_of)
    batch = list(session.exec(locked).all())
    digests = {n.digest_id for n in batch if n.digest_id}
    if digests:
        taken = {n.id for n in batch}
        mates = select(Notice).where(col(Notice.digest_id).in_(digests), Notice.status == NoticeStatus.PENDING,
                                     claimable).order_by(col(Notice.id))
        batch += [n for n in session.exec(lock_for_update(session, mates, skip_locked=True)).all()
                  if n.id not in taken]
    until = now + lease
    if batch:
        session.connection().execute(_LEASE, [{"nid": n.id, "until": until} for n in batch])
        for notice in batch:
            set_committed_value(notice, "claimed_until", until)
    session.commit()
    return batch


def expire(session: Session, batch: list[Notice], *, at: datetime) -> list[Notice]:
    """Record as expired the notices of `batch` that no longer make sense at `at` (see
    `models.notices.WORTH_SENDING_UNTIL`); returns the others. A notice already part of a
    recorded digest (which may have left before a crash) goes with its digest."""
    keep, expired = [], []
    for notice in batch:
        if notice.expires_at is not None and notice.expires_at <= at and not notice.digest_id:
            notice.status = NoticeStatus.EXPIRED
            notice.claimed_until = None
            notice.last_error = None
            session.add(notice)
            expired.append(notice)
        else:
            keep.append(notice)
    if expired:
        session.commit()
    return keep


def group_for_delivery(batch: list[Notice]) -> list[list[Notice]]:
    """Notices as they go out: those whose digest was already recorded travel together again;
    other digestible ones to the same person, for the same programme, travel together (whatever
    day each was planned for: the digest says which); every other notice alone. Order follows the
    first notice of each group."""
    groups: dict[tuple[object, ...], list[Notice]] = {}
    for notice in batch:
        if notice.digest_id:
            key: tuple[object, ...] = ("recorded", notice.digest_id)
        elif notice.digest:
            key = ("digest", notice.recipient_email.lower(), notice.programme_id)
        else:
            key = ("single", notice.id)
        groups.setdefault(key, []).append(notice)
    return list(groups.values())


def plan_groups(session: Session, batch: list[Notice]) -> list[list[Notice]]:
    """Group a claimed batch (`group_for_delivery`) and record each new digest's Message-ID on its
    notices before anything is sent: after a crash, the redelivery regroups the same notices
    under the same Message-ID."""
    groups = group_for_delivery(batch)
    changed = False
    for group in groups:
        if len(group) > 1 and not group[0].digest_id:
            identity = message_id(digest_key([n.dedup_key for n in group]))
            for notice in group:
                notice.digest_id = identity
                session.add(notice)
            changed = True
    if changed:
        session.commit()
    return groups


def record_sent(session: Session, handed: Sequence[tuple[Sequence[Notice], str | None]], *, at: datetime) -> None:
    """Record successful hand-overs: for each message, the notices it carried (one, or a digest's)
    and the digest's Message-ID (None for a single notice). One executemany UPDATE (`_SENT`) for
    all of them, no commit: the caller commits (until then the notices stay leased, so a
    deliverer that dies sends them again, same Message-ID). The loaded objects are updated to match."""
    rows = [{"nid": notice.id, "at": at, "carried_by": digest_id} for group, digest_id in handed for notice in group]
    if not rows:
        return
    session.connection().execute(_SENT, rows)
    for group, digest_id in handed:
        for notice in group:
            for name, value in (("status", NoticeStatus.SENT.value), ("sent_at", at),
                                ("attempts", notice.attempts + 1), ("claimed_until", None), ("last_error", None),
                                ("digest_id", digest_id)):
                set_committed_value(notice, name, value)
    _forget_keys([notice for group, _ in handed for notice in group if notice.kind in link_tokens.SINGLE_USE_KINDS])


def _forget_keys(sent: Sequence[Notice]) -> None:
    """A staff notice queued before keys were derived at delivery (`models.link_tokens.staff_key`)
    holds its key in its bodies: once the message has left they keep « [clé personnelle] » instead
    (the ORM writes them with the caller's commit). A notice queued since never held one: no change."""
    for notice in sent:
        notice.body_text = link_tokens.forget_keys(notice.body_text)
        notice.body_html = link_tokens.forget_keys(notice.body_html)
        notice.core_text = link_tokens.forget_keys(notice.core_text)


def digest_context(session: Session, group: list[Notice]) -> tuple[Programme, dict[str, Any]]:
    """The programme of a digest's notices, and what the digest template needs (the programme's
    definition, its organiser, the recipient)."""
    programme = session.get(Programme, group[0].programme_id)
    assert programme is not None
    definition = ProgrammeDefinition.model_validate(programme.definition)
    context = {"programme": definition, "organisateur": definition.organiser,
               "destinataire": Recipient(group[0].recipient_email, group[0].recipient_name)}
    return programme, context


def age(notice: Notice, at: datetime) -> timedelta:
    """How long the notice has been due: since its planned sending time (or creation)."""
    return at - (notice.planned_at or notice.created_at)


def mark_failed(session: Session, group: list[Notice], *, at: datetime, error: str, permanent: bool,
                max_age: timedelta, retry_in: timedelta, counted: bool = True) -> list[Notice]:
    """Record a failed hand-over of one message (one notice, or a digest's notices): retry the
    group later, together, or give it up (dead letter) when the failure is permanent or the
    notice has been due longer than `max_age`. `counted=False` records a notice that was not
    even tried (its channel failed for the whole run): no attempt counted, still due, still
    leased until `release` at the end of the run (so the run does not claim it again).

    A retry keeps the sending rules the notice was queued under: unless its kind leaves at once
    (the receipt), it is moved to the programme's next sending time (working days, sending hours),
    so a message held back by a night-time outage does not leave at 3 a.m. or on a Sunday.

    The error is stored without credentials (`models.addresses.redact`). Returns the notices
    given up now."""
    dead = []
    calendars: dict[int, WorkingCalendar] = {}
    for notice in group:
        if counted:
            notice.attempts += 1
            notice.claimed_until = None
        notice.last_error = redact(error)[:2000]
        notice.digest_id = None  # nothing was accepted: the next attempt may regroup
        if permanent or age(notice, at) >= max_age:
            notice.status = NoticeStatus.DEAD
            dead.append(notice)
        elif counted:
            notice.deliver_after = _retry_instant(session, notice, at + retry_in, calendars)
        session.add(notice)
    session.commit()
    return dead


def _retry_instant(session: Session, notice: Notice, instant: datetime,
                   calendars: dict[int, WorkingCalendar]) -> datetime:
    """`instant`, moved to the next sending time of the notice's programme when its kind waits for one."""
    if notice.programme_id is None or notice.kind in {kind.value for kind in IMMEDIATE}:
        return instant
    if notice.programme_id not in calendars:
        programme = session.get(Programme, notice.programme_id)
        if programme is None:
            return instant
        calendars[notice.programme_id] = ProgrammeDefinition.model_validate(programme.definition).calendar()
    return calendars[notice.programme_id].next_sending(instant)


def release(session: Session, notices: list[Notice]) -> None:
    """End this run's lease on notices it left untried: the next run may claim them at once."""
    for notice in notices:
        if notice.status == NoticeStatus.PENDING:
            notice.claimed_until = None
            session.add(notice)
    session.commit()


def backoff(attempts: int, base: float = 60.0, cap: float = 3600.0) -> timedelta:
    """Exponential backoff with jitter: half of base·2^attempts (capped at one hour) plus up to as
    much again, so an outage is retried at least hourly until the notice is too old."""
    window = min(cap, base * 2 ** min(attempts, 32)) / 2
    return timedelta(seconds=window + random.uniform(0, window))


def alert_dead_letters(session: Session, dead: list[Notice], *, at: datetime, renderer: Renderer) -> int:
    """Tell each programme's manager, in one message per run, which notices were given up (alerts
    themselves are never alerted about). Returns how many alerts were queued."""
    by_programme: dict[int, list[Notice]] = defaultdict(list)
    for notice in dead:
        if notice.kind != NoticeKind.DEAD_LETTER.value and notice.programme_id is not None:
            by_programme[notice.programme_id].append(notice)
    created = 0
    for programme_id, notices in sorted(by_programme.items()):
        programme = session.get(Programme, programme_id)
        if programme is None:
            continue
        definition = ProgrammeDefinition.model_validate(programme.definition)
        manager = definition.organiser_manager()
        ids = ",".join(str(n.id) for n in sorted(notices, key=lambda n: n.id or 0))
        created += enqueue(session, programme=programme, definition=definition, renderer=renderer,
                           kind=NoticeKind.DEAD_LETTER, recipients=[Recipient(manager.email, manager.name)],
                           key=f"lot-{at.isoformat()}-{hashlib.sha256(ids.encode()).hexdigest()[:12]}",
                           context={"avis": sorted(notices, key=lambda n: n.id or 0)}, at=at)
    session.commit()
    return created
