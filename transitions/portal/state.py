"""What every request works with: the portal (database, secret, clock, templates), the visit of a
page once its link is read, and the act of a form inside its one transaction."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment
from sqlmodel import Session
from starlette.datastructures import FormData

from config.settings import get_settings
from models import links
from models.context import ProgrammeContext, load_ctx
from models.db import reading_scope, session_scope
from models.errors import NotFound
from models.links import Bearer
from models.tables import Pilot
from notifications.render import portal_linker, render_notice
from transitions.portal.fields import field
from transitions.portal.outage import BusyLog, OutageLog

log = logging.getLogger("transitions.portail")

FORBIDDEN = "Ce lien personnel ne donne pas accès à cette page."


@dataclass
class Portal:
    """What every request handler needs: the database, the secret, the clock, the templates."""

    database_url: str
    secret: str
    clock: Callable[[], datetime]
    programme: str | None
    env: Environment
    publish_events: bool
    fixed_clock: bool = False
    """A clock was injected: it gives every instant, the programme's present included."""
    deliver: Callable[[datetime], None] | None = None
    """Called with an act's instant once it is committed, to send what leaves at once
    (`transitions.portal.delivery.ImmediateDelivery`); None: the next delivery run sends it."""
    outage: OutageLog = dataclasses.field(default_factory=lambda: OutageLog(log))
    """One log line when the database stops answering, one when it answers again."""
    busy: BusyLog = dataclasses.field(default_factory=lambda: BusyLog(log))
    """The lines about requests refused because the portal was full: at most one a minute per cause."""

    def delivered(self, as_of: datetime) -> None:
        """After an act's commit: the notices it queued that leave at once are sent now (if set)."""
        if self.deliver is not None:
            self.deliver(as_of)

    def now(self) -> datetime:
        """The instant links and forms are checked against (their expiry is real time)."""
        return self.clock().astimezone(UTC)

    def present(self, ctx: ProgrammeContext) -> datetime:
        """The instant of a web action on this programme: what it records and how pages read."""
        return self.now() if self.fixed_clock else ctx.present(self.now())

    @contextmanager
    def reading(self, token: str) -> Iterator[tuple[ProgrammeContext, Bearer]]:
        """A page's reads (`models.db.reading_scope`: no transaction on PostgreSQL, no write allowed):
        the programme and the link's bearer, checked."""
        with reading_scope(self.database_url) as session:
            ctx = load_ctx(session, self.programme, renderer=render_notice, linker=portal_linker())
            yield ctx, links.read_link(ctx, token, secret=self.secret, now=self.now())

    @contextmanager
    def acting(self, token: str, form_token: str | None, form: Callable[[ProgrammeContext], str],
               allowed: Callable[[Bearer], bool]) -> Iterator[tuple[ProgrammeContext, Bearer, datetime]]:
        """One transaction: the link checked, the person allowed, the form's token spent (`form`:
        how to find the form's name once the link is checked), then the caller's action; all
        committed together, or nothing; the domain's events published once committed."""
        before = self._bookmark()
        with session_scope(self.database_url) as session:
            write_lock(session)
            ctx = load_ctx(session, self.programme, renderer=render_notice, linker=portal_linker())
            now = self.now()
            bearer = links.read_link(ctx, token, secret=self.secret, now=now)
            if not allowed(bearer):
                raise links.LinkForbidden(FORBIDDEN)
            links.use_form_token(session, self.secret, form_token, bearer, form(ctx), now)
            present = self.present(ctx)
            yield ctx, bearer, present
        self._publish(before)
        self.delivered(present)

    def _bookmark(self) -> int | None:
        if not (self.publish_events and os.environ.get("PREFECT_API_URL")):
            return None
        from flows.events import bookmark  # imports Prefect: only with a server to publish to

        return bookmark()

    def _publish(self, before: int | None) -> None:
        if before is None:
            return
        from flows.events import publish_since  # imports Prefect: only with a server to publish to

        try:
            publish_since(before, only_with_server=True)
        except Exception:  # the facts are committed; an event lost is not worth an error page
            log.warning("événements Prefect non publiés", exc_info=True)

    @contextmanager
    def public(self, slug: str) -> Iterator[ProgrammeContext]:
        """The programme whose call's page the path names (`slug`), read without a link (NotFound:
        another slug)."""
        with session_scope(self.database_url) as session:
            yield programme_named(session, self.programme, slug)

    @contextmanager
    def starting(self, slug: str, form_token: str, bearer: Bearer, form: str,
                 ) -> Iterator[tuple[ProgrammeContext, datetime, datetime]]:
        """One transaction for a form without a personal link (« Commencer »): the programme of
        the path, the form's one-time token spent, notices carrying links signed with the
        portal's secret, valid from now (real time). Yields the context, the real time and the
        programme's present."""
        now = self.now()
        settings = get_settings()
        linker = links.notice_linker(lambda: links.LinkSettings(self.secret, settings.portal_base_url,
                                                                settings.portal_link_days, issued=now))
        with session_scope(self.database_url) as session:
            write_lock(session)
            ctx = programme_named(session, self.programme, slug, linker=linker)
            links.use_form_token(session, self.secret, form_token, bearer, form, now)
            present = self.present(ctx)
            yield ctx, now, present
        self.delivered(present)

    def check(self, token: str, allowed: Callable[[Bearer], bool]) -> None:
        """Refuse a bad, expired or revoked link, or a person without access, before the request's
        body is read (`acting` checks again in its transaction)."""
        with reading_scope(self.database_url) as session:
            ctx = load_ctx(session, self.programme, renderer=render_notice, linker=portal_linker())
            bearer = links.read_link(ctx, token, secret=self.secret, now=self.now())
            if not allowed(bearer):
                raise links.LinkForbidden(FORBIDDEN)

    def form(self, bearer: Bearer, name: str) -> str:
        """The one-time token of the form `name` for this bearer."""
        return links.form_token(self.secret, bearer, name, self.now())


