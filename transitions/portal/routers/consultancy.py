"""The consultancy's pages: each pilot's deliverables (hand in a file, ask for a new due date) and
charters, for one pilot or for every pilot."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from models.attachments import MAX_BYTES
from models.deliverables import hand_in_file, request_due_date
from models.errors import InvalidInput
from models.read.calendar import FEED_EVENTS
from models.read.consultancy import consultancy_page, deliverable_of
from models.tables import CharterParty
from transitions.portal.deps import FormName, PageAsked, acting, party_rule, visit
from transitions.portal.fields import paris_input
from transitions.portal.state import Act, Visit
from transitions.portal.templating import page, see_other

router = APIRouter()
consultant = party_rule(CharterParty.CONSULTANCY)
Consultancy = Annotated[Visit, visit(consultant)]


@router.get("/l/{token}/prestataire", response_class=HTMLResponse, name="consultancy")
@router.get("/l/{token}/prestataire/{siren}", response_class=HTMLResponse, name="consultancy_pilot")
def consultancy(request: Request, seen: Consultancy, number: PageAsked, siren: str | None = None,
                fait: str | None = None) -> HTMLResponse:
    screen = consultancy_page(seen.ctx, siren, seen.now, number)
    return page(request, seen, "prestataire.html", "Le prestataire : livrables et charte", fait, blocs=screen.blocks,
                pages=screen.pager, evenements_max=FEED_EVENTS)


def _hand_in_form(siren: str, key: str) -> FormName:
    return lambda ctx: f"remise:{deliverable_of(ctx, siren, key).id}"


def _due_date_form(siren: str, key: str) -> FormName:
    return lambda ctx: f"report:{deliverable_of(ctx, siren, key).id}"


def _upload(form: FormData) -> UploadFile:
    upload = form.get("fichier")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise InvalidInput("Choisissez le fichier du livrable. Rien n'a été enregistré.")
    return upload


@router.post("/l/{token}/prestataire/{siren}/livrable/{key}/remise", name="consultancy_hand_in")
def hand_in(request: Request, siren: str, key: str,
            act: Annotated[Act, acting(_hand_in_form, consultant, _upload, max_files=1, max_fields=10)]) -> Response:
    upload = _upload(act.form)
    changed = hand_in_file(act.ctx, deliverable_of(act.ctx, siren, key), filename=upload.filename or "",
                           data=upload.file.read(MAX_BYTES + 1), at=act.now, by="prestataire")
    return see_other(request, "consultancy_pilot", "remise" if changed else "deja-remis", f"livrable-{quote(key)}",
                     token=act.token, siren=siren)


@router.post("/l/{token}/prestataire/{siren}/livrable/{key}/report", name="consultancy_due_date")
def ask_due(request: Request, siren: str, key: str,
            act: Annotated[Act, acting(_due_date_form, consultant)]) -> Response:
    request_due_date(act.ctx, deliverable_of(act.ctx, siren, key), to=paris_input(act.field("echeance")),
                     reason=act.field("motif", multiline=True), at=act.now)
    return see_other(request, "consultancy_pilot", "demande", f"livrable-{quote(key)}", token=act.token, siren=siren)
