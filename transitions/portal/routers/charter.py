"""The charter, signed on the page of any of its three parties (territory, Cerdd, consultancy)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from models.charter import Channel, sign_charter
from models.charter_text import link_used
from models.errors import InvalidInput
from models.read.pilot import pilot_of
from models.tables import CharterParty
from transitions.portal.deps import FormName, acting, charter_rule
from transitions.portal.state import Act
from transitions.portal.templating import see_other

router = APIRouter()

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
