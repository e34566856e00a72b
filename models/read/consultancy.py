"""The consultancy's screen: each pilot's deliverables (hand in a file, ask for a new due date) and
its charter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from models import deliverables as rules
from models.context import ProgrammeContext
from models.deliverables import deliverables_of, due_date_requests, files_of, find_deliverable
from models.pilots import pilots
from models.read.deliverables import state_of
from models.read.paging import Pager
from models.read.pilot import CharterView, charter_view, pilot_of, siren_of
from models.read.steps import Step, next_steps
from models.tables import CharterParty, Deliverable, DeliverableFile, DueDateRequestStatus, Pilot


@dataclass(frozen=True)
class DeliverableLine:
    """One deliverable as the consultancy sees it."""

    deliverable: Deliverable
    state: str
    requested: bool
    """A new due date was asked for and waits for the Cerdd's decision."""
    files: tuple[DeliverableFile, ...]
    may_hand_in: bool
    may_request_due_date: bool
    hand_in_form: str
    due_date_form: str


@dataclass(frozen=True)
class PilotBlock:
    """One pilot on the consultancy's page."""

    pilot: Pilot
    siren: str
    deliverables: tuple[DeliverableLine, ...]
    charter: CharterView
    steps: tuple[Step, ...] = ()
    """What the consultancy has to do next for this pilot: sign, hand in."""


def _line(ctx: ProgrammeContext, pilot: Pilot, deliverable: Deliverable, waiting: set[int],
          now: datetime) -> DeliverableLine:
    requested = deliverable.id in waiting
    pending = deliverable.delivered_at is None and deliverable.accepted_at is None  # handed in again: nothing changes
    return DeliverableLine(deliverable, state_of(deliverable, now, pilot.withdrawn_at), requested,
                           tuple(files_of(ctx, deliverable)),
                           pending and bool(rules.may_hand_in(ctx, deliverable, now)),
                           bool(rules.may_request_due_date(ctx, deliverable, now)),
                           f"remise:{deliverable.id}", f"report:{deliverable.id}")


PILOTS_A_PAGE = 10
"""Pilots on a page of the consultancy's list: each block carries its deliverables' forms and its
charter (about 14 KB), so 10 keep the page well under 300 KB."""


@dataclass(frozen=True)
class ConsultancyScreen:
    """The consultancy's page: one pilot's block, or a page of every pilot's (`pager`)."""

    blocks: tuple[PilotBlock, ...]
    pager: Pager | None


def consultancy_page(ctx: ProgrammeContext, siren: str | None, now: datetime, page: int | None) -> ConsultancyScreen:
    """The consultancy's page at `now`: one pilot's (SIREN `siren`), or page `page` of every pilot's
    by rank (out of range: the nearest), read by an indexed count and one slice of the pilots."""
    if siren:
        return ConsultancyScreen(consultancy_screen(ctx, siren, now), None)
    every = select(Pilot).where(Pilot.programme_id == ctx.programme_id)
    pager = Pager.of(ctx.session.exec(select(func.count()).select_from(every.subquery())).one(), page, PILOTS_A_PAGE)
    chosen = list(ctx.session.exec(every.order_by(col(Pilot.rank)).offset(pager.offset).limit(pager.size)).all())
    return ConsultancyScreen(consultancy_screen(ctx, None, now, chosen), pager)


def consultancy_screen(ctx: ProgrammeContext, siren: str | None, now: datetime,
                       chosen: list[Pilot] | None = None) -> tuple[PilotBlock, ...]:
    """The consultancy's blocks at `now`: one pilot's (SIREN `siren`), the `chosen` pilots', or every pilot's."""
    chosen = [pilot_of(ctx, siren)] if siren else chosen if chosen is not None else pilots(ctx)
    waiting = {r.deliverable_id for r in due_date_requests(ctx, DueDateRequestStatus.PENDING)}
    return tuple(PilotBlock(pilot, siren_of(ctx, pilot),
                            tuple(_line(ctx, pilot, deliverable, waiting, now) for deliverable in deliverables_of(ctx,
                                                                                                                  pilot)),
                            charter_view(ctx, pilot, CharterParty.CONSULTANCY, now),
                            tuple(next_steps(ctx, pilot, now, CharterParty.CONSULTANCY)))
                 for pilot in chosen)


def deliverable_of(ctx: ProgrammeContext, siren: str, key: str) -> Deliverable:
    """The deliverable `key` of the pilot `siren`; NotFound or Refused (not yet planned) otherwise."""
    return find_deliverable(ctx, pilot_of(ctx, siren), key)
