"""The back office's door (`/equipe/`): the session cookie, the signed-in member read from it, the
acting transaction of a staff form, the anonymous forms (sign-in, forgotten password), and pages
rendered for the team.

The cookie (`equipe`, `__Host-equipe` behind HTTPS) holds a random key signed with the portal's
secret: HttpOnly, SameSite=Strict, Secure when the portal is reached over HTTPS (its address or
the request's scheme), a session cookie (no Max-Age): the server-side row decides how long it lives
(`models.staff_sessions`: idle timeout, absolute lifetime, revocation).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import FormData

from config.settings import get_settings
from models.context import ProgrammeContext, load_ctx
from models.db import session_scope
from models.links import Bearer, use_form_token
from models.staff import StaffAct, may, member_id
from models.staff_sessions import signed_in
from models.tables import StaffMember, StaffSession
from notifications.render import portal_linker, render_notice
from transitions.portal.fields import field
from transitions.portal.state import Portal, release, write_lock
from transitions.portal.templating import DONE

SALT = "transitions.equipe.session"
ANONYMOUS = Bearer("equipe", siren="anonyme")
"""Who holds the forms shown before signing in (their one-time tokens still refuse a replay)."""
SIGN_IN_PATH = "/equipe/connexion"


def staff_bearer(member: StaffMember) -> Bearer:
    """The holder of a signed-in member's forms (their one-time tokens name them)."""
    return Bearer("equipe", siren=str(member_id(member)), person=member.email)


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or get_settings().portal_base_url.startswith("https://")


def cookie_name(request: Request) -> str:
    return "__Host-equipe" if secure(request) else "equipe"


def session_key(portal: Portal, request: Request) -> str:
    """The key the request's cookie carries, its signature checked (empty when none or forged)."""
    raw = request.cookies.get(cookie_name(request), "")
    try:
        key = URLSafeSerializer(portal.secret, salt=SALT).loads(raw) if raw else ""
    except BadSignature:
        return ""
    return key if isinstance(key, str) else ""


def open_session(response: Response, portal: Portal, request: Request, key: str) -> None:
    response.set_cookie(cookie_name(request), URLSafeSerializer(portal.secret, salt=SALT).dumps(key), path="/",
                        httponly=True, secure=secure(request), samesite="strict")


def close_session(response: Response, request: Request) -> None:
    response.delete_cookie(cookie_name(request), path="/", httponly=True, secure=secure(request), samesite="strict")


@dataclass(frozen=True)
class StaffVisit:
    """A back-office page's request: the member signed in (allowed the route's act), their session,
    the programme and its present."""

    portal: Portal
    ctx: ProgrammeContext
    member: StaffMember
    session: StaffSession
    now: datetime

    def form(self, name: str) -> str:
        """The one-time token of the form `name`, for this member."""
        return self.portal.form(staff_bearer(self.member), name)

    @property
    def acts(self) -> frozenset[str]:
        """The acts this member's role allows (`StaffAct` values): a page shows only the forms of these
        (the act itself checks again)."""
        return frozenset(act.value for act in StaffAct if may(self.member, act))


@dataclass(frozen=True)
class StaffAction:
    """A back-office form's action inside its transaction: session checked, act allowed, token spent."""

    ctx: ProgrammeContext
    member: StaffMember
    session: StaffSession
    now: datetime
    """Real time: what the member's session, links and tokens are checked against."""
    form: FormData
    at: datetime
    """The programme's present (`Portal.present`: the last tick of a replayed programme): the instant
    a programme act is dated with, as on the personal-link portal."""

    def field(self, name: str) -> str:
        return field(self.form, name)


def _ctx(portal: Portal, session: Any, *, lock: bool = False) -> ProgrammeContext:
    return load_ctx(session, portal.programme, renderer=render_notice, linker=portal_linker(), lock=lock)


@contextmanager
def staff_reading(portal: Portal, request: Request, act: StaffAct) -> Iterator[StaffVisit]:
    """The signed-in member allowed to `act` (StaffSignedOut, StaffForbidden), their visit recorded."""
    with session_scope(portal.database_url) as session:
        ctx = _ctx(portal, session)
        member, row = signed_in(session, session_key(portal, request), portal.now())
        may(member, act).enforce()
        yield StaffVisit(portal, ctx, member, row, portal.present(ctx))


