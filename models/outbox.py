"""The outbox: notices written in the caller's transaction, at most once per deduplication key."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, func, select

from models import audit, link_tokens
from models.clock import format_paris
from models.db import in_batches, insert_new_rows
from models.errors import NotFound, Refused
from models.identifiers import message_id
from models.notices import (
    CONTEXT,
    IMMEDIATE,
    NoticeKind,
    Recipient,
    Renderer,
    unique_recipients,
    worth_sending_until,
)
from models.programme import ProgrammeDefinition
from models.tables import Notice, NoticeStatus, Programme

_QUEUED = select(Notice.dedup_key).where(col(Notice.dedup_key).in_(bindparam("keys", expanding=True)))
"""The deduplication keys among `keys` already queued (built once, see `models.context._PROGRAMMES`)."""


def dedup_key(kind: NoticeKind, key: str, recipient: Recipient) -> str:
    """A notice's deduplication key, `kind:key:email` (the address in lower case): one notice per
    recipient and occasion, whoever asks for it and however often."""
    return f"{kind.value}:{key}:{recipient.email.lower()}"


def queued_keys(session: Session, keys: Collection[str]) -> set[str]:
    """Those of `keys` already in the outbox: one indexed query per 500 keys."""
    found = set[str]()
    for batch in in_batches(list(keys)):
        found.update(session.exec(_QUEUED, params={"keys": batch}))
    return found


def enqueue(
    session: Session,
    *,
    programme: Programme,
    definition: ProgrammeDefinition,
    renderer: Renderer,
    kind: NoticeKind,
    recipients: list[Recipient],
    key: str,
    context: dict[str, Any],
    at: datetime,
    deliver_after: datetime | None = None,
    calendar: Callable[[Recipient], str] | None = None,
    linker: Callable[[Recipient], str | None] | None = None,
    queued: Collection[str] | None = None,
    key_ref: link_tokens.KeyRef | None = None,
) -> int:
    """Render (with `renderer` and the programme's own wording) and queue one notice per
    recipient; returns how many were new.

    The deduplication key is `kind:key:email`: asking twice for the same notice queues it once.
    Apart from the kinds in `IMMEDIATE` (answers to a person's own action), a notice waits for a
    working day within the programme's sending hours (`WorkingCalendar.next_sending`); it expires
    at the instant its kind declares (`models.notices.WORTH_SENDING_UNTIL`).
    Raises ValueError for a context variable the kind does not declare (a programming error).
    `calendar`, if given, writes each recipient's iCalendar part (stored with the notice);
    `linker`, if given, each recipient's personal link to the portal (the templates' `lien`): the
    notice stores what its token is made of (`link_*`), never the link, and its bodies hold
    `link_tokens.LINK_PLACEHOLDER` in its place (delivery puts the link back, `models.link_tokens`).
    `key_ref`, for a staff member's invitation or reset: what its single-use key is derived from,
    stored as the notice's `link_version` (the row's number) and `link_expires`; the context's
    address holds `link_tokens.KEY_PLACEHOLDER` where the key goes (delivery derives it).
    `queued`, if given, holds every one of this call's keys already in the outbox, read by the
    caller for many calls at once (`queued_keys`): no query is made here. A key queued meanwhile
    by another transaction is still left out, by the insert itself.
    """
    unexpected = set(context) - CONTEXT[kind]
    if unexpected:  # a programming error: declare the variable in models.notices.CONTEXT
        raise ValueError(f"undeclared context for {kind.value}: {sorted(unexpected)}")
    leaves = deliver_after or at
    if kind not in IMMEDIATE:
        leaves = definition.calendar().next_sending(leaves)
    expires_at = worth_sending_until(kind, context)
    keyed = {dedup_key(kind, key, recipient): recipient for recipient in unique_recipients(recipients)}
    if queued is None:
        queued = queued_keys(session, keyed)
    rows: list[dict[str, Any]] = []
    for notice_key, recipient in keyed.items():
        if notice_key in queued:
            continue
        link = linker(recipient) if linker is not None else None
        common = {"programme": definition, "destinataire": recipient, "organisateur": definition.organiser,
                  "lien": link}
        rendered = renderer(kind, {**common, **context}, templates_of(programme))
        ref = link_tokens.reference(link)
        if link is not None and ref is None:  # a programming error: a linker writes `models.links` tokens
            raise ValueError("a notice's link must carry a personal link's token")
        if link is not None and ref is not None:  # what a reader of the database sees: no working link
            rendered = replace(rendered, text=link_tokens.strip(rendered.text, link),
                               html=link_tokens.strip(rendered.html, link, html=True),
                               core_text=link_tokens.strip(rendered.core_text, link))
        rows.append({
            "dedup_key": notice_key,
            "programme_id": programme.id,
            "kind": kind.value,
            "recipient_email": recipient.email,
            "recipient_name": recipient.name,
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "core_text": rendered.core_text,
            "created_at": at,
            "deliver_after": leaves,
            "planned_at": leaves,
            "expires_at": expires_at,
            "message_id": message_id(notice_key),
            "digest": kind.value in definition.reminders.digest and calendar is None,
            "calendar": calendar(recipient) if calendar is not None else None,
            "link_subject": ref.subject if ref else None,
            "link_person": ref.person if ref else None,
            "link_version": ref.version if ref else key_ref.token_id if key_ref else None,
            "link_expires": ref.expires if ref else key_ref.expires if key_ref else None,
        })
    # One INSERT for them all; a key a concurrent writer queued since it was read is left out.
    return insert_new_rows(session, Notice.__table__, rows, unique="dedup_key")  # type: ignore[attr-defined]


def templates_of(programme: Programme) -> Mapping[str, str]:
    """The programme's own wording (template name → source), stored when it was installed."""
    return programme.templates or {}


