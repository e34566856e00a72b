"""The portal's FastAPI application: one page per bearer of a personal link, every form a POST with
a one-time signed token, every action one transaction calling the domain functions the command
line calls, every refusal a French page with its HTTP status.

`create_app(database_url, secret, clock=…)`: `clock` gives the instant of every web action (tests
living in 2015 inject theirs). By default links and forms are checked against the real time, and
web actions happen at the programme's present (`Ctx.present`): the real time for a live
programme, the last tick for a replayed one (the 2015 demo's portal acts at the end of its
replay, not in the year it is opened).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models import links, participation
from models.applications import form_of
from models.attachments import MAX_BYTES, FileRefused
from models.clock import format_paris, paris, parse_instant
from models.context import Ctx, load_ctx
from models.db import session_scope
from models.deliverables import deliverables_of, find_deliverable
from models.errors import InvalidInput, NotFound, Refused, TransitionsError, Unavailable
from models.forms import FIELD_LABELS
from models.jury import find_application, missing_scores, not_applicable
from models.links import Bearer
from models.pilots import pilots, sign_by, sign_charter, signatures, withdrawal_of
from models.read.deliverables import state_of
from models.read.report_data import pilot_views
from models.read.status import pilot_rows
from models.read.steps import next_steps
from models.tables import (
    Application,
    ApplicationFile,
    ApplicationStatus,
    ApplicationVersion,
    Attendance,
    CharterParty,
    Deliverable,
    DueDateRequest,
    JuryScore,
    Pilot,
    PilotStatus,
    ProgrammeMode,
    SessionStatus,
    label,
)
from models.text import visible
from models.training import find_session, sessions_of
from models.wording import agreement, of_territory, with_article
from notifications.render import render_notice
from transitions.portal.urls import home_path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
BODY_LIMIT = MAX_BYTES + 256 * 1024
"""The largest request body accepted: one file of MAX_BYTES and the form around it."""

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
"""Sent with every answer: no script at all, no framing, no Referer carrying a token onwards."""

DONE = {
    "signature": "Votre signature est enregistrée. Merci !",
    "deja-signe": "La charte était déjà signée au nom de votre partie : rien n'a changé.",
    "reponse": "Votre réponse est enregistrée.",
    "remise": "Le livrable est remis : le Cerdd va l'examiner.",
    "deja-remis": "Ce livrable était déjà remis : rien n'a changé.",
    "demande": "Votre demande de nouvelle échéance est transmise au Cerdd, qui décidera.",
    "notes": "Vos notes sont enregistrées (brouillon : pensez à soumettre votre feuille avant la réunion du jury).",
    "conflit": "Votre conflit d'intérêts est enregistré : vos notes sur cette candidature ne comptent pas.",
    "soumis": "Votre feuille de notes est soumise. Merci !",
    "decision": "Votre décision est enregistrée ; le prestataire en est informé si l'échéance change.",
}
"""The confirmations a page shows after an action (chosen by key: nothing typed is reflected)."""

RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
"""A row number in a path: beyond SQL's BIGINT it names nothing (404, not an overflow)."""

SCORE = re.compile(r"[0-9]{1,3}")
"""A score as typed: ASCII digits only (not « ² », « ٣ » or « ４ »), three at most."""

_TOO_LONG = "Un champ du formulaire est trop long (plus de 1 Mo). Rien n'a été enregistré."
FORM_ERRORS = (
    ("Field exceeded maximum size", 413, _TOO_LONG),
    ("Part exceeded maximum size", 413, _TOO_LONG),
    ("Too many fields", 413, "Le formulaire compte trop de champs. Rien n'a été enregistré."),
    ("Too many files", 422, "Un seul fichier est accepté par envoi. Rien n'a été enregistré."),
)
"""Starlette's form-parsing refusals (HTTPException 400 with an English detail) in French."""

STATUS = {"invalide": 403, "interdit": 403, "expire": 410, "revoque": 410, "formulaire": 400, "rejoue": 409}

log = logging.getLogger("transitions.portail")


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


TITLES = {400: "Formulaire refusé", 403: "Accès refusé", 404: "Page introuvable", 409: "Action impossible",
          410: "Lien périmé", 411: "Requête refusée", 413: "Fichier trop volumineux", 415: "Type de fichier refusé",
          422: "Saisie à corriger", 405: "Action non permise", 500: "Erreur interne", 503: "Service indisponible"}


