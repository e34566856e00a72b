"""What answers without a personal link (the root, monitoring, the stylesheet, the icon) and a
link's own address, which leads to its bearer's page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from models.context import load_ctx
from models.db import session_scope
from transitions.portal.deps import PortalDep, any_bearer, visit
from transitions.portal.state import Visit
from transitions.portal.templating import error_html
from transitions.portal.urls import home_path

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()


@router.get("/sante", response_class=PlainTextResponse, name="health")
def health(portal: PortalDep) -> PlainTextResponse:
    """For monitoring: 200 « ok » when the database answers, 503 otherwise."""
    try:
        with session_scope(portal.database_url) as session:
            load_ctx(session, portal.programme)
    except Exception:
        return PlainTextResponse("base de données injoignable\n", status_code=503)
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


@router.get("/l/{token}/", response_class=HTMLResponse, name="home_slash")
@router.get("/l/{token}", response_class=HTMLResponse, name="home")
def home(seen: Annotated[Visit, visit(any_bearer)]) -> Response:
    """A link's own address: its bearer's page (the page mailed links name, `models.links.home_path`)."""
    return RedirectResponse(home_path(seen.bearer, seen.token), status_code=303)