def check_staff(portal: Portal, request: Request, act: StaffAct) -> None:
    """Refuse a request without a valid session or role before its body is read."""
    with staff_reading(portal, request, act):
        pass


@contextmanager
def staff_acting(portal: Portal, request: Request, form: FormData, name: str, act: StaffAct) -> Iterator[StaffAction]:
    """One transaction: the programme held (PostgreSQL: its row, as a tick holds it; SQLite: the
    write lock), so two acts at once take turns and each rule reads what the other committed (two
    tabs withdrawing two pilots offer a place once); then the session checked, the act allowed,
    the form's token spent, and the caller's action; committed together or not at all."""
    with session_scope(portal.database_url) as session:
        write_lock(session)
        ctx = _ctx(portal, session, lock=True)
        now = portal.now()
        member, row = signed_in(session, session_key(portal, request), now)
        may(member, act).enforce()
        use_form_token(session, portal.secret, field(form, "jeton"), staff_bearer(member), name, now)
        yield StaffAction(ctx, member, row, now, form, portal.present(ctx))
    portal.delivered(now)


@contextmanager
def anonymous(portal: Portal, form: FormData, name: str) -> Iterator[tuple[ProgrammeContext, datetime]]:
    """One transaction for a form shown before signing in: its one-time token spent first."""
    with session_scope(portal.database_url) as session:
        write_lock(session)
        ctx = _ctx(portal, session)
        now = portal.now()
        use_form_token(session, portal.secret, field(form, "jeton"), ANONYMOUS, name, now)
        yield ctx, now
    portal.delivered(now)


NAVIGATION: tuple[tuple[str, str], ...] = (
    ("/equipe/", "Accueil"), ("/equipe/candidatures", "Candidatures"), ("/equipe/jury", "Jury"),
    ("/equipe/pilotes", "Pilotes"), ("/equipe/sessions", "Sessions"), ("/equipe/livrables", "Livrables"),
    ("/equipe/personnes", "Personnes et liens"), ("/equipe/avis", "Avis"), ("/equipe/journal", "Journal"),
    ("/equipe/rapport", "Rapport"), ("/equipe/programme", "Programme"),
)
"""The back office's sections (path, French name), in the order its navigation lists them
(`equipe_base.html`)."""
SECTION_ACTS: dict[str, StaffAct] = {"/equipe/programme": StaffAct.SEE_PROGRAMME_CHANGES}
"""The sections whose pages need more than reading: listed only to the roles that may open them."""


def navigation(seen: Portal | StaffVisit) -> tuple[tuple[str, str], ...]:
    """The sections `seen`'s member may open (before sign-in: all, the page shows none)."""
    if not isinstance(seen, StaffVisit):
        return NAVIGATION
    return tuple((path, name) for path, name in NAVIGATION
                 if path not in SECTION_ACTS or may(seen.member, SECTION_ACTS[path]))


def staff_html(seen: Portal | StaffVisit, template: str, title: str, *, status: int = 200, done: str | None = None,
               section: str | None = None, **values: Any) -> HTMLResponse:
    """A back-office page (`equipe` set: the base template's footer for the team). `section` is the
    path of its entry in `NAVIGATION` (« /equipe/avis »), marked as the current one; a page extending
    `equipe_base.html` shows the navigation. A member's visit (`seen`) lets its database connection
    go before the page renders (`state.release`)."""
    sections = navigation(seen)
    if isinstance(seen, StaffVisit):
        release(seen.ctx)
    portal = seen.portal if isinstance(seen, StaffVisit) else seen
    html = portal.env.get_template(template).render(titre=title, titre_programme="Espace de l'équipe du Cerdd",
                                                    message=DONE.get(done or ""), equipe=True, navigation=sections,
                                                    rubrique=section, **values)
    return HTMLResponse(html, status_code=status)


def signed_out(request: Request) -> Response | None:
    """A page asked without a valid session goes to the sign-in page (its cookie dropped); a form
    posted so gets None (the 401 error page)."""
    if request.method not in ("GET", "HEAD"):
        return None
    response = RedirectResponse(f"{SIGN_IN_PATH}?fait=session", status_code=303)
    close_session(response, request)
    return response