class LimitBody:
    """Refuse a request body over BODY_LIMIT before reading it (413), and a POST without a length (411)."""

    def __init__(self, app: ASGIApp, render_error: Callable[[int, str], bytes]) -> None:
        self.app = app
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            status = 0
            if length is None or not length.isdigit():
                status, text = 411, "La requête doit annoncer sa taille."
            elif int(length) > BODY_LIMIT:
                status, text = 413, (f"Le fichier dépasse la limite de {MAX_BYTES // (1024 * 1024)} Mo. "
                                     "Rien n'a été enregistré.")
            if status:
                body = self.render_error(status, text)
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                        (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
                                        *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, self._headers(send))

    @staticmethod
    def _headers(send: Send) -> Send:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                                        if k.encode() not in present]]
            await send(message)

        return with_headers


@dataclass
class Portal:
    """What every request handler needs: the database, the secret, the clock, the templates."""

    database_url: str
    secret: str
    clock: Callable[[], datetime]
    programme: str | None
    env: Environment
    publish_events: bool
    fixed_clock: bool = False
    """A clock was injected: it gives every instant, the programme's present included."""

    def now(self) -> datetime:
        """The instant links and forms are checked against (their expiry is real time)."""
        return self.clock().astimezone(UTC)

    def present(self, ctx: Ctx) -> datetime:
        """The instant of a web action on this programme: what it records and how pages read."""
        return self.now() if self.fixed_clock else ctx.present(self.now())

    @contextmanager
    def reading(self, token: str) -> Iterator[tuple[Ctx, Bearer]]:
        with session_scope(self.database_url) as session:
            ctx = load_ctx(session, self.programme, renderer=render_notice)
            yield ctx, links.read_link(ctx, token, secret=self.secret, now=self.now())

    @contextmanager
    def acting(self, token: str, form_token: str | None, form: str | Callable[[Ctx], str],
               allowed: Callable[[Bearer], bool]) -> Iterator[tuple[Ctx, Bearer, datetime]]:
        """One transaction: the link checked, the person allowed, the form's token spent (`form`:
        the form's name, or how to find it once the link is checked), then the caller's action;
        all committed together, or nothing."""
        before = self._bookmark()
        with session_scope(self.database_url) as session:
            _write_lock(session)
            ctx = load_ctx(session, self.programme, renderer=render_notice)
            now = self.now()
            bearer = links.read_link(ctx, token, secret=self.secret, now=now)
            if not allowed(bearer):
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à cette page.")
            name = form(ctx) if callable(form) else form
            links.use_form_token(session, self.secret, form_token, bearer, name, now)
            yield ctx, bearer, self.present(ctx)
        self._publish(before)

    def _bookmark(self) -> int | None:
        if not (self.publish_events and os.environ.get("PREFECT_API_URL")):
            return None
        from flows.events import bookmark

        return bookmark()

    def _publish(self, before: int | None) -> None:
        if before is None:
            return
        from flows.events import publish_since

        try:
            publish_since(before, only_with_server=True)
        except Exception:  # the facts are committed; an event lost is not worth an error page
            log.warning("événements Prefect non publiés", exc_info=True)

    def check(self, token: str, allowed: Callable[[Bearer], bool]) -> None:
        """Refuse a bad, expired or revoked link, or a person without access, before the request's
        body is read (`acting` checks again in its transaction)."""
        with session_scope(self.database_url) as session:
            ctx = load_ctx(session, self.programme, renderer=render_notice)
            bearer = links.read_link(ctx, token, secret=self.secret, now=self.now())
            if not allowed(bearer):
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à cette page.")

    async def form_of(self, request: Request, token: str, allowed: Callable[[Bearer], bool],
                      **limits: Any) -> FormData:
        """The posted form, parsed only once the link is known good (a refused link costs no parse)."""
        self.check(token, allowed)
        return await request.form(**limits)

    def form(self, bearer: Bearer, name: str) -> str:
        return links.form_token(self.secret, bearer, name, self.now())

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**values)
        return HTMLResponse(html, status_code=status)

    def error_html(self, status: int, message: str, details: list[str] | None = None,
                   back: str | None = None) -> bytes:
        return self.env.get_template("erreur.html").render(
            title=TITLES.get(status, "Erreur"), status=status, texte=message, message=None, details=details or [],
            back=back, programme_title=None).encode("utf-8")


def _write_lock(session: Session) -> None:
    """SQLite: take the write lock first, so two clicks at once take turns (PostgreSQL: the unique
    form token settles it)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and not session.in_transaction():
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["date_fr"] = lambda value, with_time=True: format_paris(value, with_time=with_time)
    env.filters["jour_fr"] = lambda value: format_paris(value, with_time=False)
    env.filters["etat"] = label
    env.filters["visible"] = visible
    env.filters["iso_jour"] = lambda value: paris(value).date().isoformat()
    env.filters["de_territoire"] = of_territory
    env.filters["Article"] = lambda name: (lambda phrase: phrase[:1].upper() + phrase[1:])(with_article(name))
    env.filters["article"] = with_article
    env.filters["accord"] = agreement
    return env


JUDGED = (ApplicationStatus.ADMISSIBLE, ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED)
"""The applications a juror scored: admissible, then selected or not by the jury's decision."""
DECIDED = (ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED)


