"""The back office's pilot pages, `/equipe/pilotes` and `/equipe/pilotes/{siren}` (issue 23):
each pilot's charter (who signed, the text's SHA-256, the deadline, its signature certificate as
PDF or HTML) and progress (phases, milestones); « Prolonger le délai »
(`models.charter.extend_charter`, as `transitions charter extend`) and « Retirer le pilote » after a
confirmation page naming the application offered the place (`models.withdrawal.withdraw`, as
`transitions pilot withdraw`; direction only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.charter import extend_charter
from models.clock import format_number
from models.errors import InvalidInput, NotFound
from models.read.charter_certificate import charter_certificate
from models.read.paging import search_text
from models.read.pilot import pilot_of
from models.read.staff_pilots import pilot_board, pilots_board
from models.staff import StaffAct, actor, may
from models.text import require_text
from models.withdrawal import may_withdraw, withdraw
from reports.certificate import FORMATS, certificate_file
from transitions.portal.deps import PageAsked, StaffDep, require, staff_form
from transitions.portal.fields import field, paris_input
from transitions.portal.staff_state import StaffAction, StaffVisit, staff_html

router = APIRouter(prefix="/equipe")
EXTEND, WITHDRAW = "prolonger-charte", "retirer-pilote"
SECTION = "/equipe/pilotes"
Withdrawer = Annotated[StaffVisit, require(StaffAct.WITHDRAW_PILOT)]


@router.get("/pilotes", response_class=HTMLResponse, name="staff_pilots")
def pilots_page(seen: StaffDep, number: PageAsked, recherche: str | None = None) -> HTMLResponse:
    listing = pilots_board(seen.ctx, seen.now, number, search_text(recherche))
    return staff_html(seen, "equipe_pilotes.html", "Territoires pilotes", section=SECTION,
                      ecran=listing.lines, liste=listing, maintenant=seen.now)


@router.get("/pilotes/{siren}", response_class=HTMLResponse, name="staff_pilot")
def pilot_page(seen: StaffDep, siren: str, fait: str | None = None) -> HTMLResponse:
    board = pilot_board(seen.ctx, pilot_of(seen.ctx, siren), seen.now)
    return staff_html(seen, "equipe_pilote.html", f"Territoire pilote : {board.name}", done=fait,
                      section=SECTION, ecran=board, maintenant=seen.now, jeton=seen.form, formulaire=EXTEND,
                      peut_prolonger=bool(may(seen.member, StaffAct.EXTEND_CHARTER)),
                      peut_retirer=bool(may(seen.member, StaffAct.WITHDRAW_PILOT)))


@router.get("/pilotes/{siren}/certificat.{certificate_format}", name="staff_pilot_certificate")
def certificate_download(seen: StaffDep, siren: str, certificate_format: str) -> Response:
    if certificate_format not in FORMATS:
        raise NotFound("Ce format de certificat n'existe pas (PDF ou HTML).")
    body, media, name = certificate_file(charter_certificate(seen.ctx, pilot_of(seen.ctx, siren), seen.now),
                                         certificate_format)
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.post("/pilotes/{siren}/charte", name="staff_pilot_extend")
def extend_post(siren: str, action: Annotated[StaffAction, staff_form(EXTEND, StaffAct.EXTEND_CHARTER)]) -> Response:
    pilot = pilot_of(action.ctx, siren)
    reason = require_text(field(action.form, "motif", multiline=True), "Motif", max_length=2000)
    changed = extend_charter(action.ctx, pilot, to=paris_input(action.field("echeance")), reason=reason,
                             at=action.at, by=actor(action.member))
    return _back(siren, "charte-prolongee" if changed else "charte-inchangee")


@router.get("/pilotes/{siren}/retrait", response_class=HTMLResponse, name="staff_pilot_withdrawal")
def withdrawal_page(seen: Withdrawer, siren: str) -> HTMLResponse:
    board = pilot_board(seen.ctx, pilot_of(seen.ctx, siren), seen.now)
    return staff_html(seen, "equipe_retrait.html", f"Retirer {board.name} du programme ?", section=SECTION,
                      ecran=board, jeton=seen.form, formulaire=WITHDRAW, nombre=format_number)


@router.post("/pilotes/{siren}/retrait", name="staff_pilot_withdraw")
def withdraw_post(siren: str,
                  action: Annotated[StaffAction, staff_form(WITHDRAW, StaffAct.WITHDRAW_PILOT)]) -> Response:
    pilot = pilot_of(action.ctx, siren)
    if action.field("confirme") != "oui":
        raise InvalidInput("Cochez la case de confirmation pour retirer le pilote. Rien n'a été enregistré.")
    reason = require_text(field(action.form, "motif", multiline=True), "Motif du retrait", max_length=2000)
    may_withdraw(pilot, action.at).enforce()  # twice (another tab): said, not silently ignored
    withdraw(action.ctx, pilot, reason=reason, at=action.at, by=actor(action.member))
    return _back(siren, "pilote-retire")


def _back(siren: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/equipe/pilotes/{siren}?fait={done}", status_code=303)
