"""The call's mailbox as a flow, `releve-candidatures` (issue 22): each message waiting becomes an
application, a reply or « À revoir » (`models.mailbox.receive`), one transaction per message, and
is moved after its commit. Killed at any point, the next run finds what was committed in the
ledger and only moves those messages: nothing doubled, nothing lost.

`read_mailbox` is the plain loop (the CLI door and the tests call it); the flow wraps it in one task."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.states import State
from sqlalchemy.exc import OperationalError

from config.settings import Settings, get_settings
from documents.annex import read_annex
from flows.common import instant_or_now, run_name
from models.context import load_ctx
from models.db import session_scope
from models.errors import Unavailable
from models.mailbox import AnnexReader, Arrival, goes_to_review, receive
from models.mailparse import oversized, parse_mail
from models.tables import label
from notifications.inbox import Envelope, Inbox, Vanished, open_inbox
from notifications.render import portal_linker, render_notice


@dataclass
class MailboxReport:
    """What a run did: messages processed per outcome (`models.tables.MailOutcome` values, those
    already in the ledger under « deja_traite »), moved, and left for later (arrived after `at`)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    moved: int = 0
    later: int = 0

    def summary(self) -> str:
        parts = [f"{n} {label(word)}" for word, n in sorted(self.outcomes.items())]
        return (f"{sum(self.outcomes.values())} courriel(s) relevé(s)" + (f" ({', '.join(parts)})" if parts else "")
                + f", {self.moved} rangé(s)" + (f", {self.later} arrivé(s) après l'instant de relève" if self.later
                                                 else ""))


def process_one(url: str, inbox: Inbox, envelope: Envelope, *, at: datetime, settings: Settings,
                programme: str | None = None, reader: AnnexReader | None = read_annex) -> str:
    """Read one message, record what it causes in one transaction, then move it; returns its outcome
    (« deja_traite » when the ledger knew it: it is only moved; or when another run, at the same
    time, took it first: it is gone from the folder)."""
    try:
        if envelope.size > settings.mail_max_bytes:
            mail = oversized(inbox.header(envelope.uid), envelope.size, max_bytes=settings.mail_max_bytes)
        else:
            mail = parse_mail(inbox.message(envelope.uid), max_bytes=settings.mail_max_bytes)
    except Vanished:
        return "deja_traite"
    with session_scope(url) as session:
        # SQLite: the write lock first, so that two runs take turns (PostgreSQL: `submit` locks the programme).
        ctx = load_ctx(session, programme, renderer=render_notice, linker=portal_linker(), lock=True)
        row, fresh = receive(ctx, Arrival(mail, envelope.received_at), at=at, read_annex=reader)
        outcome, review = str(row.outcome), goes_to_review(row)
    try:
        inbox.move(envelope.uid, review=review)
    except Vanished:  # the other run recorded it first, then moved it
        return "deja_traite"
    return outcome if fresh else "deja_traite"


def read_mailbox(url: str, *, at: datetime, settings: Settings | None = None, programme: str | None = None,
                 inbox: Inbox | None = None, reader: AnnexReader | None = read_annex,
                 log: Callable[[str], None] = lambda _: None) -> MailboxReport:
    """Process every message that reached the mailbox by `at` (UTC), oldest first."""
    settings = settings or get_settings()
    report = MailboxReport()
    if inbox is None:
        with open_inbox(settings) as opened:
            return read_mailbox(url, at=at, settings=settings, programme=programme, inbox=opened, reader=reader,
                                log=log)
    for envelope in inbox.envelopes():
        if envelope.received_at > at:
            report.later += 1
            continue
        outcome = process_one(url, inbox, envelope, at=at, settings=settings, programme=programme, reader=reader)
        report.outcomes[outcome] += 1
        report.moved += 1
        log(f"courriel {envelope.uid} : {outcome}")
    return report


SECRET_BLOCK = "imap-password"
"""The Prefect Secret block holding the mailbox's password in a deployment (`prefect block create secret`)."""


def mailbox_settings() -> Settings:
    """The settings, IMAP_PASSWORD read from the Secret block `SECRET_BLOCK` when IMAP_HOST is set
    and the environment gives no password (a deployment keeps no secret in its configuration)."""
    if os.environ.get("IMAP_HOST") and not os.environ.get("IMAP_PASSWORD"):
        from prefect.blocks.system import Secret

        return Settings(imap_password=Secret.load(SECRET_BLOCK).get())  # type: ignore[union-attr]
    return get_settings()


def unavailable(task: object, task_run: object, state: State) -> bool:
    """Retry only when the mail server or the database could not be reached."""
    try:
        state.result()
    except (Unavailable, OperationalError):
        return True
    except Exception:  # noqa: BLE001 — anything else would fail again
        return False
    return False


@task(name="releve", retries=2, retry_delay_seconds=[30, 120], retry_condition_fn=unavailable)
def read_mailbox_task(at: datetime, programme: str | None = None) -> MailboxReport:
    """Read the mailbox once (I/O: retried when the server was unreachable; each message is processed once)."""
    settings = mailbox_settings()
    return read_mailbox(settings.database_url, at=at, settings=settings, programme=programme,
                        log=get_run_logger().info)


@flow(name="releve-candidatures", flow_run_name=run_name,
      description="Relève la boîte de l'appel : chaque courriel devient une candidature, une réponse "
                  "ou « À revoir », une seule fois.")
def mailbox_flow(at: datetime | None = None, programme: str | None = None) -> MailboxReport:
    """Read the call's mailbox at `at` (the reading instant; default: the scheduled or current time)."""
    report = read_mailbox_task(instant_or_now(at), programme)
    get_run_logger().info(report.summary())
    return report
