"""Deliver the outbox: claim a batch, hand each message to its channel, record each outcome."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from models import delivery
from models.outbox import templates_of
from models.tables import Notice
from notifications.channels import DeliveryError
from notifications.message import Message, digest_message, single_message
from notifications.render import render_notice

if TYPE_CHECKING:
    from notifications.routing import Channels


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard delivery tries: attempts before a notice is given up, notices claimed per batch,
    and how long a claim (lease) protects a batch from other deliverers."""

    max_attempts: int = 6
    batch_size: int = 200
    lease: timedelta = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    messages: int = 0
    failed: int = 0
    dead: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)


def deliver_due(session: Session, *, as_of: datetime, channels: Channels,
                policy: DeliveryPolicy = DeliveryPolicy()) -> DeliveryReport:
    """Deliver every notice due at `as_of`, batch after batch, until none is left.

    Each message goes through the channel its recipient is routed to; the channels are closed
    at the end, so SMTP keeps one connection for the whole run.
    """
    report = DeliveryReport()
    try:
        while True:
            now = datetime.now(UTC)
            batch = delivery.claim(session, as_of=as_of, now=now, limit=policy.batch_size, lease=policy.lease)
            if not batch:
                return report
            for group in delivery.group_for_delivery(batch):
                _deliver_group(session, group, channels, as_of, policy, report)
    finally:
        channels.close()


def _message(session: Session, group: list[Notice], as_of: datetime) -> Message:
    if len(group) == 1:
        return single_message(group[0])
    programme, context = delivery.digest_context(session, group)
    return digest_message(group, context, as_of, templates_of(programme))


def _deliver_group(session: Session, group: list[Notice], channels: Channels, as_of: datetime,
                   policy: DeliveryPolicy, report: DeliveryReport) -> None:
    """Hand over one notice, or one digest of several; record the outcome for each notice."""
    message = _message(session, group, as_of)
    try:
        channels.for_address(message.recipient.email).send(message)
    except DeliveryError as exc:
        for notice in group:
            delivery.mark_failed(session, notice, at=as_of, error=str(exc), permanent=exc.permanent,
                                 max_attempts=policy.max_attempts, retry_in=delivery.backoff(notice.attempts))
            report.failed += 1
            if notice.status == delivery.NoticeStatus.DEAD:
                report.dead += 1
                delivery.alert_dead_letter(session, notice, at=as_of, renderer=render_notice)
        return
    delivery.mark_sent(session, group, at=as_of, digest_id=message.message_id if len(group) > 1 else None)
    report.sent += len(group)
    report.messages += 1
    for notice in group:
        report.by_kind[notice.kind] += 1