def _attendance(ctx: Ctx, session_ids: list[int], now: datetime) -> dict[int, list[Attendance]]:
    """The attendance recorded by `now` for each of these sessions, by session id, names sorted."""
    found: dict[int, list[Attendance]] = {}
    for row in ctx.session.exec(select(Attendance).where(col(Attendance.session_id).in_(session_ids),
                                                         col(Attendance.recorded_at) <= now)
                                .order_by(col(Attendance.person))):
        found.setdefault(row.session_id, []).append(row)
    return found


def _decision_by(application: Application, now: datetime) -> str | None:
    """The jury's decision on the application if recorded by `now` (retenue, non_retenue)."""
    decided = application.decided_at is not None and application.decided_at <= now
    return application.status if decided and application.status in DECIDED else None


def _can_sign(bearer: Bearer, party: str, siren: str) -> bool:
    if bearer.role != party:
        return False
    return bearer.siren == siren or (party == CharterParty.CONSULTANCY and bearer.every_pilot)


def _pilot_of(ctx: Ctx, siren: str) -> Pilot:
    found = [p for p in pilots(ctx) if _siren(ctx, p) == siren]
    if not found:
        raise NotFound("Aucun territoire pilote ne correspond à cette adresse.")
    return found[0]


def _siren(ctx: Ctx, pilot: Pilot) -> str:
    application = ctx.session.get(Application, pilot.application_id)
    assert application is not None
    return application.lead_siren


def _charter(portal: Portal, ctx: Ctx, bearer: Bearer, pilot: Pilot, party: str) -> dict[str, Any]:
    signed = signatures(ctx, pilot)
    parties = ctx.definition.accompaniment.charter.parties
    return {
        "titre": ctx.definition.accompaniment.charter.title,
        "texte": participation.charter_text(ctx, pilot),
        "sha256": participation.charter_sha256(ctx, pilot),
        "echeance": sign_by(ctx, pilot),
        "signatures": [(p, participation.party_label(p), signed.get(p)) for p in parties],
        "partie": party,
        "partie_libelle": participation.party_label(party),
        "a_signer": party in parties and party not in signed and pilot.status == PilotStatus.CHARTER_PENDING,
        "retrait": withdrawal_of(ctx, pilot, portal.present(ctx)),
        "jeton": portal.form(bearer, f"charte:{pilot.id}:{party}"),
    }


def _paris_input(day: str, hour: str) -> datetime:
    """A date (and time) typed in a form, Paris time; InvalidInput in French otherwise."""
    try:
        return parse_instant(f"{day.strip()}T{(hour or '18:00').strip()}")
    except ValueError:
        raise InvalidInput("La date doit s'écrire AAAA-MM-JJ et l'heure HH:MM.") from None