NO_CALL = "Il n'y a pas d'appel à candidature à cette adresse."


def programme_named(session: Session, programme: str | None, slug: str,
                    linker: links.NoticeLinker | None = None) -> ProgrammeContext:
    """The programme `slug` if this portal serves it (NotFound otherwise, in the call's words)."""
    try:
        ctx = load_ctx(session, programme or slug, renderer=render_notice, linker=linker or portal_linker())
    except NotFound:
        raise NotFound(NO_CALL) from None
    if ctx.definition.slug != slug:
        raise NotFound(NO_CALL)
    return ctx


def write_lock(session: Session) -> None:
    """SQLite: take the write lock first, so two clicks at once take turns (PostgreSQL: the unique
    form token settles it)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and not session.in_transaction():
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def release(ctx: ProgrammeContext) -> None:
    """A page's reads are done: its transaction ends (what it read stays loaded) and its database
    connection goes back to the pool before the page renders, so a connection is held only while
    a request reads or acts (a late read would take one again, for the rest of the request)."""
    ctx.session.commit()


@dataclass(frozen=True)
class Visit:
    """A page's request once its link is read and its bearer allowed: the programme, the bearer,
    the programme's present, the link's token."""

    portal: Portal
    ctx: ProgrammeContext
    bearer: Bearer
    now: datetime
    token: str

    def form(self, name: str) -> str:
        """The one-time token of the form `name`, for the page to carry."""
        return self.portal.form(self.bearer, name)

    def release(self) -> None:
        """The page's reads are done: see `release`."""
        release(self.ctx)


@dataclass(frozen=True)
class PilotVisit(Visit):
    """A visit to one pilot's page (the pilot its address names)."""

    pilot: Pilot
    siren: str


@dataclass(frozen=True)
class Act:
    """A form's action inside its transaction: the link checked, its one-time token spent."""

    ctx: ProgrammeContext
    bearer: Bearer
    now: datetime
    token: str
    form: FormData

    def field(self, name: str, *, multiline: bool = False) -> str:
        """A text field of the form (see `fields.field`)."""
        return field(self.form, name, multiline=multiline)
