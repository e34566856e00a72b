"""Every refusal as a French page with its HTTP status: the domain's refusals, a bad path or form,
Starlette's own refusals, the service out of reach (`unavailable`: the one 503 page, with
`Retry-After`; the database stopped or cut off, a full disk), and an internal error (logged, never
shown)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from models import failures, links
from models.attachments import FileRefused
from models.db import get_engine
from models.errors import DiskFull, InvalidInput, NotFound, Refused, TransitionsError, Unavailable
from models.staff_sessions import StaffSignedOut
from transitions.portal.middleware import SECURITY_HEADERS
from transitions.portal.staff_state import SIGN_IN_PATH, signed_out
from transitions.portal.state import Portal
from transitions.portal.templating import error_html

log = logging.getLogger("transitions.portail")

_TOO_LONG = "Un champ du formulaire est trop long (plus de 1 Mo). Rien n'a été enregistré."
FORM_ERRORS = (
    ("Field exceeded maximum size", 413, _TOO_LONG),
    ("Part exceeded maximum size", 413, _TOO_LONG),
    ("Too many fields", 413, "Le formulaire compte trop de champs. Rien n'a été enregistré."),
    ("Too many files", 422, "Un seul fichier est accepté par envoi. Rien n'a été enregistré."),
)
"""Starlette's form-parsing refusals (HTTPException 400 with an English detail) in French."""

BUSY = "Le service est momentanément surchargé : réessayez dans quelques secondes."
BUSY_RETRY_AFTER = 5
"""Seconds a request is told to wait (`Retry-After`) when no database connection was free in time
(PORTAL_POOL_TIMEOUT): the portal is busy, not out of service."""

STATUS = {"invalide": 403, "interdit": 403, "expire": 410, "revoque": 410, "formulaire": 400, "rejoue": 409,
          "session": 401}
NO_PAGE = "Cette page n'existe pas. Utilisez le lien personnel reçu par courriel."
NO_STAFF_PAGE = "Cette page de l'espace de l'équipe n'existe pas : revenez à l'accueil, /equipe/."
UNAVAILABLE = "Le service est momentanément indisponible, réessayez dans quelques minutes."
NOTHING_RECORDED = "Rien n'a été enregistré de ce que vous venez d'envoyer : recommencez une fois le service revenu."
RETRY_AFTER = 120
"""Seconds a refused visitor (or a monitoring probe) is told to wait (`Retry-After`, RFC 9110 §10.2.3)."""


def unavailable(portal: Portal, request: Request, retry_after: int = RETRY_AFTER, text: str = UNAVAILABLE,
                ) -> HTMLResponse:
    """The one 503 page (French, `Retry-After`), for whatever leaves the portal unable to answer for
    a while: the database out of reach, a full disk, no connection free (`text`: BUSY). A form
    posted is told that nothing of it was recorded (its transaction was rolled back)."""
    posted = request.method not in ("GET", "HEAD")
    details = [NOTHING_RECORDED] if posted else None
    html = error_html(portal.env, 503, text, details, page_of(request) if posted else None,
                      staff=is_staff(request))
    return HTMLResponse(html, status_code=503, headers={"retry-after": str(retry_after)})


OUTAGES = (OperationalError, InterfaceError, OSError)
"""What a failure of the machine raises (`models.failures`): the database out of reach, a full disk."""


def note_outage(portal: Portal, exc: BaseException) -> bool:
    """Log a failure of the machine the way every page does: one line when the database stops
    answering (`outage.OutageLog`, until a new connection is made), a full disk at most every ten
    minutes. False when `exc` is none (another refusal of the system: a bug, told as such)."""
    problem = failures.told(exc, database_url=portal.database_url)
    if isinstance(problem, DiskFull):
        portal.outage.disk_full(problem.message)
    elif isinstance(exc, OSError):
        return False
    else:
        portal.outage.watch(get_engine(portal.database_url))
        portal.outage.began(failures.detail(exc))
    return True


def log_busy(portal: Portal, why: str) -> None:
    """A request answered BUSY, for the log (`Portal.busy`, an `outage.BusyLog`: a flood of
    refusals writes a line a minute, not one per request)."""
    portal.busy.refused(why)


def is_staff(request: Request) -> bool:
    """Whether the request is the back office's (`/equipe/…`): its error pages speak to the team."""
    return request.url.path.startswith("/equipe")


def no_page(request: Request) -> str:
    """What a missing page says: the team has accounts, everyone else personal links."""
    return NO_STAFF_PAGE if is_staff(request) else NO_PAGE