def create_app(database_url: str, secret: str, *, clock: Callable[[], datetime] | None = None,
               programme: str | None = None, publish_events: bool = False) -> FastAPI:
    """The portal on `database_url`, its links and forms signed with `secret`."""
    if len(secret) < 32:
        raise ValueError("le secret du portail doit compter au moins 32 caractères")
    portal = Portal(database_url, secret, clock or (lambda: datetime.now(UTC)), programme, _environment(),
                    publish_events, fixed_clock=clock is not None)
    app = FastAPI(title="Transitions — portail", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(LimitBody, render_error=lambda status, text: portal.error_html(status, text))
    app.state.portal = portal

    @app.exception_handler(TransitionsError)
    async def refused(request: Request, exc: TransitionsError) -> HTMLResponse:
        status = http_status(exc)
        link_level = isinstance(exc, links.LinkRefused) and not isinstance(exc, links.FormInvalid | links.FormReplayed)
        back = _page_of(request) if request.method == "POST" and not link_level else None
        return HTMLResponse(portal.error_html(status, exc.message, exc.details, back), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> HTMLResponse:
        if any(e["loc"] and e["loc"][0] == "path" for e in exc.errors()):  # not a number, or beyond any row
            return HTMLResponse(portal.error_html(404, "Cette page n'existe pas. Utilisez le lien personnel reçu "
                                                  "par courriel."), status_code=404)
        fields = sorted({str(e["loc"][-1]) for e in exc.errors()})
        return HTMLResponse(portal.error_html(422, "Le formulaire est incomplet : rechargez la page et recommencez. "
                                              "Rien n'a été enregistré.", [f"champ : {f}" for f in fields],
                                              _page_of(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        status = exc.status_code
        text = {404: "Cette page n'existe pas. Utilisez le lien personnel reçu par courriel.",
                405: "Cette action n'est pas permise sur cette page."}.get(status, "La requête est refusée.")
        if status == 400:
            detail = str(exc.detail)
            status, text = next(((code, french) for start, code, french in FORM_ERRORS if detail.startswith(start)),
                                (400, "Le formulaire reçu est mal formé ou incomplet (envoi interrompu ?) : "
                                      "rechargez la page et recommencez. Rien n'a été enregistré."))
        return HTMLResponse(portal.error_html(status, text), status_code=status)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> HTMLResponse:
        log.error("erreur interne du portail (%s)", type(exc).__name__, exc_info=exc)
        return HTMLResponse(portal.error_html(500, "Erreur interne inattendue : rien n'a été enregistré de "
                                              "l'opération en cours. Réessayez plus tard ou prévenez le Cerdd."),
                            status_code=500, headers=SECURITY_HEADERS)  # outside the middleware that adds them

    @app.get("/sante", response_class=PlainTextResponse)
    def health() -> PlainTextResponse:
        """For monitoring: 200 « ok » when the database answers, 503 otherwise."""
        try:
            with session_scope(database_url) as session:
                load_ctx(session, programme)
        except Exception:
            return PlainTextResponse("base de données injoignable\n", status_code=503)
        return PlainTextResponse("ok\n")

    @app.get("/static/portail.css")
    def stylesheet() -> Response:
        return Response((STATIC / "portail.css").read_bytes(), media_type="text/css; charset=utf-8",
                        headers={"cache-control": "public, max-age=3600"})

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """No icon: 204, so browsers stop asking and log no error (the security headers are added)."""
        return Response(status_code=204, headers={"cache-control": "public, max-age=86400"})

    @app.get("/", response_class=HTMLResponse)
    def root() -> HTMLResponse:
        return HTMLResponse(portal.error_html(404, "Ce portail s'ouvre avec le lien personnel reçu par courriel. "
                                              "Sans lien, demandez-en un au Cerdd."), status_code=404)

    @app.get("/l/{token}/", response_class=HTMLResponse)
    @app.get("/l/{token}", response_class=HTMLResponse)
    def home(token: str) -> Response:
        with portal.reading(token) as (_ctx, bearer):
            return RedirectResponse(home_path(bearer, token), status_code=303)

    # --- the territory -----------------------------------------------------------------------

    @app.get("/l/{token}/territoire/{siren}", response_class=HTMLResponse)
    def territory(token: str, siren: str, fait: str | None = None) -> HTMLResponse:
        with portal.reading(token) as (ctx, bearer):
            if not _can_sign(bearer, CharterParty.TERRITORY, siren):
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à la page de ce territoire.")
            pilot = _pilot_of(ctx, siren)
            now = portal.present(ctx)
            view = pilot_views(ctx, now, siren)[0]
            answers = participation.answers_of(ctx, pilot)
            marks = _attendance(ctx, [item.id or 0 for item in sessions_of(ctx, pilot)], now)
            sessions = [{"item": item, "reponse": answers.get(item.id or 0),
                         "passee": item.ends_at <= now, "presences": marks.get(item.id or 0, []),
                         "ouverte": item.status == SessionStatus.PLANNED and item.starts_at > now,
                         "jeton": portal.form(bearer, f"reponse:{item.id}")}
                        for item in sessions_of(ctx, pilot)]
            return portal.page("territoire.html", title=f"{pilot.name} : votre année d'accompagnement",
                               **_common(ctx, token, fait), pilot=pilot, vue=view, maintenant=now,
                               etapes=next_steps(ctx, pilot, now),
                               charte=_charter(portal, ctx, bearer, pilot, CharterParty.TERRITORY),
                               sessions=sessions, base=f"/l/{token}/territoire/{siren}")

    @app.post("/l/{token}/{party}/{siren}/charte")
    async def sign(token: str, party: str, siren: str, request: Request) -> Response:
        form = await portal.form_of(request, token, lambda b: _can_sign(b, party, siren))
        with portal.acting(token, _field(form, "jeton"), lambda ctx: f"charte:{_pilot_of(ctx, siren).id}:{party}",
                           lambda b: _can_sign(b, party, siren)) as (ctx, _bearer, now):
            pilot = _pilot_of(ctx, siren)
            if _field(form, "lu") != "oui":
                raise InvalidInput("Cochez « J'ai lu la charte » avant de signer. Rien n'a été enregistré.")
            if _field(form, "sha256") != participation.charter_sha256(ctx, pilot):
                raise Refused("Le texte de la charte a changé depuis l'affichage de la page : relisez-le et "
                              "signez de nouveau. Rien n'a été enregistré.")
            changed = sign_charter(ctx, pilot, party=party, signatory=_field(form, "signataire"),
                                   role=_field(form, "qualite"), at=now, channel="portail")
        page = f"/l/{token}/{party}/{siren}"
        return RedirectResponse(f"{page}?fait={'signature' if changed else 'deja-signe'}#charte", status_code=303)

    @app.post("/l/{token}/territoire/{siren}/session/{key}")
    async def answer(token: str, siren: str, key: str, request: Request) -> Response:
        form = await portal.form_of(request, token, lambda b: _can_sign(b, CharterParty.TERRITORY, siren))
        with portal.acting(token, _field(form, "jeton"),
                           lambda ctx: f"reponse:{find_session(ctx, _pilot_of(ctx, siren), key).id}",
                           lambda b: _can_sign(b, CharterParty.TERRITORY, siren)) as (ctx, _bearer, now):
            pilot = _pilot_of(ctx, siren)
            item = find_session(ctx, pilot, key)
            presence = _field(form, "presence")
            if presence not in ("oui", "non"):
                raise InvalidInput("Indiquez si le territoire sera présent ou non. Rien n'a été enregistré.")
            participation.answer_invitation(ctx, pilot, item, attending=presence == "oui",
                                            people=_field(form, "participants", multiline=True), at=now)
        return RedirectResponse(f"/l/{token}/territoire/{siren}?fait=reponse#session-{quote(key)}", status_code=303)

    @app.get("/l/{token}/territoire/{siren}/session/{key}.ics")
    def session_ics(token: str, siren: str, key: str) -> Response:
        from icalendar import Calendar

        from models.invitations import DOMAIN, PRODID, session_event
        from models.recipients import manager

        with portal.reading(token) as (ctx, bearer):
            if not _can_sign(bearer, CharterParty.TERRITORY, siren):
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à la page de ce territoire.")
            pilot = _pilot_of(ctx, siren)
            item = find_session(ctx, pilot, key)
            calendar = Calendar()
            calendar.add("prodid", PRODID)
            calendar.add("version", "2.0")
            calendar.add("method", "PUBLISH")
            calendar.add_component(session_event(item, summary=f"{pilot.name} : {item.title}",
                                                 organiser=manager(ctx)[0], attendee=None, stamp=portal.now(),
                                                 uid=f"session-{item.id}@{DOMAIN}"))
            body = calendar.to_ical()
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{_safe_name(key)}.ics"'})

    # --- the Cerdd ---------------------------------------------------------------------------

    @app.get("/l/{token}/cerdd/{siren}", response_class=HTMLResponse)
    def organiser(token: str, siren: str, fait: str | None = None) -> HTMLResponse:
        with portal.reading(token) as (ctx, bearer):
            if not _can_sign(bearer, CharterParty.ORGANISER, siren):
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à cette page.")
            pilot = _pilot_of(ctx, siren)
            now = portal.present(ctx)
            return portal.page("cerdd.html", title=f"Le Cerdd : charte {of_territory(pilot.name)} et vue d'ensemble",
                               **_common(ctx, token, fait), pilot=pilot, maintenant=now,
                               charte=_charter(portal, ctx, bearer, pilot, CharterParty.ORGANISER),
                               lignes=pilot_rows(ctx.session, now, ctx.programme.slug),
                               demandes=[{**row, "jeton": portal.form(bearer, f"decision:{row['demande'].id}"),
                                          "sien": row["pilote"] is not None and row["pilote"].id == pilot.id}
                                         for row in _requests(ctx)],
                               base=f"/l/{token}/cerdd/{siren}")

    @app.post("/l/{token}/cerdd/{siren}/demande/{number}")
    async def decide(token: str, siren: str, number: RowId, request: Request) -> Response:
        form = await portal.form_of(request, token, lambda b: _can_sign(b, CharterParty.ORGANISER, siren))

        def form_name(ctx: Ctx) -> str:
            found = ctx.session.get(DueDateRequest, number)
            task = ctx.session.get(Deliverable, found.deliverable_id) if found else None
            if task is None or task.pilot_id != _pilot_of(ctx, siren).id:
                raise NotFound("Cette demande de report n'existe pas pour ce territoire.")
            return f"decision:{number}"

        with portal.acting(token, _field(form, "jeton"), form_name,
                           lambda b: _can_sign(b, CharterParty.ORGANISER, siren)) as (ctx, _b, now):
            choice = _field(form, "decision")
            if choice not in ("accorder", "refuser"):
                raise InvalidInput("Choisissez d'accorder ou de refuser la demande. Rien n'a été enregistré.")
            if not participation.decide_due_date(ctx, number, grant=choice == "accorder", at=now):
                raise Refused("Cette demande de report est déjà décidée (sans doute depuis un autre onglet) : "
                              "votre décision n'a pas été prise en compte. Rechargez la page pour voir la décision.")
        return RedirectResponse(f"/l/{token}/cerdd/{siren}?fait=decision#demandes", status_code=303)

    # --- the consultancy ---------------------------------------------------------------------

    @app.get("/l/{token}/prestataire", response_class=HTMLResponse)
    @app.get("/l/{token}/prestataire/{siren}", response_class=HTMLResponse)
    def consultancy(token: str, siren: str | None = None, fait: str | None = None) -> HTMLResponse:
        with portal.reading(token) as (ctx, bearer):
            if bearer.role != CharterParty.CONSULTANCY or not (bearer.every_pilot or bearer.siren == siren):
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à cette page.")
            now = portal.present(ctx)
            chosen = [_pilot_of(ctx, siren)] if siren else pilots(ctx)
            blocks = []
            for pilot in chosen:
                pilot_siren = _siren(ctx, pilot)
                waiting = {r.deliverable_id for r in participation.due_date_requests(ctx, participation.PENDING)}
                tasks = [{"task": task, "etat": state_of(task, now), "demande": task.id in waiting,
                          "fichiers": participation.files_of(ctx, task),
                          "ouvert": pilot.status == PilotStatus.ACTIVE and task.delivered_at is None
                          and task.accepted_at is None,
                          "jeton_remise": portal.form(bearer, f"remise:{task.id}"),
                          "jeton_report": portal.form(bearer, f"report:{task.id}")}
                         for task in deliverables_of(ctx, pilot)]
                blocks.append({"pilot": pilot, "siren": pilot_siren, "livrables": tasks,
                               "base": f"/l/{token}/prestataire/{pilot_siren}",
                               "charte": _charter(portal, ctx, bearer, pilot, CharterParty.CONSULTANCY)})
            return portal.page("prestataire.html", title="Le prestataire : livrables et charte",
                               **_common(ctx, token, fait), blocs=blocks, maintenant=now,
                               retour=f"/l/{token}/prestataire" + (f"/{siren}" if siren else ""))

    def _consultancy_task(ctx: Ctx, siren: str, key: str) -> Deliverable:
        return find_deliverable(ctx, _pilot_of(ctx, siren), key)

    def _consultant(siren: str) -> Callable[[Bearer], bool]:
        return lambda b: _can_sign(b, CharterParty.CONSULTANCY, siren)

    @app.post("/l/{token}/prestataire/{siren}/livrable/{key}/remise")
    async def hand_in(token: str, siren: str, key: str, request: Request) -> Response:
        form = await portal.form_of(request, token, _consultant(siren), max_files=1, max_fields=10)
        upload = form.get("fichier")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise InvalidInput("Choisissez le fichier du livrable. Rien n'a été enregistré.")
        data = await upload.read(MAX_BYTES + 1)
        with portal.acting(token, _field(form, "jeton"), lambda ctx: f"remise:{_consultancy_task(ctx, siren, key).id}",
                           _consultant(siren)) as (ctx, _b, now):
            task = _consultancy_task(ctx, siren, key)
            changed = participation.hand_in_file(ctx, task, filename=upload.filename, data=data, at=now,
                                                 by="prestataire")
        return RedirectResponse(f"{_back(request, token, siren)}?fait={'remise' if changed else 'deja-remis'}"
                                f"#livrable-{quote(key)}", status_code=303)

    @app.post("/l/{token}/prestataire/{siren}/livrable/{key}/report")
    async def ask_due(token: str, siren: str, key: str, request: Request) -> Response:
        form = await portal.form_of(request, token, _consultant(siren))
        with portal.acting(token, _field(form, "jeton"), lambda ctx: f"report:{_consultancy_task(ctx, siren, key).id}",
                           _consultant(siren)) as (ctx, _b, now):
            task = _consultancy_task(ctx, siren, key)
            participation.request_due_date(ctx, task, to=_paris_input(_field(form, "echeance"), "18:00"),
                                           reason=_field(form, "motif", multiline=True), at=now)
        return RedirectResponse(f"{_back(request, token, siren)}?fait=demande#livrable-{quote(key)}",
                                status_code=303)

    # --- the jury ----------------------------------------------------------------------------

    @app.get("/l/{token}/jury", response_class=HTMLResponse)
    def jury_page(token: str, fait: str | None = None) -> HTMLResponse:
        with portal.reading(token) as (ctx, bearer):
            if bearer.role != links.JUROR:
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à la page du jury.")
            juror = _juror_name(ctx, bearer)
            now = portal.present(ctx)
            jury = ctx.definition.jury
            conflicted = {c.application_id for c in participation.conflicts(ctx, juror)}
            applications = ctx.session.exec(select(Application).where(
                Application.programme_id == ctx.programme_id,
                col(Application.status).in_(JUDGED)).order_by(col(Application.id))).all()
            scores = {(s.application_id, s.criterion): s for s in ctx.session.exec(
                select(JuryScore).where(JuryScore.juror == juror)).all()}
            marked = {(application_id, criterion) for who, application_id, criterion
                      in not_applicable(ctx, [a.id for a in applications]) if who == juror}
            missing = set(missing_scores(ctx).get(juror, []))
            entries = []
            for application in applications:
                entries.append({"app": application, "form": form_of(ctx.session, application),
                                "pieces": _pieces(ctx.session, application), "conflit": application.id in conflicted,
                                "notes": {c.key: scores.get((application.id or 0, c.key)) for c in jury.criteria},
                                "na": {c.key for c in jury.criteria if (application.id, c.key) in marked},
                                "a_completer": application.receipt_number in missing,
                                "decision": _decision_by(application, now),
                                "jeton_conflit": portal.form(bearer, f"conflit:{application.id}")})
            submitted = participation.submitted_at(ctx, juror)
            open_ = (ctx.programme.state == "appel_clos" and now < jury.meeting and submitted is None)
            withdrawn = {pilot.application_id for pilot in ctx.session.exec(select(Pilot).where(
                Pilot.programme_id == ctx.programme_id, col(Pilot.withdrawn_at) <= now)).all()}
            retained = [a.lead_name for a in applications  # a territory that withdrew is no longer a pilot
                        if _decision_by(a, now) == ApplicationStatus.SELECTED and a.id not in withdrawn]
            return portal.page("jury.html", title=f"Jury : feuille de notes de {juror}", retenues=retained,
                               **_common(ctx, token, fait), juror=juror, jury=jury, candidatures=entries,
                               soumise=submitted, ouverte=open_, maintenant=now, labels=FIELD_LABELS,
                               jeton_notes=portal.form(bearer, "notes"),
                               jeton_soumettre=portal.form(bearer, "soumettre"),
                               base=f"/l/{token}/jury")

    def _is_juror(bearer: Bearer) -> bool:
        return bearer.role == links.JUROR

    @app.post("/l/{token}/jury/notes")
    async def save_scores(token: str, request: Request) -> Response:
        form = await portal.form_of(request, token, _is_juror, max_fields=2000)
        with portal.acting(token, _field(form, "jeton"), "notes", _is_juror) as (ctx, bearer, now):
            juror = _juror_name(ctx, bearer)
            jury = ctx.definition.jury
            inputs = []
            for application in ctx.session.exec(select(Application).where(
                    Application.programme_id == ctx.programme_id,
                    Application.status == ApplicationStatus.ADMISSIBLE)).all():
                for criterion in jury.criteria:
                    name = f"note-{application.id}-{criterion.key}"
                    if name not in form:
                        continue
                    value = _field(form, name)
                    if value in ("", "na"):  # still to be scored, or « non applicable »
                        score = None
                    elif SCORE.fullmatch(value) and 0 <= int(value) <= jury.scale_max:
                        score = int(value)
                    else:
                        raise InvalidInput(f"Note hors barème pour « {criterion.label} » "
                                           f"({application.lead_name}) : de 0 à {jury.scale_max}, ou non applicable.")
                    comment = _field(form, f"commentaire-{application.id}-{criterion.key}")
                    inputs.append(participation.ScoreInput(application, criterion.key, score, comment,
                                                           not_applicable=value == "na"))
            participation.save_scores(ctx, juror, inputs, at=now)
        return RedirectResponse(f"/l/{token}/jury?fait=notes", status_code=303)

    @app.post("/l/{token}/jury/conflit/{receipt}")
    async def conflict(token: str, receipt: str, request: Request) -> Response:
        form = await portal.form_of(request, token, _is_juror)
        with portal.acting(token, _field(form, "jeton"), lambda ctx: f"conflit:{find_application(ctx, receipt).id}",
                           _is_juror) as (ctx, bearer, now):
            application = find_application(ctx, receipt)
            application_id = application.id
            participation.declare_conflict(ctx, application, juror=_juror_name(ctx, bearer),
                                           reason=_field(form, "motif", multiline=True), at=now)
        return RedirectResponse(f"/l/{token}/jury?fait=conflit#candidature-{application_id}", status_code=303)

    @app.post("/l/{token}/jury/soumettre")
    async def submit(token: str, request: Request) -> Response:
        form = await portal.form_of(request, token, _is_juror)
        with portal.acting(token, _field(form, "jeton"), "soumettre", _is_juror) as (ctx, bearer, now):
            participation.submit_sheet(ctx, _juror_name(ctx, bearer), at=now)
        return RedirectResponse(f"/l/{token}/jury?fait=soumis", status_code=303)

    @app.get("/l/{token}/jury/piece/{file_id}")
    def piece(token: str, file_id: RowId) -> Response:
        with portal.reading(token) as (ctx, bearer):
            if bearer.role != links.JUROR:
                raise links.LinkForbidden("Ce lien personnel ne donne pas accès à ce document.")
            _juror_name(ctx, bearer)  # a juror taken off the jury reads nothing more
            row = ctx.session.get(ApplicationFile, file_id)
            version = ctx.session.get(ApplicationVersion, row.version_id) if row else None
            application = ctx.session.get(Application, version.application_id) if version else None
            if (row is None or application is None or application.programme_id != ctx.programme_id
                    or application.status != ApplicationStatus.ADMISSIBLE):
                raise NotFound("Ce document n'existe pas.")
            content, media, name = row.content, row.media_type, row.filename
        return Response(content, media_type=media,
                        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    for route in app.routes:  # RFC 9110 §9.3.2: what answers GET answers HEAD (probes, link scanners)
        if isinstance(route, APIRoute) and route.methods and "GET" in route.methods:
            route.methods.add("HEAD")
    return app


def _field(form: Any, name: str, *, multiline: bool = False) -> str:
    value = form.get(name)
    if value is None:
        return ""
    shown = name.split("-", 1)[0]  # « commentaire », not « commentaire-12-portage »: what the page calls it
    if not isinstance(value, str):
        raise InvalidInput(f"Le champ « {shown} » attend du texte. Rien n'a été enregistré.")
    if len(value) > 10_000:
        raise InvalidInput(f"Le champ « {shown} » est trop long. Rien n'a été enregistré.")
    if "\ufffd" in value:  # what Starlette makes of bytes that are not UTF-8
        raise InvalidInput(f"Le champ « {shown} » contient des caractères illisibles (texte qui n'est pas en "
                           "UTF-8) : retapez-le. Rien n'a été enregistré.")
    return value if multiline else value.strip()


def _page_of(request: Request) -> str | None:
    """The page a form was posted from (its first three or four path segments), to go back to."""
    token = request.path_params.get("token")
    if not token:
        return None
    parts = request.url.path.split("/")
    return "/".join(parts[:5]) if len(parts) > 4 and parts[3] != "jury" else "/".join(parts[:4])


def _back(request: Request, token: str, siren: str) -> str:
    return f"/l/{token}/prestataire/{siren}"


def _safe_name(key: str) -> str:
    return "".join(c for c in key if c.isalnum() or c in "-_")[:60] or "session"


def _juror_name(ctx: Ctx, bearer: Bearer) -> str:
    for member in ctx.definition.jury.members:
        if member.email.lower() == bearer.email:
            return member.juror
    raise links.LinkForbidden("Ce lien n'est plus celui d'un membre du jury.")


def _pieces(session: Session, application: Application) -> list[ApplicationFile]:
    version = session.exec(select(ApplicationVersion).where(
        ApplicationVersion.application_id == application.id,
        ApplicationVersion.version == application.version)).one()
    return list(session.exec(select(ApplicationFile).where(ApplicationFile.version_id == version.id)
                             .order_by(col(ApplicationFile.id))).all())


def _requests(ctx: Ctx) -> list[dict[str, Any]]:
    rows = []
    for request in participation.due_date_requests(ctx):
        task = ctx.session.get(Deliverable, request.deliverable_id)
        pilot = ctx.session.get(Pilot, task.pilot_id) if task else None
        rows.append({"demande": request, "livrable": task, "pilote": pilot})
    return rows


def _common(ctx: Ctx, token: str, fait: str | None) -> dict[str, Any]:
    replayed = ctx.programme.mode == ProgrammeMode.REPLAY
    return {"programme_title": ctx.programme.title, "organisateur": ctx.definition.organiser,
            "message": DONE.get(fait or ""), "token": token,
            "rejeu": ctx.programme.last_tick_at if replayed else None}


__all__ = ["create_app", "http_status"]
