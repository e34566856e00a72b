"""Deliver the outbox: claim a batch, hand each notice to its channel, record each outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from models import delivery
from models.errors import InvalidInput
from models.tables import Notice
from notifications.channels import Channel, DeliveryError, FileChannel
from notifications.render import build_digest
from notifications.smtp import SmtpChannel
from notifications.webhook import WebhookChannel
from transitions.settings import Channel as ChannelName
from transitions.settings import Settings

LEASE = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    messages: int = 0
    failed: int = 0
    dead: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)


def open_channel(name: ChannelName, settings: Settings) -> Channel:
    """A channel configured from the settings (secrets are read here and kept out of logs)."""
    if name == ChannelName.SMTP:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpChannel(host=settings.smtp_host, port=settings.smtp_port, sender=settings.notice_sender,
                           timeout=settings.smtp_timeout, user=settings.smtp_user, password=password,
                           starttls=settings.smtp_starttls, tls=settings.smtp_tls,
                           ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
    if name == ChannelName.WEBHOOK:
        if not settings.webhook_url:
            raise InvalidInput("Le canal webhook est choisi mais WEBHOOK_URL n'est pas défini.")
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        return WebhookChannel(url=settings.webhook_url, secret=secret, timeout=settings.webhook_timeout)
    return FileChannel(settings.outbox_dir, settings.notice_sender)


def deliver_due(session: Session, *, as_of: datetime, settings: Settings,
                channel: Channel | None = None) -> DeliveryReport:
    """Deliver every notice due at `as_of`, batch after batch, until none is left.

    Each notice goes through the channel its recipient is routed to (or `channel`, if given);
    channels are opened at first use and closed at the end, so SMTP keeps one connection.
    """
    report = DeliveryReport()
    opened: dict[ChannelName, Channel] = {}

    def channel_for(notice: Notice) -> Channel:
        if channel is not None:
            return channel
        name = settings.channel_for(notice.recipient_email)
        if name not in opened:
            opened[name] = open_channel(name, settings)
        return opened[name]

    try:
        while True:
            now = datetime.now(UTC)
            batch = delivery.claim(session, as_of=as_of, now=now, limit=settings.delivery_batch_size,
                                 lease=LEASE)
            if not batch:
                return report
            for group in delivery.group_for_delivery(batch):
                _deliver_group(session, group, channel_for, as_of, settings, report)
    finally:
        for each in opened.values():
            each.close()


def _deliver_group(session: Session, group: list[Notice], channel_for: Callable[[Notice], Channel],
                   as_of: datetime, settings: Settings, report: DeliveryReport) -> None:
    """Hand over one notice, or one digest of several; record the outcome for each notice."""
    if len(group) == 1:
        message = group[0]
    else:
        context, overrides = delivery.digest_context(session, group)
        message = build_digest(group, context, as_of, overrides)
    try:
        channel_for(message).send(message)
    except DeliveryError as exc:
        for notice in group:
            delivery.mark_failed(session, notice, at=as_of, error=str(exc), permanent=exc.permanent,
                               max_attempts=settings.delivery_max_attempts, retry_in=delivery.backoff(notice.attempts))
            report.failed += 1
            if notice.status == delivery.NoticeStatus.DEAD:
                report.dead += 1
                delivery.alert_dead_letter(session, notice, at=as_of)
        return
    delivery.mark_sent(session, group, at=as_of, digest_id=message.message_id if len(group) > 1 else None)
    report.sent += len(group)
    report.messages += 1
    for notice in group:
        report.by_kind[notice.kind] += 1
