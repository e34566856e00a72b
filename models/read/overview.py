"""The Cerdd's screen for a pilot: its charter, every pilot's progress, the due-date requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from models import deliverables as rules
from models.context import ProgrammeContext
from models.deliverables import due_date_requests
from models.errors import NotFound
from models.read.paging import Pager
from models.read.pilot import CharterView, charter_view
from models.read.status import pilot_rows
from models.read.steps import Step, steps_of_party
from models.tables import CharterParty, Deliverable, DueDateRequest, Pilot


@dataclass(frozen=True)
class RequestLine:
    """A request for a new due date, with its deliverable and pilot."""

    request: DueDateRequest
    deliverable: Deliverable | None
    pilot: Pilot | None
    own: bool
    """The request is about the page's pilot (only then may the page decide it)."""
    may_decide: bool
    form: str


@dataclass(frozen=True)
class OverviewScreen:
    """The Cerdd's page for one pilot."""

    pilot: Pilot
    charter: CharterView
    rows: tuple[dict[str, str], ...]
    """Every pilot's progress, as `transitions status` lists it."""
    requests: tuple[RequestLine, ...]
    steps: tuple[Step, ...] = ()
    """What the Cerdd has to do next for this pilot: sign, review, decide."""
    pager: Pager | None = None
    """Which page of the pilots `rows` shows (25 a page, by rank)."""


def overview_screen(ctx: ProgrammeContext, pilot: Pilot, now: datetime, page: int | None = None) -> OverviewScreen:
    """The Cerdd's page for `pilot` at `now`, page `page` of the pilots' progress (out of range: the
    nearest), read by an indexed count and one slice of the pilots selected by `now`."""
    selected = select(Pilot).where(Pilot.programme_id == ctx.programme_id, col(Pilot.selected_at) <= now)
    pager = Pager.of(ctx.session.exec(select(func.count()).select_from(selected.subquery())).one(), page)
    shown = list(ctx.session.exec(selected.order_by(col(Pilot.rank)).offset(pager.offset).limit(pager.size)).all())
    lines = []
    for request in due_date_requests(ctx):
        deliverable = ctx.session.get(Deliverable, request.deliverable_id)
        owner = ctx.session.get(Pilot, deliverable.pilot_id) if deliverable else None
        own = owner is not None and owner.id == pilot.id
        lines.append(RequestLine(request, deliverable, owner, own,
                                 own and bool(rules.may_decide_due_date(ctx, request, now)), f"decision:{request.id}"))
    return OverviewScreen(pilot, charter_view(ctx, pilot, CharterParty.ORGANISER, now),
                          tuple(pilot_rows(ctx.session, now, ctx.programme.slug, shown)), tuple(lines),
                          tuple(steps_of_party(ctx, [pilot], now, CharterParty.ORGANISER)), pager)


def request_of(ctx: ProgrammeContext, pilot: Pilot, number: int) -> DueDateRequest:
    """The due-date request `number` about one of the pilot's deliverables; NotFound otherwise."""
    found = ctx.session.get(DueDateRequest, number)
    deliverable = ctx.session.get(Deliverable, found.deliverable_id) if found else None
    if found is None or deliverable is None or deliverable.pilot_id != pilot.id:
        raise NotFound("Cette demande de report n'existe pas pour ce territoire.")
    return found
