"""The territory's pages: its year, its sessions (answer an invitation, add one to a calendar); and
every bearer's calendar feed to subscribe to (the consultancy's: also one per pilot)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.errors import InvalidInput
from models.read.calendar import feed_tag, may_subscribe, personal_feed
from models.read.pilot import pilot_of
from models.read.territory import session_calendar, territory_screen
from models.tables import CharterParty
from models.training import answer_invitation, find_session
from transitions.portal.deps import FormName, PilotPage, acting, party_rule, pilot_page, pilot_visit, visit
from transitions.portal.state import Act, PilotVisit, Visit
from transitions.portal.templating import page, see_other

router = APIRouter()
Subscriber = Annotated[Visit, visit(lambda bearer, params: may_subscribe(bearer),
                                     "Ce lien personnel ne donne pas de calendrier : le jury n'a pas de session.")]
TERRITORY_REFUSAL = "Ce lien personnel ne donne pas accès à la page de ce territoire."
Territory = Annotated[PilotVisit, pilot_visit(CharterParty.TERRITORY, TERRITORY_REFUSAL)]
TerritoryPage = Annotated[PilotPage, pilot_page(CharterParty.TERRITORY, TERRITORY_REFUSAL)]
"""The territory's page, made in one trip to the thread pool (the page every territory opens)."""
ConsultancyPilot = Annotated[PilotVisit, pilot_visit(CharterParty.CONSULTANCY,
                                                     "Ce lien personnel ne donne pas le calendrier de ce territoire.")]


@router.get("/l/{token}/territoire/{siren}", response_class=HTMLResponse, name="territory")
async def territory(request: Request, visit: TerritoryPage, fait: str | None = None) -> Response:
    def made(seen: PilotVisit) -> Response:
        screen = territory_screen(seen.ctx, seen.pilot, seen.siren, seen.now)
        return page(request, seen, "territoire.html", f"{seen.pilot.name} : votre année d'accompagnement", fait,
                    ecran=screen, pilote=seen.pilot, siren=seen.siren)

    return await visit.render(made)


def _answer_form(siren: str, key: str) -> FormName:
    return lambda ctx: f"reponse:{find_session(ctx, pilot_of(ctx, siren), key).id}"


@router.post("/l/{token}/territoire/{siren}/session/{key}", name="territory_answer")
def answer(request: Request, siren: str, key: str,
           act: Annotated[Act, acting(_answer_form, party_rule(CharterParty.TERRITORY))]) -> Response:
    pilot = pilot_of(act.ctx, siren)
    training_session = find_session(act.ctx, pilot, key)
    presence = act.field("presence")
    if presence not in ("oui", "non"):
        raise InvalidInput("Indiquez si le territoire sera présent ou non. Rien n'a été enregistré.")
    answer_invitation(act.ctx, pilot, training_session, attending=presence == "oui",
                      people=act.field("participants", multiline=True), at=act.now)
    return see_other(request, "territory", "reponse", f"session-{quote(key)}", token=act.token, siren=siren)


def _safe_name(key: str) -> str:
    return "".join(c for c in key if c.isalnum() or c in "-_")[:60] or "session"


@router.get("/l/{token}/territoire/{siren}/session/{key}.ics", name="territory_session_ics")
def session_ics(seen: Territory, key: str) -> Response:
    body = session_calendar(seen.ctx, seen.pilot, key, seen.portal.now())
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{_safe_name(key)}.ics"'})


@router.get("/l/{token}/calendrier.ics", name="calendar_feed")
def calendar_feed(request: Request, seen: Subscriber) -> Response:
    """The bearer's calendar to subscribe to: it follows every change (same UIDs, SEQUENCE). The
    consultancy's link for every pilot: what is coming for all (`calendar.programme_feed`), from the
    programme's present (a replayed programme's last tick: the 2015 demo's feed is not empty)."""
    return feed_answer(request, personal_feed(seen.ctx, seen.bearer, seen.portal.now(), present=seen.now))


@router.get("/l/{token}/prestataire/{siren}/calendrier.ics", name="consultancy_pilot_feed")
def consultancy_pilot_feed(request: Request, seen: ConsultancyPilot) -> Response:
    """One pilot's whole year (sessions and due dates) for the consultancy, linked from its block."""
    return feed_answer(request, personal_feed(seen.ctx, seen.bearer, seen.portal.now(), seen.siren))


def feed_answer(request: Request, body: bytes) -> Response:
    """A calendar feed with its entity tag: 304 without a body when the client's copy
    (If-None-Match, RFC 9110 §13.1.2) holds the same events, so a poll every few hours costs a
    few hundred bytes while nothing changes. Revalidated at each poll, kept by no shared cache
    (`private, no-cache`: its address holds a personal link)."""
    tag = feed_tag(body)
    headers = {"etag": tag, "cache-control": "private, no-cache"}
    asked = {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
    if tag in asked or tag.removeprefix("W/") in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={**headers, "content-disposition": 'inline; filename="calendrier.ics"'})
