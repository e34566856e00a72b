"""Writing notices to the outbox, in the caller's transaction, at most once per deduplication key."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models.clock import PARIS
from models.errors import NotFound, Refused
from models.identifiers import message_id
from models.programme import ProgrammeDefinition, templates_path
from models.tables import Notice, NoticeStatus, Programme
from notifications.kinds import CONTEXT, NoticeKind
from notifications.render import render_notice


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


def unique_recipients(recipients: list[Recipient]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.email.lower(), recipient)
    return list(seen.values())


def enqueue(
    session: Session,
    *,
    programme: Programme,
    definition: ProgrammeDefinition,
    kind: NoticeKind,
    recipients: list[Recipient],
    key: str,
    context: dict[str, Any],
    at: datetime,
    deliver_after: datetime | None = None,
) -> int:
    """Render and queue one notice per recipient; returns how many were new.

    The deduplication key is `kind:key:email`: asking twice for the same notice queues it once.
    """
    unexpected = set(context) - CONTEXT[kind]
    if unexpected:  # a programming error: declare the variable in notifications.kinds.CONTEXT
        raise ValueError(f"undeclared context for {kind.value}: {sorted(unexpected)}")
    created = 0
    for recipient in unique_recipients(recipients):
        dedup_key = f"{kind.value}:{key}:{recipient.email.lower()}"
        exists = session.exec(select(col(Notice.id)).where(Notice.dedup_key == dedup_key)).first()
        if exists is not None:
            continue
        rendered = render_notice(
            kind,
            {
                "programme": definition,
                "destinataire": recipient,
                "organisateur": definition.organiser,
                **context,
            },
            templates_path(Path(programme.source), definition),
        )
        notice = Notice(
            dedup_key=dedup_key,
            programme_id=programme.id,
            kind=kind.value,
            recipient_email=recipient.email,
            recipient_name=recipient.name,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            created_at=at,
            deliver_after=deliver_after or at,
            message_id=message_id(dedup_key),
            digest=kind.value in definition.reminders.digest,
        )
        try:
            with session.begin_nested():  # flushed here: a concurrent writer may have queued the same key
                session.add(notice)
        except IntegrityError:
            continue
        created += 1
    return created


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
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    elif dialect == "sqlite":
        session.commit()  # end any read transaction, then take the write lock before reading
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    batch = list(session.exec(query).all())
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


def digest_context(session: Session, group: list[Notice]) -> dict[str, Any]:
    """What the digest template needs: the programme and its organiser, the recipient, the notices."""
    programme = session.get(Programme, group[0].programme_id)
    assert programme is not None
    definition = ProgrammeDefinition.model_validate(programme.definition)
    return {"programme": definition, "organisateur": definition.organiser,
            "destinataire": Recipient(group[0].recipient_email, group[0].recipient_name),
            "avis": group, "templates": templates_path(Path(programme.source), definition)}


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


def alert_dead_letter(session: Session, notice: Notice, *, at: datetime) -> int:
    """Tell the programme's manager that a notice was given up, once per notice."""
    if notice.kind == NoticeKind.DEAD_LETTER.value or notice.programme_id is None:
        return 0
    programme = session.get(Programme, notice.programme_id)
    if programme is None:
        return 0
    definition = ProgrammeDefinition.model_validate(programme.definition)
    manager = definition.organiser_manager()
    created = enqueue(session, programme=programme, definition=definition, kind=NoticeKind.DEAD_LETTER,
                      recipients=[Recipient(manager.email, manager.name)], key=f"avis-{notice.id}",
                      context={"avis": notice}, at=at)
    session.commit()
    return created


def notices(session: Session, status: str | None = None, limit: int = 200, *, kind: str | None = None,
            recipient: str | None = None) -> list[Notice]:
    """The latest notices, optionally by status, kind and recipient address."""
    query = select(Notice).order_by(col(Notice.id).desc()).limit(limit)
    if status is not None:
        query = query.where(Notice.status == status)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    if recipient is not None:
        query = query.where(func.lower(Notice.recipient_email) == recipient.lower())
    return list(session.exec(query).all())


def find_notice(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"Aucun avis n°{notice_id} dans la boîte d'envoi.")
    return notice


def retry(session: Session, notice_id: int, *, at: datetime) -> Notice:
    """Put a given-up (or waiting) notice back for delivery now, with a fresh attempt count."""
    notice = find_notice(session, notice_id)
    if notice.status == NoticeStatus.SENT:
        raise Refused(f"L'avis n°{notice_id} a déjà été envoyé le {notice.sent_at:%d/%m/%Y %H:%M} (UTC) : "
                      "le renvoyer ferait un doublon.")
    notice.status = NoticeStatus.PENDING
    notice.attempts = 0
    notice.deliver_after = at
    notice.claimed_until = None
    session.add(notice)
    return notice


def pending_with_prefix(session: Session, prefix: str) -> int:
    """How many notices whose deduplication key starts with `prefix` are still waiting."""
    rows = session.exec(select(col(Notice.id)).where(col(Notice.dedup_key).startswith(prefix),
                                                     Notice.status == NoticeStatus.PENDING)).all()
    return len(rows)
