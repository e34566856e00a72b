"""A partner's page, by the personal link mailed to its contact when the lead asked it to confirm:
what the application says about it, « Confirmer » or « Décliner » until the jury meets
(`models.partners`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models import partners
from models.links import PARTNER, Bearer, holder
from transitions.portal.deps import acting, named, visit
from transitions.portal.state import Act, Visit
from transitions.portal.templating import page, see_other

router = APIRouter()
REFUSAL = "Ce lien personnel ne donne pas accès à cette demande de confirmation."
ANSWER_FORM = "reponse-partenaire"


def partner(bearer: Bearer, params: Mapping[str, Any]) -> bool:
    """The link of the request the path names (`lead`, `number`)."""
    return bearer.role == PARTNER and bearer.siren == f"{params.get('lead')}:{params.get('number')}"


Partner = Annotated[Visit, visit(partner, REFUSAL)]


@router.get("/l/{token}/partenaire/{lead}/{number}", response_class=HTMLResponse, name="partner")
def partner_page(request: Request, seen: Partner, lead: str, number: str, fait: str | None = None) -> HTMLResponse:
    row = partners.confirmation_of(seen.ctx, seen.bearer)
    return page(request, seen, "partenaire.html", f"Confirmation de partenariat : {row.lead_name}", fait,
                demande=row, verdict=partners.may_answer(seen.ctx, row, seen.now), lead=lead, number=number,
                formulaire=ANSWER_FORM)


@router.post("/l/{token}/partenaire/{lead}/{number}/repondre", name="partner_answer")
def answer(request: Request, lead: str, number: str,
           act: Annotated[Act, acting(named(ANSWER_FORM), partner, max_files=0, max_fields=4)]) -> Response:
    """« Confirmer » or « Décliner »: a later answer replaces the earlier one until the jury meets."""
    confirmed = partners.read_answer(act.field("reponse"))
    partners.answer(act.ctx, partners.confirmation_of(act.ctx, act.bearer), confirmed=confirmed, at=act.now,
                    by=f"portail:{holder(act.bearer)}")
    return see_other(request, "partner", "partenaire-confirme" if confirmed else "partenaire-decline",
                     token=act.token, lead=lead, number=number)
