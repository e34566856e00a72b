"""What channels receive: a `Message` value, built from one outbox notice or from a digest of
several. Channels never see a database row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from models import link_tokens
from models.clock import paris
from models.identifiers import digest_key, message_id
from models.links import LinkSettings, notice_url
from models.notices import NoticeKind, Recipient
from notifications.render import portal_link_settings, render_notice


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
    programme_id: int | None
    link_subject: str | None
    link_person: str | None
    link_version: int | None
    link_expires: datetime | None
    created_at: datetime
    deliver_after: datetime
    planned_at: datetime | None
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
    notices: tuple[int, ...] = ()
    """The outbox numbers of the notices it carries (header X-Transitions-Notices)."""
    calendar: str | None = None
    """iCalendar text (RFC 5546, its METHOD inside) sent as a text/calendar alternative part."""
    sent_at: datetime | None = None
    """The instant it leaves, its `Date:` header (RFC 5322: when the message was handed over, not
    when its notice was planned); None: `created_at`, for a message built outside a delivery."""

    @property
    def date(self) -> datetime:
        """What its `Date:` header says."""
        return self.sent_at or self.created_at


class LinkUnavailable(ValueError):
    """A notice carries a personal link, and the portal's secret to sign it again is not set."""


def _settings(settings: LinkSettings | None, why: str) -> LinkSettings:
    found = settings or portal_link_settings()
    if found is None:
        raise LinkUnavailable(why)
    return found


def personal_link(notice: OutboxNotice, settings: LinkSettings | None = None) -> str | None:
    """The personal link `notice` carries, signed again at sending time with the portal's settings
    (`settings`, else read now: `portal_link_settings`), or None when it carries none. LinkUnavailable
    without PORTAL_SECRET (the notice is then given up with the reason; `outbox retry` sends it
    once the secret is set)."""
    if notice.link_subject is None or notice.link_version is None or notice.link_expires is None:
        return None
    settings = _settings(settings, "son lien personnel ne peut pas être signé sans PORTAL_SECRET")
    ref = link_tokens.LinkRef(notice.link_subject, notice.link_person or "", notice.link_version,
                              notice.link_expires)
    return notice_url(notice.programme_id, ref, settings)


def staff_key(notice: OutboxNotice, settings: LinkSettings | None = None) -> str | None:
    """The single-use key a staff member's invitation or reset carries, derived again at sending
    time from its row's number and expiry under the portal's secret (`link_tokens.staff_key`: the
    same key at every attempt), or None for any other notice (and for one queued before keys were
    derived, whose body holds its key). LinkUnavailable without PORTAL_SECRET, as `personal_link`."""
    if (notice.kind not in link_tokens.SINGLE_USE_KINDS or notice.link_version is None
            or notice.link_expires is None):
        return None
    settings = _settings(settings, "sa clé à usage unique ne peut pas être calculée sans PORTAL_SECRET")
    return link_tokens.staff_key(settings.secret, link_tokens.KeyRef(notice.link_version, notice.kind,
                                                                      notice.link_expires))


def _restored(text: str, link: str | None, key: str | None, *, html: bool = False) -> str:
    """A stored body as it leaves: its personal link and its single-use key put back."""
    text = text if link is None else link_tokens.restore(text, link, html=html)
    return text if key is None else link_tokens.put_key(text, key)


def single_message(notice: OutboxNotice, sent_at: datetime | None = None,
                   settings: LinkSettings | None = None) -> Message:
    """The message carrying one notice, as it was rendered when queued, with its personal link
    signed again (`personal_link`) or its single-use key derived again (`staff_key`), leaving at
    `sent_at`."""
    link, key = personal_link(notice, settings), staff_key(notice, settings)
    return Message(
        recipient=Recipient(notice.recipient_email, notice.recipient_name),
        subject=notice.subject, text=_restored(notice.body_text, link, key),
        html=_restored(notice.body_html, link, key, html=True),
        message_id=notice.message_id, kind=notice.kind, key=notice.dedup_key,
        created_at=notice.created_at,
        stem=f"{notice.created_at:%Y%m%d-%H%M}-{notice.id or 0:05d}-{notice.kind}",
        notices=(notice.id,) if notice.id is not None else (),
        calendar=notice.calendar, sent_at=sent_at,
    )


def digest_message(group: Sequence[OutboxNotice], context: Mapping[str, Any], at: datetime,
                   overrides: Mapping[str, str] | None = None, settings: LinkSettings | None = None) -> Message:
    """One message listing several notices to the same person, each once, from each notice's
    stored core text. Its content derives from the notices it carries, not from the moment it
    leaves: its Message-ID (from their sorted keys) and its subject (how many, and the days they
    were planned for), so a redelivered digest is the same message, and one that leaves after an
    outage says which days it covers. Its `Date:` is `at`, the instant it leaves.
    The personal links the notices carry (`personal_link`) come with them: once in the footer when
    every notice carries the same one, otherwise each under its own notice (a manager's notices
    about several pilots lead to several pages).
    """
    unique = list({n.dedup_key: n for n in group}.values())
    planned = {n.dedup_key: n.planned_at or n.deliver_after for n in unique}
    unique.sort(key=lambda n: (planned[n.dedup_key], n.id or 0))
    days = sorted({paris(when).date() for when in planned.values()})
    noon = {day: max(w for w in planned.values() if paris(w).date() == day) for day in days}
    carried = {n.dedup_key: personal_link(n, settings) for n in unique}
    links = {link for link in carried.values() if link}
    shared = next(iter(links)) if len(links) == 1 and all(carried.values()) else None
    items = [{"subject": n.subject, "jour": planned[n.dedup_key], "lien": None if shared else carried[n.dedup_key],
              "text": _restored(n.core_text, carried[n.dedup_key], staff_key(n, settings))}
             for n in unique]
    rendered = render_notice(NoticeKind.DIGEST, {**context, "elements": items, "jour": noon[days[0]],
                                                 "jours": [noon[d] for d in days], "lien": shared}, overrides)
    key = digest_key([n.dedup_key for n in unique])
    first = unique[0]
    dated = max(planned.values())
    return Message(
        recipient=Recipient(first.recipient_email, first.recipient_name),
        subject=rendered.subject, text=rendered.text, html=rendered.html,
        message_id=message_id(key), kind=NoticeKind.DIGEST.value, key=key, created_at=dated,
        stem=f"{dated:%Y%m%d-%H%M}-{min(n.id or 0 for n in unique):05d}-{NoticeKind.DIGEST.value}",
        notices=tuple(sorted(n.id for n in unique if n.id is not None)), sent_at=at,
    )
