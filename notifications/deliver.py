"""Deliver the outbox: claim a batch, hand each message to its channel, record each outcome.

No notice can stop the others: whatever goes wrong while one message is built, rendered,
serialised or handed over dead-letters that message's notices (with the reason) and the batch
goes on; the manager gets one alert per run listing them. A channel that cannot be reached or
logged in to fails once, and its notices wait, untried, for the next run."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from models import delivery
from models.addresses import redact
from models.errors import TransitionsError
from models.links import LinkSettings
from models.outbox import templates_of
from models.tables import Notice, NoticeStatus
from notifications.channels import Channel, DeliveryError
from notifications.message import Message, digest_message, single_message
from notifications.render import portal_link_settings, render_notice

if TYPE_CHECKING:
    from notifications.routing import Channels

log = logging.getLogger("transitions.delivery")


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard delivery tries: how long a notice failing temporarily is retried before it is given
    up (measured in time, not attempts), notices claimed per batch, and how long a claim (lease)
    protects a batch from other deliverers."""

    max_age: timedelta = delivery.MAX_AGE
    batch_size: int = 200
    lease: timedelta = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    """What a run did. `failed` counts attempts that failed; `deferred`, notices left untried
    because their channel was down; `set_aside`, one French line per notice given up in this run."""

    sent: int = 0
    messages: int = 0
    failed: int = 0
    dead: int = 0
    expired: int = 0
    deferred: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    set_aside: list[str] = field(default_factory=list)
    channels_down: dict[str, str] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        """French lines for the person running delivery: what was set aside, what waits and why."""
        lines = []
        if self.set_aside:
            lines.append(f"{len(self.set_aside)} avis mis de côté (abandonnés), le responsable du programme "
                         "en est averti : " + " ; ".join(self.set_aside))
        for name, reason in sorted(self.channels_down.items()):
            lines.append(f"Canal {name} indisponible ({reason}) : ses avis restent en attente et seront "
                         "réessayés au prochain envoi.")
        if self.expired:
            lines.append(f"{self.expired} avis expiré(s) (plus d'actualité), non envoyé(s).")
        return lines


RECORD_WITHIN = 1.0
"""Seconds of hand-overs whose outcomes are written in one commit at most."""
RECORD_EVERY = 50
"""Messages whose outcomes are written in one commit at most (with the next batch's claim, or
after `RECORD_WITHIN` seconds, or after this many messages, whichever comes first). A commit
waits for the disk (5 ms on a shared virtual machine), so fewer commits deliver faster; but a
deliverer killed in between leaves the accepted messages not yet recorded leased, and they are
sent again with the same Message-ID (at-least-once, detectable duplicates): at most this many
copies per crash reach people, which is what bounds it, not the throughput."""


def deliver_due(session: Session, *, as_of: datetime, channels: Channels,
                policy: DeliveryPolicy = DeliveryPolicy(), signing: LinkSettings | None = None) -> DeliveryReport:
    """Deliver every notice due at `as_of`, batch after batch, until none is left.

    Each message goes through the channel its recipient is routed to; the channels are closed
    at the end, so SMTP keeps one connection for the whole run. The personal links the notices
    carry are signed again as they leave, with `signing` (default: the portal's settings,
    `portal_link_settings`).
    """
    report = DeliveryReport()
    signing = signing or portal_link_settings()
    dead: list[Notice] = []
    untried: list[Notice] = []
    handed: list[tuple[list[Notice], str | None]] = []  # accepted by their channel, not yet recorded
    try:
        while True:
            now = datetime.now(UTC)
            # The previous batch's last outcomes are recorded in this claim's commit.
            batch = delivery.claim(session, as_of=as_of, now=now, limit=policy.batch_size, lease=policy.lease,
                                   handed=handed)
            handed.clear()
            if not batch:
                if not dead:
                    return report
                delivery.alert_dead_letters(session, dead, at=as_of, renderer=render_notice)
                dead = []
                continue
            live = delivery.expire(session, batch, at=as_of)
            report.expired += len(batch) - len(live)
            recorded = time.monotonic()
            for group in delivery.plan_groups(session, live):
                dead += _deliver_group(session, group, channels, as_of, policy, report, untried, handed, signing)
                if len(handed) >= RECORD_EVERY or time.monotonic() - recorded >= RECORD_WITHIN:
                    _record(session, handed, as_of)
                    recorded = time.monotonic()
    except SQLAlchemyError:
        handed.clear()  # the database failed: what was handed over stays leased and is sent again
        raise
    finally:
        try:
            if handed or untried:
                delivery.record_sent(session, handed, at=as_of)
                delivery.release(session, untried)
        finally:
            channels.close()


