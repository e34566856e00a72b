"""Delivery bookkeeping for the outbox: claiming batches under a lease, grouping digests,
recording each outcome, backing off, and alerting the manager about dead letters."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.clock import PARIS
from models.db import lock_for_update
from models.notices import NoticeKind, Recipient, Renderer
from models.outbox import enqueue
from models.programme import ProgrammeDefinition
from models.tables import Notice, NoticeStatus, Programme


def claim(session: Session, *, as_of: datetime, now: datetime, limit: int, lease: timedelta) -> list[Notice]:
    """Take a batch of notices due for delivery and lease them to this deliverer.

    On PostgreSQL the rows are locked with SKIP LOCKED so that two deliverers never take the same
    notice; on SQLite the claim takes the write lock first (BEGIN IMMEDIATE), so deliverers claim one
    after the other. A lease that expired (a deliverer died mid-batch) makes its notices claimable again.
    """
    query = (
        select(Notice)
        .where(Notice.status == NoticeStatus.PENDING, Notice.deliver_after <= as_of)
        .where(or_(col(Notice.claimed_until).is_(None), col(Notice.claimed_until) < now))
        .order_by(col(Notice.id))
        .limit(limit)
    )
    session.commit()  # the claim opens its own transaction, so that it can take the lock first
    batch = list(session.exec(lock_for_update(session, query, skip_locked=True)).all())
    for notice in batch:
        notice.claimed_until = now + lease
        session.add(notice)
    session.commit()
    return batch


def mark_sent(session: Session, group: list[Notice], *, at: datetime, digest_id: str | None = None) -> None:
    """Record a successful hand-over of one notice, or of the notices a digest carried, together."""
    for notice in group:
        notice.status = NoticeStatus.SENT
        notice.sent_at = at
        notice.attempts += 1
        notice.claimed_until = None
        notice.last_error = None
        notice.digest_id = digest_id
        session.add(notice)
    session.commit()


def group_for_delivery(batch: list[Notice]) -> list[list[Notice]]:
    """Notices as they go out: digestible ones to the same person, for the same programme and Paris
    day, travel together; every other notice alone. Order follows the first notice of each group."""
    groups: dict[tuple[object, ...], list[Notice]] = {}
    for notice in batch:
        if notice.digest:
            key: tuple[object, ...] = ("digest", notice.recipient_email.lower(), notice.programme_id,
                                       notice.deliver_after.astimezone(PARIS).date())
        else:
            key = ("single", notice.id)
        groups.setdefault(key, []).append(notice)
    return list(groups.values())


def digest_context(session: Session, group: list[Notice]) -> tuple[Programme, dict[str, Any]]:
    """The programme of a digest's notices, and what the digest template needs (the programme's
    definition, its organiser, the recipient)."""
    programme = session.get(Programme, group[0].programme_id)
    assert programme is not None
    definition = ProgrammeDefinition.model_validate(programme.definition)
    context = {"programme": definition, "organisateur": definition.organiser,
               "destinataire": Recipient(group[0].recipient_email, group[0].recipient_name)}
    return programme, context


def mark_failed(session: Session, notice: Notice, *, at: datetime, error: str, permanent: bool,
                max_attempts: int, retry_in: timedelta) -> None:
    """Record a failed attempt: retry later, or give up (dead letter) when permanent or exhausted."""
    notice.attempts += 1
    notice.last_error = error[:2000]
    notice.claimed_until = None
    if permanent or notice.attempts >= max_attempts:
        notice.status = NoticeStatus.DEAD
    else:
        notice.deliver_after = at + retry_in
    session.add(notice)
    session.commit()


def backoff(attempts: int, base: float = 60.0, cap: float = 6 * 3600.0) -> timedelta:
    """Exponential backoff with jitter: half of base·2^attempts (capped) plus up to as much again."""
    window = min(cap, base * 2**attempts) / 2
    return timedelta(seconds=window + random.uniform(0, window))


def alert_dead_letter(session: Session, notice: Notice, *, at: datetime, renderer: Renderer) -> int:
    """Tell the programme's manager that a notice was given up (again, if it dies again after a retry)."""
    if notice.kind == NoticeKind.DEAD_LETTER.value or notice.programme_id is None:
        return 0
    programme = session.get(Programme, notice.programme_id)
    if programme is None:
        return 0
    definition = ProgrammeDefinition.model_validate(programme.definition)
    manager = definition.organiser_manager()
    created = enqueue(session, programme=programme, definition=definition, renderer=renderer,
                      kind=NoticeKind.DEAD_LETTER,
                      recipients=[Recipient(manager.email, manager.name)],
                      key=f"avis-{notice.id}:{at.isoformat()}",
                      context={"avis": notice}, at=at)
    session.commit()
    return created
