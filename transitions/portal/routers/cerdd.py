"""The Cerdd's page for a pilot: its charter, every pilot's progress, the due-date requests it
decides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.deliverables import decide_due_date
from models.errors import InvalidInput, Refused
from models.read.overview import overview_screen, request_of
from models.read.pilot import pilot_of
from models.tables import CharterParty
from models.wording import of_territory
from transitions.portal.deps import FormName, PageAsked, RowId, acting, party_rule, pilot_visit
from transitions.portal.state import Act, PilotVisit
from transitions.portal.templating import page, see_other

router = APIRouter()
Cerdd = Annotated[PilotVisit, pilot_visit(CharterParty.ORGANISER)]


@router.get("/l/{token}/cerdd/{siren}", response_class=HTMLResponse, name="cerdd")
def overview(request: Request, seen: Cerdd, number: PageAsked, fait: str | None = None) -> HTMLResponse:
    screen = overview_screen(seen.ctx, seen.pilot, seen.now, number)
    return page(request, seen, "cerdd.html", f"Le Cerdd : charte {of_territory(seen.pilot.name)} et vue d'ensemble",
                fait, ecran=screen, pilote=seen.pilot, siren=seen.siren)


def _decision_form(siren: str, number: RowId) -> FormName:
    return lambda ctx: f"decision:{request_of(ctx, pilot_of(ctx, siren), number).id}"


@router.post("/l/{token}/cerdd/{siren}/demande/{number}", name="cerdd_decide")
def decide(request: Request, siren: str, number: RowId,
           act: Annotated[Act, acting(_decision_form, party_rule(CharterParty.ORGANISER))]) -> Response:
    choice = act.field("decision")
    if choice not in ("accorder", "refuser"):
        raise InvalidInput("Choisissez d'accorder ou de refuser la demande. Rien n'a été enregistré.")
    if not decide_due_date(act.ctx, number, grant=choice == "accorder", at=act.now):
        raise Refused("Cette demande de report est déjà décidée (sans doute depuis un autre onglet) : "
                      "votre décision n'a pas été prise en compte. Rechargez la page pour voir la décision.")
    return see_other(request, "cerdd", "decision", "demandes", token=act.token, siren=siren)