def notices(session: Session, status: str | None = None, limit: int = 200, *, kind: str | None = None,
            recipient: str | None = None, programme_id: int | None = None) -> list[Notice]:
    """The latest notices, optionally by status, kind, recipient address and programme (the back
    office shows its programme's only; the command line, every programme's)."""
    query = select(Notice).order_by(col(Notice.id).desc()).limit(limit)
    if programme_id is not None:
        query = query.where(Notice.programme_id == programme_id)
    if status is not None:
        query = query.where(Notice.status == status)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    if recipient is not None:
        query = query.where(func.lower(Notice.recipient_email) == recipient.lower())
    return list(session.exec(query).all())


def find_notice(session: Session, notice_id: int, programme_id: int | None = None) -> Notice:
    """The notice numbered `notice_id` (of the programme `programme_id` when given); NotFound otherwise."""
    notice = session.get(Notice, notice_id)
    if notice is None or (programme_id is not None and notice.programme_id != programme_id):
        raise NotFound(f"Aucun avis n°{notice_id} dans la boîte d'envoi.")
    return notice


def retry(session: Session, notice_id: int, *, at: datetime, by: str = "cli",
          programme_id: int | None = None) -> Notice:
    """Put a given-up (or waiting, or expired) notice back for delivery now, with a fresh attempt
    count and a fresh age (it is given up again only `DELIVERY_MAX_AGE` from now), audited
    (`avis.relance`) with `by` as its actor (`transitions outbox retry`, the back office's
    « Relancer », which gives its `programme_id`). NotFound for an unknown number or another
    programme's notice, Refused for a notice already sent."""
    notice = find_notice(session, notice_id, programme_id)
    if notice.status == NoticeStatus.SENT:
        sent = format_paris(notice.sent_at) if notice.sent_at else "?"
        raise Refused(f"L'avis n°{notice_id} a déjà été envoyé le {sent} : le renvoyer ferait un doublon.")
    before = notice.status
    _put_back(session, notice, at)
    audit.record(session, programme_id=notice.programme_id, at=at, actor=by, action="avis.relance", entity="notice",
                 entity_id=notice.id, summary=f"Avis n°{notice.id} ({notice.kind}) à {notice.recipient_email} "
                 "remis en envoi.", details={"avant": before})
    return notice


def retry_all(session: Session, *, at: datetime, kind: str | None = None,
              since: datetime | None = None) -> list[Notice]:
    """Put every given-up notice back (optionally only those of one kind, or created at or after
    `since`), as `retry` does one; returns them."""
    query = select(Notice).where(Notice.status == NoticeStatus.DEAD).order_by(col(Notice.id))
    if kind is not None:
        query = query.where(Notice.kind == kind)
    if since is not None:
        query = query.where(Notice.created_at >= since)
    dead = list(session.exec(query).all())
    for notice in dead:
        _put_back(session, notice, at)
    return dead


def _put_back(session: Session, notice: Notice, at: datetime) -> None:
    notice.status = NoticeStatus.PENDING
    notice.attempts = 0
    notice.deliver_after = at
    notice.planned_at = at  # its age, for giving up, counts from now
    notice.claimed_until = None
    notice.digest_id = None
    if notice.expires_at is not None and notice.expires_at <= at:
        notice.expires_at = None  # put back on purpose: the manager wants it sent anyway
    session.add(notice)


def pending_with_prefix(session: Session, prefix: str) -> int:
    """How many notices whose deduplication key starts with `prefix` are still waiting."""
    rows = session.exec(select(col(Notice.id)).where(col(Notice.dedup_key).startswith(prefix),
                                                     Notice.status == NoticeStatus.PENDING)).all()
    return len(rows)


def occasion(notice: Notice) -> str:
    """The occasion a notice was queued for: its deduplication key less the kind and the address
    (`pilote-3:diagnostic`, `livrable-8:0:3`, `session-5:0:2`)."""
    return notice.dedup_key[len(notice.kind) + 1:notice.dedup_key.rfind(":")]


def pending_about(session: Session, programme_id: int, subjects: Collection[str]) -> list[Notice]:
    """The notices of a programme still waiting whose occasion is about one of `subjects` (the first
    part of their key: `pilote-3`, `livrable-8`, `session-5`), oldest first."""
    wanted = set(subjects)
    if not wanted:
        return []
    about = or_(*(col(Notice.dedup_key).contains(f":{subject}:", autoescape=True) for subject in sorted(wanted)))
    rows = session.exec(select(Notice).where(Notice.programme_id == programme_id, Notice.status == NoticeStatus.PENDING,
                                             about).order_by(col(Notice.id))).all()  # the database narrows, then
    return [notice for notice in rows if occasion(notice).split(":", 1)[0] in wanted]  # the key's own parse decides


def cancel(session: Session, waiting: Collection[Notice], *, at: datetime, why: str) -> None:
    """Set aside notices still waiting that no longer make sense (their subject ended at `at`): recorded
    as expired at `at` with `why` as their last word (`outbox retry` still sends one on purpose)."""
    for notice in waiting:
        notice.status = NoticeStatus.EXPIRED
        notice.expires_at = at
        notice.claimed_until = None
        notice.last_error = why
        session.add(notice)

