"""The handlers' dependencies: the portal, the visit read from the link (its bearer allowed on the
page, before any handler code), the pilot the path names, and the acting transaction with its
posted form (the link checked before the body is read, the form's one-time token spent).

Every dependency that touches the database is a plain function: FastAPI runs it in its thread
pool, so a request waiting on a lock never holds up another. One that does not (the portal, a
list's page number) is `async`: FastAPI would send a plain one to the thread pool too, a trip that
costs the event loop more than the function. A pilot's page is built in one trip (`PilotPage`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from models import links
from models.context import ProgrammeContext
from models.errors import InvalidInput
from models.links import Bearer
from models.read.pilot import pilot_of
from models.staff import StaffAct
from models.tables import CharterParty
from models.text import visible
from transitions.portal.fields import field
from transitions.portal.staff_state import StaffAction, StaffVisit, check_staff, staff_acting, staff_reading
from transitions.portal.state import FORBIDDEN, Act, PilotVisit, Portal, Visit

Rule = Callable[[Bearer, Mapping[str, Any]], bool]
"""Who may open a page: the bearer, given the path's parameters."""
FormName = Callable[[ProgrammeContext], str]
"""How an action finds its form's name once its link is checked (it may name a row: 404 if none)."""

RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
"""A row number in a path: beyond SQL's BIGINT it names nothing (404, not an overflow)."""


async def page_asked(page: str | None = None) -> int | None:
    """The page of a list the address asks for (« ?page=3 »; none: the first). Anything but a whole
    number from 1 (« abc », « 0 », « -2 », « 1.5 »): InvalidInput (422, in French), never a silent
    first page; a number beyond the last page (however long): the last, which the page names
    (« Page 40 sur 40 », `models.read.paging.Pager.of`)."""
    if page is None:
        return None
    digits = page.lstrip("0") if page.isascii() and page.isdigit() else ""
    if not digits:
        raise InvalidInput(f"Numéro de page « {visible(page)[:20]} » invalide : un nombre entier à partir de 1.")
    return min(int(digits), 10**9) if len(digits) <= 10 else 10**9


PageAsked = Annotated[int | None, Depends(page_asked)]
"""A list's page (`page_asked`: 422 for what is not a page number, the last for one beyond it)."""


async def get_portal(request: Request) -> Portal:
    return cast(Portal, request.app.state.portal)


PortalDep = Annotated[Portal, Depends(get_portal)]


def may_act_for(bearer: Bearer, party: str, siren: str | None) -> bool:
    """The bearer holds the link of `party` for the pilot `siren` (the consultancy's: for any)."""
    if bearer.role != party:
        return False
    return bearer.siren == siren or (party == CharterParty.CONSULTANCY and bearer.every_pilot)


def party_rule(party: str) -> Rule:
    """A page of `party` for the pilot of the path (`siren`)."""
    return lambda bearer, params: may_act_for(bearer, party, params.get("siren"))


def charter_rule(bearer: Bearer, params: Mapping[str, Any]) -> bool:
    """The charter's page of the path's party (`party`, one of the charter's) for its pilot."""
    party = str(params["party"])
    return party in set(CharterParty) and may_act_for(bearer, party, params.get("siren"))


def juror_rule(bearer: Bearer, params: Mapping[str, Any]) -> bool:
    return bearer.role == links.JUROR


def any_bearer(bearer: Bearer, params: Mapping[str, Any]) -> bool:
    return True


def visit(rule: Rule, refusal: str = FORBIDDEN) -> Any:
    """A page's visit: its link read, its bearer allowed by `rule` (LinkForbidden `refusal` otherwise)."""

    def read(request: Request, token: str, portal: PortalDep) -> Iterator[Visit]:
        with portal.reading(token) as (ctx, bearer):
            if not rule(bearer, request.path_params):
                raise links.LinkForbidden(refusal)
            yield Visit(portal, ctx, bearer, portal.present(ctx), token)

    return Depends(read, scope="function")


@contextmanager
def visiting_pilot(portal: Portal, request: Request, token: str, siren: str, allowed: Rule,
                   refusal: str) -> Iterator[PilotVisit]:
    """The visit of a page for the pilot the path names (`siren`; NotFound when none): the link read,
    its bearer `allowed` (LinkForbidden `refusal` otherwise), within the page's reading transaction."""
    with portal.reading(token) as (ctx, bearer):
        if not allowed(bearer, request.path_params):
            raise links.LinkForbidden(refusal)
        yield PilotVisit(portal, ctx, bearer, portal.present(ctx), token, pilot_of(ctx, siren), siren)


def pilot_visit(party: str, refusal: str = FORBIDDEN) -> Any:
    """A visit to a page of `party` for the pilot the path names (NotFound when none)."""
    allowed = party_rule(party)

    def read(request: Request, token: str, siren: str, portal: PortalDep) -> Iterator[PilotVisit]:
        with visiting_pilot(portal, request, token, siren, allowed, refusal) as seen:
            yield seen

    return Depends(read, scope="function")


