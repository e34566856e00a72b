"""The back office's deliverables (`/equipe/livrables`, issue 23): every pilot's deliverables and
the requests for a new due date, one deliverable's page and its files to download, accepted or
returned with a comment (`models.deliverables.accept`, `return_for_rework`: what `transitions
deliverable accept|return` calls), a request granted or refused (`decide_due_date`: `transitions
deliverable grant|refuse`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models import deliverables
from models.errors import InvalidInput, Refused
from models.read.paging import search_text
from models.read.team_deliverables import (
    deliverable_by_id,
    deliverable_file,
    deliverable_sheet,
    deliverables_screen,
    request_deliverable,
)
from models.staff import StaffAct, actor
from transitions.portal.deps import PageAsked, RowId, StaffDep, staff_form
from transitions.portal.fields import paris_input
from transitions.portal.staff_state import StaffAction, staff_html

router = APIRouter(prefix="/equipe")


def _back(request: Request, deliverable_id: int, done: str, fragment: str = "examen") -> RedirectResponse:
    path = request.app.url_path_for("staff_deliverable", deliverable_id=deliverable_id)
    return RedirectResponse(f"{path}?fait={done}#{fragment}", status_code=303)


@router.get("/livrables", response_class=HTMLResponse, name="staff_deliverables")
def listing(seen: StaffDep, number: PageAsked, recherche: str | None = None) -> HTMLResponse:
    shown = deliverables_screen(seen.ctx, seen.now, number, search_text(recherche))
    return staff_html(seen, "equipe_livrables.html", section="/equipe/livrables",
                      title="Les livrables du prestataire", blocs=shown.lines, liste=shown, maintenant=seen.now)


@router.get("/livrables/{deliverable_id}", response_class=HTMLResponse, name="staff_deliverable")
def deliverable_page(deliverable_id: RowId, seen: StaffDep, fait: str | None = None) -> HTMLResponse:
    sheet = deliverable_sheet(seen.ctx, deliverable_id, seen.now)
    return staff_html(seen, "equipe_livrable.html", section="/equipe/livrables",
                      title=f"Livrable « {sheet.title} » ({sheet.pilot})", done=fait,
                      fiche=sheet, maintenant=seen.now, jeton=seen.form)


@router.get("/livrables/{deliverable_id}/fichiers/{handed_file_id}", name="staff_deliverable_file")
def download(deliverable_id: RowId, handed_file_id: RowId, seen: StaffDep) -> Response:
    """The file as handed in: its media type (recognised by content at the hand-in), always an
    attachment, never sniffed (`nosniff` with every answer), never cached."""
    found = deliverable_file(seen.ctx, deliverable_id, handed_file_id)
    return Response(found.content, media_type=found.media_type,
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
                             "x-content-type-options": "nosniff"})


@router.post("/livrables/{deliverable_id}/accepter", name="staff_deliverable_accept")
def accept(request: Request, deliverable_id: RowId,
           action: Annotated[StaffAction, staff_form("accepter-livrable", StaffAct.REVIEW_DELIVERABLES)]) -> Response:
    deliverable = deliverable_by_id(action.ctx, deliverable_id)
    changed = deliverables.accept(action.ctx, deliverable, at=action.at, by=actor(action.member))
    return _back(request, deliverable_id, "livrable-accepte" if changed else "livrable-deja-accepte")


@router.post("/livrables/{deliverable_id}/renvoyer", name="staff_deliverable_return")
def send_back(request: Request, deliverable_id: RowId,
              action: Annotated[StaffAction, staff_form("renvoyer-livrable", StaffAct.REVIEW_DELIVERABLES)],
              ) -> Response:
    deliverable = deliverable_by_id(action.ctx, deliverable_id)
    due = action.field("echeance")
    deliverables.return_for_rework(action.ctx, deliverable, comment=action.field("commentaire"), at=action.at,
                                   due=paris_input(due) if due else None, by=actor(action.member))
    return _back(request, deliverable_id, "livrable-renvoye")


@router.post("/livrables/demandes/{request_id}", name="staff_due_date_decide")
def decide(request: Request, request_id: RowId,
           action: Annotated[StaffAction, staff_form("decider-report", StaffAct.DECIDE_DUE_DATES)]) -> Response:
    choice = action.field("decision")
    if choice not in ("accorder", "refuser"):
        raise InvalidInput("Choisissez d'accorder ou de refuser la demande. Rien n'a été enregistré.")
    deliverable_id = request_deliverable(action.ctx, request_id)
    if not deliverables.decide_due_date(action.ctx, request_id, grant=choice == "accorder", at=action.at,
                                        by=actor(action.member)):
        raise Refused("Cette demande de report est déjà décidée : votre décision n'a pas été prise en compte. "
                      "Rechargez la page pour voir la décision.")
    return _back(request, deliverable_id, "report-accorde" if choice == "accorder" else "report-refuse", "demandes")
