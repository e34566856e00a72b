"""What channels receive: a `Message` value, built from one outbox notice or from a digest of
several. Channels never see a database row."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from models.identifiers import message_id
from models.notices import NoticeKind, Recipient
from notifications.render import render_notice


class OutboxNotice(Protocol):
    """What a message is built from: the stored fields of an outbox notice (`models.tables.Notice`)."""

    id: int | None
    kind: str
    dedup_key: str
    recipient_email: str
    recipient_name: str
    subject: str
    body_text: str
    body_html: str
    core_text: str
    created_at: datetime
    message_id: str
    calendar: str | None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Message:
    """One message as it leaves: to one recipient, with a stable identity.

    `message_id` is the RFC 5322 Message-ID (also the webhook's Idempotency-Key): the same for
    every delivery attempt of the same content. `key` is the outbox deduplication key (for a
    digest, derived from the keys it carries); `stem` names the message's file in the file channel.
    """

    recipient: Recipient
    subject: str
    text: str
    html: str
    message_id: str
    kind: str
    key: str
    created_at: datetime
    stem: str
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    calendar: str | None = None
    """iCalendar text (RFC 5546, its METHOD inside) sent as a text/calendar alternative part."""


def single_message(notice: OutboxNotice) -> Message:
    """The message carrying one notice, as it was rendered when queued."""
    return Message(
        recipient=Recipient(notice.recipient_email, notice.recipient_name),
        subject=notice.subject, text=notice.body_text, html=notice.body_html,
        message_id=notice.message_id, kind=notice.kind, key=notice.dedup_key,
        created_at=notice.created_at,
        stem=f"{notice.created_at:%Y%m%d-%H%M}-{notice.id or 0:05d}-{notice.kind}",
        calendar=notice.calendar,
    )


def digest_message(group: Sequence[OutboxNotice], context: Mapping[str, Any], at: datetime,
                   overrides: Mapping[str, str] | None = None) -> Message:
    """One message listing several notices to the same person, from each notice's stored core
    text; its Message-ID derives from the notices it carries, so a redelivered digest is the
    same message."""
    items = [{"subject": n.subject, "text": n.core_text} for n in group]
    rendered = render_notice(NoticeKind.DIGEST, {**context, "elements": items, "jour": at}, overrides)
    keys = "|".join(sorted(n.dedup_key for n in group))
    key = f"{NoticeKind.DIGEST.value}:{hashlib.sha256(keys.encode()).hexdigest()[:24]}"
    first = group[0]
    return Message(
        recipient=Recipient(first.recipient_email, first.recipient_name),
        subject=rendered.subject, text=rendered.text, html=rendered.html,
        message_id=message_id(key), kind=NoticeKind.DIGEST.value, key=key, created_at=at,
        stem=f"{at:%Y%m%d-%H%M}-{first.id or 0:05d}-{NoticeKind.DIGEST.value}",
    )