@dataclass(frozen=True)
class PilotPage:
    """A page of `party` for the pilot the path names, made in one trip to the thread pool (link,
    bearer, pilot and page in one thread and one reading transaction) where `pilot_visit` and its
    handler take three (the dependency's start, the handler, its end): on the territory's page
    under load, three trips cost 13 to 20 % more CPU a page than one."""

    request: Request
    portal: Portal
    token: str
    siren: str
    allowed: Rule
    refusal: str

    async def render(self, make: Callable[[PilotVisit], Response]) -> Response:
        """The page `make` builds from the visit (any refusal raised as `pilot_visit` raises it)."""
        return await run_in_threadpool(self._made, make)

    def _made(self, make: Callable[[PilotVisit], Response]) -> Response:
        with visiting_pilot(self.portal, self.request, self.token, self.siren, self.allowed, self.refusal) as seen:
            return make(seen)


def pilot_page(party: str, refusal: str = FORBIDDEN) -> Any:
    """The `PilotPage` of `party` for the pilot the path names (nothing read until it renders)."""
    allowed = party_rule(party)

    async def of(request: Request, token: str, siren: str, portal: PortalDep) -> PilotPage:
        return PilotPage(request, portal, token, siren, allowed, refusal)

    return Depends(of)


def posted(rule: Rule, **limits: Any) -> Any:
    """The posted form, parsed within `limits` only once the link is known good and its bearer
    allowed (a refused link costs no parse)."""

    async def parse(request: Request, token: str, portal: PortalDep) -> FormData:
        await run_in_threadpool(portal.check, token, lambda bearer: rule(bearer, request.path_params))
        return await request.form(**limits)

    return Depends(parse)


def acting(form_name: Callable[..., FormName], rule: Rule, check: Callable[[FormData], None] | None = None,
           **limits: Any) -> Any:
    """An action: `form_name` (a dependency taking the path's parameters) names its form, then its
    posted form (see `posted`), then one transaction (see `Portal.acting`) around the handler, in
    which the form's one-time token is spent before the form is `check`ed."""

    named_by, parsed = Depends(form_name), posted(rule, **limits)

    # defaults, not Annotated: these annotations are strings, resolved in the module, not this closure
    def act(request: Request, token: str, portal: PortalDep, name: FormName = named_by,
            form: FormData = parsed) -> Iterator[Act]:
        def allowed(bearer: Bearer) -> bool:
            return rule(bearer, request.path_params)

        with portal.acting(token, form_token(form), name, allowed) as (ctx, bearer, now):
            if check is not None:  # once the form's token is known good: a forged form learns nothing
                check(form)
            yield Act(ctx, bearer, now, token, form)

    return Depends(act, scope="function")


def form_token(form: FormData) -> str:
    """The form's one-time token as posted (empty when missing: refused as such)."""
    return field(form, "jeton")


def named(name: str) -> Callable[[], FormName]:
    """A form whose name is fixed (« notes », « soumettre »)."""
    return lambda: (lambda ctx: name)


# --- The back office (`/equipe/`): the team signed in, each route declaring its act ----------------

STAFF_FORM_LIMITS: dict[str, Any] = {"max_files": 0, "max_fields": 20, "max_part_size": 64 * 1024}


def require(act: StaffAct) -> Any:
    """The signed-in member, allowed to do `act` (`models.staff.PERMISSIONS`): every back-office
    page declares one. Without a valid session: the sign-in page (a form: 401); a role that does not
    allow it: 403 in French."""

    def read(request: Request, portal: PortalDep) -> Iterator[StaffVisit]:
        with staff_reading(portal, request, act) as seen:
            yield seen

    return Depends(read, scope="function")


StaffDep = Annotated[StaffVisit, require(StaffAct.READ)]
"""Any signed-in member (every role may read)."""


def staff_form(name: str, act: StaffAct = StaffAct.READ, **limits: Any) -> Any:
    """A back-office form named `name` doing `act`: the session and role checked before the body is
    read (within `STAFF_FORM_LIMITS`, or the `limits` given), then one transaction (`staff_acting`)
    in which its one-time token is spent."""

    async def parse(request: Request, portal: PortalDep) -> FormData:
        await run_in_threadpool(check_staff, portal, request, act)
        return await request.form(**{**STAFF_FORM_LIMITS, **limits})

    parsed = Depends(parse)

    def act_in(request: Request, portal: PortalDep, form: FormData = parsed) -> Iterator[StaffAction]:
        with staff_acting(portal, request, form, name, act) as action:
            yield action

    return Depends(act_in, scope="function")


async def _anonymous_form(request: Request) -> FormData:
    return await request.form(**STAFF_FORM_LIMITS)


AnonymousForm = Annotated[FormData, Depends(_anonymous_form)]
"""A form posted before signing in (sign-in, forgotten password, invitation, reset)."""
