"""The back office's people and links (`/equipe/personnes`, issue 23): each contact of each party
with their own personal link's state, « Envoyer le lien » / « Renvoyer » by e-mail and « Révoquer »
per person (`models.links.send_link`, `revoke_link`: one person's links only, never a colleague's;
`transitions link --person … --send | --revoke` calls the same functions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models import links
from models.read.paging import search_text
from models.read.team_people import people_screen, person_bearer
from models.staff import StaffAct, actor
from transitions.portal.deps import PageAsked, StaffDep, staff_form
from transitions.portal.staff_state import StaffAction, staff_html

router = APIRouter(prefix="/equipe")


def _back(request: Request, action: StaffAction, done: str) -> RedirectResponse:
    siren = action.field("siren")
    fragment = f"pilote-{siren}" if siren.isdigit() else "prestataire"
    return RedirectResponse(f"{request.app.url_path_for('staff_people')}?fait={done}#{fragment}", status_code=303)


def _bearer(action: StaffAction) -> links.Bearer:
    return person_bearer(action.ctx, action.field("siren"), action.field("partie"), action.field("courriel"))


@router.get("/personnes", response_class=HTMLResponse, name="staff_people")
def people(seen: StaffDep, number: PageAsked, fait: str | None = None, recherche: str | None = None) -> HTMLResponse:
    listing = people_screen(seen.ctx, number, search_text(recherche))
    return staff_html(seen, "equipe_personnes.html", section="/equipe/personnes",
                      title="Les personnes et leurs liens personnels", done=fait,
                      blocs=listing.lines, liste=listing, maintenant=seen.now, jeton=seen.form, peut=seen.acts)


@router.post("/personnes/envoyer", name="staff_people_send")
def send(request: Request,
         action: Annotated[StaffAction, staff_form("envoyer-lien", StaffAct.ISSUE_LINKS)]) -> Response:
    links.send_link(action.ctx, _bearer(action), at=action.now, by=actor(action.member))
    return _back(request, action, "lien-envoye")


@router.post("/personnes/revoquer", name="staff_people_revoke")
def revoke(request: Request,
           action: Annotated[StaffAction, staff_form("revoquer-lien", StaffAct.ISSUE_LINKS)]) -> Response:
    changed = links.revoke_link(action.ctx, _bearer(action), at=action.now, by=actor(action.member))
    return _back(request, action, "lien-revoque" if changed else "lien-aucun")
