"""The call's public pages, without a link: the call itself (`/appel/<slug>`), its form to download
(.docx, .odt), and « Commencer », which mails the lead's draft link (never shown here)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from documents.annex import annex_docx, annex_odt
from models import drafts
from models.attachments import MEDIA_TYPES
from models.errors import InvalidInput, Refused
from models.read.call import call_screen
from transitions.portal.deps import PortalDep, form_token
from transitions.portal.errors import http_status
from transitions.portal.fields import field
from transitions.portal.state import Portal

router = APIRouter()
START_FORM = "commencer"
SENT = {drafts.Started.NEW: "Un lien vous a été envoyé à l'adresse indiquée : il ouvre le brouillon de votre "
                            "candidature. Vérifiez votre messagerie, et vos indésirables.",
        drafts.Started.EXISTING: "Une candidature en ligne est déjà ouverte pour cet EPCI : son lien vient d'être "
                                 "renvoyé aux adresses enregistrées pour elle (au plus un envoi toutes les 15 "
                                 "minutes). Adressez-vous à ces personnes, ou au Cerdd."}


def _render(portal: Portal, template: str, title: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = portal.env.get_template(template).render(titre=title, message=None, public=True, **values)
    return HTMLResponse(html, status_code=status)


@router.get("/appel/{slug}", response_class=HTMLResponse, name="call")
def call_page(portal: PortalDep, slug: str) -> HTMLResponse:
    with portal.public(slug) as ctx:
        screen = call_screen(ctx, portal.present(ctx))
    return _render(portal, "appel.html", f"Appel à candidature : {screen.title}", ecran=screen,
                   titre_programme=screen.title)


def _annex(portal: Portal, slug: str, kind: str) -> Response:
    with portal.public(slug) as ctx:
        data = (annex_docx if kind == "docx" else annex_odt)(ctx.definition)
    return Response(data, media_type=MEDIA_TYPES[kind],
                    headers={"content-disposition": f'attachment; filename="formulaire-{slug}.{kind}"'})


@router.get("/appel/{slug}/formulaire.docx", name="call_form_docx")
def form_docx(portal: PortalDep, slug: str) -> Response:
    return _annex(portal, slug, "docx")


@router.get("/appel/{slug}/formulaire.odt", name="call_form_odt")
def form_odt(portal: PortalDep, slug: str) -> Response:
    return _annex(portal, slug, "odt")


def _start_page(portal: Portal, slug: str, *, status: int = 200, sent: str | None = None,
                problem: InvalidInput | Refused | None = None, typed: dict[str, str] | None = None) -> HTMLResponse:
    with portal.public(slug) as ctx:
        screen = call_screen(ctx, portal.present(ctx))
    token = portal.form(drafts.START_BEARER, START_FORM)
    return _render(portal, "commencer.html", "Commencer une candidature en ligne", status, ecran=screen, jeton=token,
                   envoye=sent, erreur=problem, saisi=typed or {}, titre_programme=screen.title)


@router.get("/appel/{slug}/commencer", response_class=HTMLResponse, name="call_start")
def start_form(portal: PortalDep, slug: str) -> HTMLResponse:
    return _start_page(portal, slug)


async def _small_form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=6, max_part_size=4096)


@router.post("/appel/{slug}/commencer", response_class=HTMLResponse, name="call_start_post")
def start(portal: PortalDep, slug: str, form: Annotated[FormData, Depends(_small_form)]) -> HTMLResponse:
    """The register answers at once; an accepted lead's draft link is mailed, never shown."""
    typed = {"siren": field(form, "siren")[:40], "courriel": field(form, "courriel")[:320]}
    try:
        with portal.starting(slug, form_token(form), drafts.START_BEARER, START_FORM) as (ctx, now, at):
            outcome = drafts.start(ctx, siren=typed["siren"], email=typed["courriel"], at=at, now=now)
    except (InvalidInput, Refused) as exc:
        return _start_page(portal, slug, status=http_status(exc), problem=exc, typed=typed)
    return _start_page(portal, slug, sent=SENT[outcome])