def _record(session: Session, handed: list[tuple[list[Notice], str | None]], as_of: datetime) -> None:
    """Write the outcomes of the messages handed over since the last commit, in one commit."""
    delivery.record_sent(session, handed, at=as_of)
    handed.clear()
    session.commit()


def _message(session: Session, group: list[Notice], as_of: datetime, signing: LinkSettings | None) -> Message:
    if len(group) == 1:
        return single_message(group[0], as_of, signing)
    programme, context = delivery.digest_context(session, group)
    return digest_message(group, context, as_of, templates_of(programme), signing)


def _deliver_group(session: Session, group: list[Notice], channels: Channels, as_of: datetime,
                   policy: DeliveryPolicy, report: DeliveryReport, untried: list[Notice],
                   handed: list[tuple[list[Notice], str | None]], signing: LinkSettings | None) -> list[Notice]:
    """Hand over one notice, or one digest of several: a failure is recorded at once, a success
    added to `handed` (recorded at the next commit). Returns the notices given up."""
    name = channels.name_for(group[0].recipient_email)
    if name in report.channels_down:
        return _failed(session, group, as_of, policy, report, report.channels_down[name], counted=False,
                       untried=untried)
    try:
        channel: Channel = channels.for_address(group[0].recipient_email)
    except TransitionsError as exc:  # a channel chosen without what it needs
        report.channels_down[name] = exc.message
        return _failed(session, group, as_of, policy, report, exc.message)
    try:
        message = _message(session, group, as_of, signing)
        channel.send(message)
    except SQLAlchemyError:
        raise  # the database, not this message: stop the run, the leases protect the batch
    except DeliveryError as exc:
        reason = redact(str(exc))
        if exc.channel_down:
            report.channels_down[name] = reason
        return _failed(session, group, as_of, policy, report, reason, permanent=exc.permanent)
    except ValueError as exc:  # an address or a header no channel can carry
        return _failed(session, group, as_of, policy, report,
                       f"avis impossible à envoyer à « {group[0].recipient_email} » : {exc}", permanent=True)
    except Exception as exc:  # anything else about this one message: set it aside, go on
        log.warning("notice(s) %s set aside", [n.id for n in group], exc_info=True)
        return _failed(session, group, as_of, policy, report,
                       f"avis impossible à préparer ou à envoyer : {type(exc).__name__} : {exc}", permanent=True)
    handed.append((group, message.message_id if len(group) > 1 else None))
    report.sent += len(group)
    report.messages += 1
    for notice in group:
        report.by_kind[notice.kind] += 1
    return []


def _failed(session: Session, group: list[Notice], as_of: datetime, policy: DeliveryPolicy,
            report: DeliveryReport, reason: str, *, permanent: bool = False, counted: bool = True,
            untried: list[Notice] | None = None) -> list[Notice]:
    retry_in = delivery.backoff(max(n.attempts for n in group))
    dead = delivery.mark_failed(session, group, at=as_of, error=redact(reason), permanent=permanent,
                                max_age=policy.max_age, retry_in=retry_in, counted=counted)
    if counted:
        report.failed += len(group)
    else:
        report.deferred += len(group) - len(dead)
        if untried is not None:
            untried.extend(n for n in group if n.status == NoticeStatus.PENDING)
    report.dead += len(dead)
    report.set_aside += [f"n°{n.id} ({n.kind}, {n.recipient_email}) : {n.last_error}" for n in dead]
    return dead
