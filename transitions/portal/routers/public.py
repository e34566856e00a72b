"""What answers without a personal link (the root, monitoring, the stylesheet, the icon) and a
link's own address, which leads to its bearer's page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from config.settings import get_settings
from models import links
from models.context import load_ctx
from models.db import session_scope
from notifications.render import render_notice
from transitions.portal import errors
from transitions.portal.deps import PortalDep, any_bearer, form_token, visit
from transitions.portal.state import Portal, Visit, write_lock
from transitions.portal.templating import error_html
from transitions.portal.urls import home_path

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()


HEALTH_THREADS: RunVar[CapacityLimiter] = RunVar("health_threads")
"""The health check's own thread (one per event loop): a probe is answered while every thread of the
pool (PORTAL_CONCURRENCY) is busy, and the requests waiting for one never wait behind it."""


def _health_limiter() -> CapacityLimiter:
    try:
        return HEALTH_THREADS.get()
    except LookupError:
        limiter = CapacityLimiter(1)
        HEALTH_THREADS.set(limiter)
        return limiter


@router.get("/sante", response_class=PlainTextResponse, name="health")
async def health(request: Request) -> PlainTextResponse:
    """For monitoring: 200 « ok » when the database answers; 503 with `Retry-After` when it is out of
    reach (or its disk full), logged once per outage as pages do (`errors.note_outage`). Anything
    else is a bug and answers 500 like any page. Outside the bound on waiting requests
    (`middleware.BoundQueue`), on a thread of its own (the pool's connections hold two beyond
    the threads)."""
    portal: Portal = request.app.state.portal  # not `PortalDep`: a plain-def dependency takes a thread
    portal.busy.flush()  # refusals counted since the last line are told now, not at the next refusal

    def probe() -> None:
        with session_scope(portal.database_url) as session:
            load_ctx(session, portal.programme)

    try:
        await anyio.to_thread.run_sync(probe, limiter=_health_limiter())
    except errors.OUTAGES as exc:
        if not errors.note_outage(portal, exc):
            raise
        return PlainTextResponse("base de données injoignable\n", status_code=503,
                                 headers={"retry-after": str(errors.RETRY_AFTER)})
    return PlainTextResponse("ok\n")


@router.get("/static/portail.css", name="stylesheet")
def stylesheet() -> Response:
    return Response((STATIC / "portail.css").read_bytes(), media_type="text/css; charset=utf-8",
                    headers={"cache-control": "public, max-age=3600"})


@router.get("/favicon.ico", name="favicon")
def favicon() -> Response:
    """No icon: 204, so browsers stop asking and log no error (the security headers are added)."""
    return Response(status_code=204, headers={"cache-control": "public, max-age=86400"})


@router.get("/", response_class=HTMLResponse, name="root")
def root(portal: PortalDep) -> HTMLResponse:
    return HTMLResponse(error_html(portal.env, 404, "Ce portail s'ouvre avec le lien personnel reçu par courriel. "
                                   "Sans lien, demandez-en un au Cerdd."), status_code=404)


async def small_form(request: Request) -> FormData:
    """A form of a few short fields (the one-time token)."""
    return await request.form(max_files=0, max_fields=4, max_part_size=4096)


RENEWED = ("Si ce lien vous était destiné, un nouveau lien personnel vient d'être envoyé à l'adresse électronique "
           "enregistrée pour vous (au plus un toutes les 15 minutes). Vérifiez votre messagerie, et vos indésirables. "
           "Sans message, demandez un lien au Cerdd.")


@router.post("/l/{token}/nouveau-lien", response_class=HTMLResponse, name="renew_link")
def renew_link(token: str, portal: PortalDep, form: Annotated[FormData, Depends(small_form)]) -> HTMLResponse:
    """« Recevoir un nouveau lien »: mailed to the address on file for the link's person, through the
    outbox; the page says the same whether anything was sent (a forged link: 403, nothing sent)."""
    settings = get_settings()
    now = portal.now()
    linker = links.notice_linker(lambda: links.LinkSettings(portal.secret, settings.portal_base_url,
                                                            settings.portal_link_days, issued=now))
    with session_scope(portal.database_url) as session:
        write_lock(session)
        ctx = load_ctx(session, portal.programme, renderer=render_notice, linker=linker)
        bearer, _, _ = links.signed_bearer(ctx, token, secret=portal.secret)
        links.use_form_token(session, portal.secret, form_token(form), bearer, links.RENEWAL_FORM, now)
        links.renew_link(ctx, token, secret=portal.secret, now=now, at=portal.present(ctx))
    html = portal.env.get_template("nouveau_lien.html").render(titre="Nouveau lien demandé", texte=RENEWED,
                                                               message=None, titre_programme=None)
    return HTMLResponse(html)


@router.get("/l/{token}/", response_class=HTMLResponse, name="home_slash")
@router.get("/l/{token}", response_class=HTMLResponse, name="home")
def home(seen: Annotated[Visit, visit(any_bearer)]) -> Response:
    """A link's own address: its bearer's page (the page mailed links name, `models.links.home_path`)."""
    return RedirectResponse(home_path(seen.bearer, seen.token), status_code=303)
