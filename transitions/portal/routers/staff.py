"""The back office's entrance, `/equipe/` (issue 23): sign-in (e-mail, password, TOTP or recovery
code), the home page of the member signed in, sign-out and « se déconnecter partout ». Every
back-office page declares its act with `require(act)` (`deps.py`); the accounts' links (invitation,
reset) are in `staff_access.py`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from flows.monitor import engine_status
from models.read.staff_home import staff_home
from models.read.staff_monitor import held_back
from models.staff import ACT_LABELS
from models.staff_sessions import sign_in, sign_out, sign_out_everywhere
from transitions.portal.deps import AnonymousForm, PortalDep, StaffDep, staff_form
from transitions.portal.fields import field
from transitions.portal.staff_state import (
    ANONYMOUS,
    SIGN_IN_PATH,
    StaffAction,
    anonymous,
    close_session,
    open_session,
    staff_html,
)
from transitions.portal.state import Portal, release

router = APIRouter(prefix="/equipe")
SIGN_IN = "connexion-equipe"


def _sign_in_page(portal: Portal, status: int = 200, done: str | None = None, error: str | None = None,
                  email: str = "") -> HTMLResponse:
    return staff_html(portal, "equipe_connexion.html", "Connexion à l'espace de l'équipe", status=status, done=done,
                      erreur=error, courriel=email, jeton=portal.form(ANONYMOUS, SIGN_IN))


@router.get("/connexion", response_class=HTMLResponse, name="staff_sign_in")
def sign_in_page(portal: PortalDep, fait: str | None = None) -> HTMLResponse:
    return _sign_in_page(portal, done=fait)


@router.post("/connexion", name="staff_sign_in_post")
def sign_in_post(request: Request, portal: PortalDep, form: AnonymousForm) -> Response:
    email = field(form, "courriel")
    with anonymous(portal, form, SIGN_IN) as (ctx, now):
        result = sign_in(ctx, email, field(form, "mot_de_passe", multiline=True), field(form, "code"),
                         address=request.client.host if request.client else "", at=now)
    if result.key is None:
        return _sign_in_page(portal, 429 if result.throttled else 401, error=result.refusal, email=email[:320])
    response = RedirectResponse("/equipe/", status_code=303)
    open_session(response, portal, request, result.key)
    return response


@router.get("/", response_class=HTMLResponse, name="staff_home")
def home(seen: StaffDep, fait: str | None = None) -> HTMLResponse:
    screen, held = staff_home(seen.ctx, seen.member, seen.now), held_back(seen.ctx, seen.now)
    release(seen.ctx)  # Prefect's API is asked (2 s at most) without holding a database connection
    return staff_html(seen, "equipe.html", "Espace de l'équipe", done=fait, section="/equipe/", ecran=screen,
                      actes=ACT_LABELS, maintenant=seen.now, jeton=seen.form, moteur=engine_status(), retenu=held)


@router.post("/deconnexion", name="staff_sign_out")
def sign_out_post(request: Request, action: Annotated[StaffAction, staff_form("deconnexion")]) -> Response:
    sign_out(action.ctx, action.member, action.session, at=action.now)
    response = RedirectResponse(f"{SIGN_IN_PATH}?fait=deconnecte", status_code=303)
    close_session(response, request)
    return response


@router.post("/deconnexion-partout", name="staff_sign_out_everywhere")
def sign_out_everywhere_post(request: Request,
                             action: Annotated[StaffAction, staff_form("deconnexion-partout")]) -> Response:
    sign_out_everywhere(action.ctx, action.member, at=action.now)
    response = RedirectResponse(f"{SIGN_IN_PATH}?fait=partout", status_code=303)
    close_session(response, request)
    return response
