"""Which channel carries a notice to an address, built from the settings the shell passes in.

Channels open at first use (SMTP keeps one connection for the whole run) and close together.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from datetime import timedelta

from config.settings import Channel as ChannelName
from config.settings import Settings
from models.errors import InvalidInput
from notifications.channels import Channel, FileChannel
from notifications.deliver import DeliveryPolicy
from notifications.smtp import SmtpChannel
from notifications.webhook import WebhookChannel


class Channels:
    """Channels by name, opened on demand, chosen per address by fnmatch routes (first match
    wins) or the default name."""

    def __init__(self, factories: Mapping[str, Callable[[], Channel]], *, default: str,
                 routes: Mapping[str, str] | None = None) -> None:
        self._factories = dict(factories)
        self._default = default
        self._routes = dict(routes or {})
        self._opened: dict[str, Channel] = {}

    @classmethod
    def single(cls, channel: Channel) -> Channels:
        """Every notice through one given channel (tests, benchmarks)."""
        return cls({channel.name: lambda: channel}, default=channel.name)

    def name_for(self, address: str) -> str:
        lowered = address.lower()
        for pattern, name in self._routes.items():
            if fnmatch.fnmatchcase(lowered, pattern.lower()):
                return name
        return self._default

    def for_address(self, address: str) -> Channel:
        name = self.name_for(address)
        if name not in self._opened:
            self._opened[name] = self._factories[name]()
        return self._opened[name]

    def close(self) -> None:
        opened, self._opened = self._opened, {}
        for channel in opened.values():
            channel.close()


def from_settings(settings: Settings) -> tuple[Channels, DeliveryPolicy]:
    """The channels and the delivery policy the settings describe (secrets are read here and
    kept out of logs). Raises InvalidInput for a channel chosen without what it needs."""

    def smtp() -> Channel:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpChannel(host=settings.smtp_host, port=settings.smtp_port, sender=settings.notice_sender,
                           timeout=settings.smtp_timeout, user=settings.smtp_user, password=password,
                           starttls=settings.smtp_starttls, tls=settings.smtp_tls,
                           ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)

    def webhook() -> Channel:
        if not settings.webhook_url:
            raise InvalidInput("Le canal webhook est choisi mais WEBHOOK_URL n'est pas défini.")
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        return WebhookChannel(url=settings.webhook_url, secret=secret, timeout=settings.webhook_timeout)

    def file() -> Channel:
        return FileChannel(settings.outbox_dir, settings.notice_sender)

    factories: dict[str, Callable[[], Channel]] = {ChannelName.SMTP: smtp, ChannelName.WEBHOOK: webhook,
                                                   ChannelName.FILE: file}
    channels = Channels(factories, default=settings.notice_channel,
                        routes={pattern: str(name) for pattern, name in settings.notice_routes.items()})
    policy = DeliveryPolicy(max_age=settings.delivery_max_age, batch_size=settings.delivery_batch_size,
                            lease=timedelta(minutes=5))
    return channels, policy