def http_status(exc: TransitionsError) -> int:
    """The HTTP status of a refusal."""
    if isinstance(exc, links.LinkRefused):
        return STATUS[exc.reason]
    if isinstance(exc, FileRefused):
        return 413 if exc.too_large else 415
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, Refused):
        return 409
    if isinstance(exc, Unavailable):
        return 503
    return 400


def page_of(request: Request) -> str | None:
    """The page a form was posted from (its first three or four path segments), to go back to."""
    token = request.path_params.get("token")
    if not token:
        return None
    parts = request.url.path.split("/")
    return "/".join(parts[:5]) if len(parts) > 4 and parts[3] != "jury" else "/".join(parts[:4])


def install(app: FastAPI, portal: Portal) -> None:
    """The error pages of `app`."""

    def answer(request: Request, status: int, text: str, details: list[str] | None = None,
               back: str | None = None) -> HTMLResponse:
        return HTMLResponse(error_html(portal.env, status, text, details, back, staff=is_staff(request)),
                            status_code=status)

    @app.exception_handler(TransitionsError)
    async def refused(request: Request, exc: TransitionsError) -> Response:
        if isinstance(exc, StaffSignedOut):
            return signed_out(request) or answer(request, 401, exc.message, back=SIGN_IN_PATH)
        link_level = isinstance(exc, links.LinkRefused) and not isinstance(exc, links.FormInvalid | links.FormReplayed)
        back = page_of(request) if request.method == "POST" and not link_level else None
        status = http_status(exc)
        renew = renewal(request, exc) if status == 410 else None
        return HTMLResponse(error_html(portal.env, status, exc.message, exc.details, back, renew,
                                       staff=is_staff(request)), status_code=status,
                            headers={"retry-after": str(RETRY_AFTER)} if status == 503 else None)

    def renewal(request: Request, exc: TransitionsError) -> tuple[str, str] | None:
        """The « Recevoir un nouveau lien » form of an expired or replaced link (its signature good)."""
        token = request.path_params.get("token")
        holder = links.token_holder(token, secret=portal.secret) if isinstance(token, str) else None
        if holder is None or not isinstance(exc, links.LinkExpired | links.LinkRevoked):
            return None
        return (str(request.app.url_path_for("renew_link", token=token)),
                links.form_token(portal.secret, holder, links.RENEWAL_FORM, portal.now()))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    async def out_of_service(request: Request, exc: Exception) -> Response:
        """The database out of reach or a full disk: 503, one log line (`outage.OutageLog`), no traceback."""
        if not note_outage(portal, exc):  # another refusal of the system: a bug to look at
            return await internal(request, exc)
        return unavailable(portal, request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> HTMLResponse:
        if any(e["loc"] and e["loc"][0] == "path" for e in exc.errors()):  # not a number, or beyond any row
            return answer(request, 404, no_page(request))
        fields = sorted({str(e["loc"][-1]) for e in exc.errors()})
        return answer(request, 422, "Le formulaire est incomplet : rechargez la page et recommencez. Rien n'a été "
                      "enregistré.", [f"champ : {f}" for f in fields], page_of(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        status = exc.status_code
        text = {404: no_page(request), 405: "Cette action n'est pas permise sur cette page."}.get(status,
                                                                                        "La requête est refusée.")
        if status == 400:
            detail = str(exc.detail)
            status, text = next(((code, french) for start, code, french in FORM_ERRORS if detail.startswith(start)),
                                (400, "Le formulaire reçu est mal formé ou incomplet (envoi interrompu ?) : "
                                      "rechargez la page et recommencez. Rien n'a été enregistré."))
        return answer(request, status, text)

    @app.exception_handler(PoolTimeout)
    async def busy(request: Request, exc: PoolTimeout) -> HTMLResponse:
        log_busy(portal, "aucune connexion à la base libérée à temps (PORTAL_POOL_TIMEOUT)")
        return unavailable(portal, request, BUSY_RETRY_AFTER, BUSY)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> HTMLResponse:
        log.error("erreur interne du portail (%s)", type(exc).__name__, exc_info=exc)
        return HTMLResponse(error_html(portal.env, 500, "Erreur interne inattendue : rien n'a été enregistré de "
                                       "l'opération en cours. Réessayez plus tard ou prévenez le Cerdd."),
                            status_code=500, headers=SECURITY_HEADERS)  # outside the middleware that adds them
