"""The back office's sessions (`/equipe/sessions`, issue 23): every pilot's sessions, and one
session's page: move it, cancel it (`models.training.reschedule`, `cancel`: what `transitions
session …` calls) and its attendance sheet, pre-filled with the invitees and the territory's
answer, saved through `models.training.record_attendance` (what `transitions attend` calls)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from models import training
from models.errors import InvalidInput
from models.read.paging import search_text
from models.read.team_sessions import session_by_id, session_sheet, sessions_screen, sheet_lines
from models.staff import StaffAct, actor
from transitions.portal.deps import PageAsked, RowId, StaffDep, staff_form
from transitions.portal.fields import paris_input
from transitions.portal.staff_state import StaffAction, staff_html

router = APIRouter(prefix="/equipe")
SHEET_FIELDS = 200
"""An attendance sheet posts one field per person ticked (a pilot's lists hold at most 12 people each)."""


def _back(request: Request, session_id: int, done: str, fragment: str) -> RedirectResponse:
    path = request.app.url_path_for("staff_session", session_id=session_id)
    return RedirectResponse(f"{path}?fait={done}#{fragment}", status_code=303)


@router.get("/sessions", response_class=HTMLResponse, name="staff_sessions")
def sessions(seen: StaffDep, number: PageAsked, recherche: str | None = None) -> HTMLResponse:
    listing = sessions_screen(seen.ctx, seen.now, number, search_text(recherche))
    return staff_html(seen, "equipe_sessions.html", section="/equipe/sessions",
                      title="Les sessions des pilotes", blocs=listing.lines, liste=listing, maintenant=seen.now)


@router.get("/sessions/{session_id}", response_class=HTMLResponse, name="staff_session")
def session_page(session_id: RowId, seen: StaffDep, fait: str | None = None) -> HTMLResponse:
    sheet = session_sheet(seen.ctx, session_id, seen.now)
    return staff_html(seen, "equipe_session.html", section="/equipe/sessions",
                      title=f"Session « {sheet.title} » ({sheet.pilot})", done=fait,
                      fiche=sheet, maintenant=seen.now, jeton=seen.form, peut=seen.acts)


@router.post("/sessions/{session_id}/deplacer", name="staff_session_move")
def move(request: Request, session_id: RowId,
         action: Annotated[StaffAction, staff_form("deplacer-session", StaffAct.RUN_SESSIONS)]) -> RedirectResponse:
    training_session = session_by_id(action.ctx, session_id)
    changed = training.reschedule(action.ctx, training_session, to=paris_input(action.field("date")),
                                  reason=action.field("motif"), place=action.field("lieu") or None, at=action.at,
                                  by=actor(action.member))
    return _back(request, session_id, "session-deplacee" if changed else "session-inchangee", "session")


@router.post("/sessions/{session_id}/annuler", name="staff_session_cancel")
def cancel(request: Request, session_id: RowId,
           action: Annotated[StaffAction, staff_form("annuler-session", StaffAct.RUN_SESSIONS)]) -> RedirectResponse:
    training_session = session_by_id(action.ctx, session_id)
    changed = training.cancel(action.ctx, training_session, reason=action.field("motif"), at=action.at,
                              by=actor(action.member))
    return _back(request, session_id, "session-annulee" if changed else "session-deja-annulee", "session")


def _ticked(action: StaffAction) -> set[str]:
    values = action.form.getlist("present")
    if not all(isinstance(value, str) for value in values):
        raise InvalidInput("L'émargement attend des cases cochées, pas des fichiers. Rien n'a été enregistré.")
    return {str(value) for value in values}


@router.post("/sessions/{session_id}/emargement", name="staff_session_attendance")
def attendance(request: Request, session_id: RowId,
               action: Annotated[StaffAction, staff_form("emargement", StaffAct.RECORD_ATTENDANCE,
                                                         max_fields=SHEET_FIELDS)]) -> RedirectResponse:
    """Every line of the sheet recorded (ticked: present; otherwise absent), and one more person
    if the form names one; nothing recorded at all if any line is refused."""
    training_session = session_by_id(action.ctx, session_id)
    training.may_record_attendance(training_session, action.at).enforce()
    came, lines = _ticked(action), sheet_lines(action.ctx, training_session)
    if came - {line.person for line in lines}:
        raise InvalidInput("La feuille d'émargement a changé depuis son affichage : rechargez la page et "
                           "recommencez. Rien n'a été enregistré.")
    entries = [(line.person, line.organisation, line.person in came) for line in lines]
    if action.field("autre_nom"):
        entries.append((action.field("autre_nom"), action.field("autre_structure"),
                        action.field("autre_present") == "oui"))
    for person, organisation, present in entries:
        training.record_attendance(action.ctx, training_session, person=person, organisation=organisation,
                                   present=present, at=action.at, by=actor(action.member))
    return _back(request, session_id, "emargement", "emargement")
