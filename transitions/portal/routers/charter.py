"""The charter, signed on the page of any of its three parties (territory, Cerdd, consultancy), and
its signature certificate (a page, and a PDF or HTML file to download)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.charter import Channel, sign_charter
from models.charter_text import link_used
from models.errors import InvalidInput, NotFound
from models.read.charter_certificate import charter_certificate
from models.read.pilot import pilot_of
from models.tables import CharterParty
from reports.certificate import FORMATS, certificate_file
from transitions.portal.deps import FormName, acting, charter_rule, visit
from transitions.portal.state import Act, Visit
from transitions.portal.templating import page, see_other

router = APIRouter()
Party = Annotated[Visit, visit(charter_rule)]

PAGES = {CharterParty.TERRITORY: "territory", CharterParty.ORGANISER: "cerdd",
         CharterParty.CONSULTANCY: "consultancy_pilot"}
"""Each party's page, where a signature leads back to."""


def _charter_form(party: str, siren: str) -> FormName:
    return lambda ctx: f"charte:{pilot_of(ctx, siren).id}:{party}"


@router.post("/l/{token}/{party}/{siren}/charte", name="sign_charter")
def sign(request: Request, party: str, siren: str,
         act: Annotated[Act, acting(_charter_form, charter_rule)]) -> Response:
    pilot = pilot_of(act.ctx, siren)
    if act.field("lu") != "oui":
        raise InvalidInput("Cochez « J'ai lu la charte » avant de signer. Rien n'a été enregistré.")
    changed = sign_charter(act.ctx, pilot, party=party, signatory=act.field("signataire"), role=act.field("qualite"),
                           at=act.now, channel=Channel.PORTAL, via=link_used(act.ctx, act.bearer),
                           sha256=act.field("sha256"))
    return see_other(request, PAGES[CharterParty(party)], "signature" if changed else "deja-signe", "charte",
                     token=act.token, siren=siren)


@router.get("/l/{token}/{party}/{siren}/charte/certificat", response_class=HTMLResponse, name="charter_certificate")
def certificate_page(request: Request, seen: Party, party: str, siren: str) -> HTMLResponse:
    made = charter_certificate(seen.ctx, pilot_of(seen.ctx, siren), seen.now)
    back = str(request.app.url_path_for(PAGES[CharterParty(party)], token=seen.token, siren=siren)) + "#charte"
    return page(request, seen, "certificat.html", f"Certificat de signature : charte {made.pilot_name}", None,
                certificat=made, partie=party, siren=siren, retour=back)


@router.get("/l/{token}/{party}/{siren}/charte/certificat.{kind}", name="charter_certificate_file")
def certificate_download(seen: Party, siren: str, kind: str) -> Response:
    if kind not in FORMATS:
        raise NotFound("Ce format de certificat n'existe pas (PDF ou HTML).")
    body, media, name = certificate_file(charter_certificate(seen.ctx, pilot_of(seen.ctx, siren), seen.now), kind)
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})
