"""The portal's FastAPI application: one page per bearer of a personal link, every form a POST with
a one-time signed token, every action one transaction calling the domain functions the command
line calls, every refusal a French page with its HTTP status.

`create_app(database_url, secret, clock=…)`: `clock` gives the instant of every web action (tests
living in 2015 inject theirs). By default links and forms are checked against the real time, and
web actions happen at the programme's present (`ProgrammeContext.present`): the real time for a live
programme, the last tick for a replayed one (the 2015 demo's portal acts at the end of its
replay, not in the year it is opened).

The pages are in `routers/` (one per audience), what they receive in `deps.py`, what they show in
`models.read`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from config.settings import get_settings
from models.db import PoolSize, get_engine
from models.read.pilot_year import YEARS
from transitions.portal import errors
from transitions.portal.delivery import ImmediateDelivery
from transitions.portal.errors import http_status
from transitions.portal.middleware import BODY_LIMIT, Admission, BoundQueue, InFlight, LimitBody
from transitions.portal.routers import (
    applicant,
    call,
    cerdd,
    charter,
    consultancy,
    jury,
    legal,
    partner,
    public,
    staff,
    staff_access,
    staff_applications,
    staff_deliverables,
    staff_jury,
    staff_notices,
    staff_people,
    staff_pilots,
    staff_programme,
    staff_report,
    staff_sessions,
    territory,
)
from transitions.portal.state import Portal
from transitions.portal.templating import environment, error_html


def create_app(database_url: str, secret: str, *, clock: Callable[[], datetime] | None = None,
               programme: str | None = None, publish_events: bool = False,
               deliver_at_once: bool = False, concurrency: int | None = None,
               pool_timeout: float | None = None, queue: int | None = None) -> FastAPI:
    """The portal on `database_url`, its links and forms signed with `secret`; `deliver_at_once`: what
    an act queues that leaves at once is sent right after it (`delivery.ImmediateDelivery`).
    `concurrency` (PORTAL_CONCURRENCY) requests at once (`middleware.Admission`; the others wait
    their turn), on as many database connections, each waiting `pool_timeout` seconds
    (PORTAL_POOL_TIMEOUT) at most for one (then 503): `sizing`; `queue` (PORTAL_QUEUE) more waiting
    their turn, and beyond them 503 at once (`middleware.BoundQueue`; `app.state.requests`, the
    requests it counts)."""
    if len(secret) < 32:
        raise ValueError("le secret du portail doit compter au moins 32 caractères")
    settings = get_settings()
    threads = concurrency or settings.portal_concurrency
    waiting = queue if queue is not None else settings.queue_length(threads)
    lifespan = sizing(database_url, threads, pool_timeout)
    portal = Portal(database_url, secret, clock or (lambda: datetime.now(UTC)), programme, environment(),
                    publish_events, fixed_clock=clock is not None,
                    deliver=ImmediateDelivery(database_url, secret) if deliver_at_once else None)
    app = FastAPI(title="Transitions — portail", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.requests = InFlight(threads + waiting)

    async def busy(scope: Scope, receive: Receive, send: Send) -> None:
        errors.log_busy(portal, "trop de requêtes en attente d'un fil (PORTAL_QUEUE)")
        answer = errors.unavailable(portal, Request(scope, receive), errors.BUSY_RETRY_AFTER, errors.BUSY)
        await answer(scope, receive, send)

    app.add_middleware(Admission, limit=threads)  # innermost: BoundQueue counts the requests waiting here
    app.add_middleware(BoundQueue, requests=app.state.requests, refuse=busy)  # inside LimitBody: its headers
    app.add_middleware(LimitBody, render_error=lambda status, text: error_html(portal.env, status, text))
    app.state.portal = portal
    YEARS.size = settings.portal_kept_years
    portal.outage.watch(get_engine(database_url))
    errors.install(app, portal)
    # the order paths are tried in
    for audience in (public, legal, call, applicant, partner, territory, charter, cerdd, consultancy, jury, staff,
                     staff_access, staff_applications, staff_notices, staff_report, staff_sessions,
                     staff_deliverables, staff_people, staff_jury, staff_pilots, staff_programme):
        answer_head(audience.router)
        app.include_router(audience.router)
    return app


POOL_BESIDE = 2
"""Connections beyond the portal's concurrency: a tick or a delivery `transitions serve` runs in the
same process as the portal."""


def sizing(database_url: str, threads: int, pool_timeout: float | None,
           ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The engine of `database_url` made with a pool of `threads` connections (+ POOL_BESIDE),
    a checkout waiting `pool_timeout` s at most; returns the app's lifespan, which runs the
    handlers on `threads` threads (AnyIO's limiter: FastAPI runs every plain `def` there).
    A request holds a connection only while it reads or acts, and no more requests than threads
    are admitted at once (`middleware.Admission`), so they suffice; the requests beyond wait their
    turn (as many as PORTAL_QUEUE, `middleware.BoundQueue`), and one that waits for a connection
    longer than `pool_timeout` is answered 503 (`errors.install`). When the app stops, the refusals
    counted and not yet logged are (`outage.BusyLog.flush`)."""
    get_engine(database_url, PoolSize(threads + POOL_BESIDE, pool_timeout or get_settings().portal_pool_timeout))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield
        portal = getattr(app.state, "portal", None)
        if portal is not None:  # the refusals counted and not yet told, before the process ends
            portal.busy.flush()

    return lifespan


def answer_head(router: APIRouter) -> None:
    """RFC 9110 §9.3.2: what answers GET answers HEAD (monitoring probes, mail link scanners)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.methods and "GET" in route.methods:
            route.methods.add("HEAD")


__all__ = ["BODY_LIMIT", "create_app", "http_status"]
