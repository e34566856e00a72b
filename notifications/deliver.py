"""Deliver the outbox: claim a batch, hand each notice to its channel, record each outcome."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from models import outbox
from notifications.channels import Channel, DeliveryError, FileChannel
from transitions.settings import Channel as ChannelName
from transitions.settings import Settings

LEASE = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)


def open_channel(settings: Settings) -> Channel:
    if settings.notice_channel == ChannelName.FILE:
        return FileChannel(settings.outbox_dir, settings.notice_sender)
    raise NotImplementedError(f"canal {settings.notice_channel} pas encore disponible")


def deliver_due(session: Session, *, as_of: datetime, settings: Settings,
                channel: Channel | None = None) -> DeliveryReport:
    """Deliver every notice due at `as_of`, batch after batch, until none is left."""
    report = DeliveryReport()
    own = channel is None
    channel = channel or open_channel(settings)
    try:
        while True:
            now = datetime.now(UTC)
            batch = outbox.claim(session, as_of=as_of, now=now, limit=settings.delivery_batch_size,
                                 lease=LEASE)
            if not batch:
                return report
            for notice in batch:
                try:
                    channel.send(notice)
                except DeliveryError as exc:
                    outbox.mark_failed(session, notice, at=as_of, error=str(exc), permanent=exc.permanent,
                                       max_attempts=settings.delivery_max_attempts,
                                       retry_in=outbox.backoff(notice.attempts))
                    report.failed += 1
                    report.dead += notice.status == outbox.NoticeStatus.DEAD
                    continue
                outbox.mark_sent(session, notice, at=as_of)
                report.sent += 1
                report.by_kind[notice.kind] += 1
    finally:
        if own:
            channel.close()
