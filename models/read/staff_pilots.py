"""The back office's pilot screens (`/equipe/pilotes`, `/equipe/pilotes/{siren}`, issue 23): every
pilot with its charter's state and its progress, and one pilot in full: who signed its charter,
the text's SHA-256 and deadline, its phases and milestones, whether its deadline may be extended
or the pilot withdrawn, and the application its withdrawal would offer the place to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col

from models.charter import may_extend
from models.context import ProgrammeContext
from models.errors import Verdict
from models.read.paging import Listing, pilot_page
from models.read.pilot import CharterView, charter_view, siren_of
from models.read.report_data import PARTY_NAMES, PilotView, item_label, pilot_views
from models.tables import CharterParty, Pilot, PilotStatus
from models.withdrawal import may_withdraw, next_in_line


@dataclass(frozen=True)
class PilotLine:
    """One pilot in the list: its charter's state and how far its year has gone."""

    siren: str
    name: str
    rank: int
    status: str
    """The pilot's state in French (« charte à signer », « en cours »…)."""
    sign_by: datetime | None
    """The charter's deadline while it awaits signatures."""
    unsigned: tuple[str, ...]
    """The parties that have not signed yet (« le territoire »…), while it awaits signatures."""
    elapsed_percent: int
    late: int
    """How many items are late at the instant (milestones, deliverables, the charter)."""


@dataclass(frozen=True)
class Successor:
    """The application a withdrawal would offer the place to: rank and weighted score in the ranking."""

    name: str
    siren: str
    rank: int
    score: float


@dataclass(frozen=True)
class PilotBoard:
    """One pilot on the back office at an instant."""

    siren: str
    name: str
    status: str
    active: bool
    """Its state is not « retiré » nor « terminé »."""
    charter: CharterView
    progress: PilotView | None
    """Phases, milestones, sessions, deliverables at the instant (None before its selection)."""
    may_extend: Verdict
    may_withdraw: Verdict
    successor: Successor | None
    scale_max: int


def pilots_board(ctx: ProgrammeContext, now: datetime, page: int | None = None,
                 search: str = "") -> Listing[PilotLine]:
    """Page `page` of the pilots selected by `now`, by rank (PAGE_SIZE a page; with `search`, those
    whose name holds it or whose SIREN starts with it)."""
    pager, chosen = pilot_page(ctx, page, search, where=[col(Pilot.selected_at) <= now])
    lines = []
    for view in pilot_views(ctx, now, among=chosen):
        unsigned = tuple(PARTY_NAMES.get(party, party) for party in view.missing_parties)
        lines.append(PilotLine(view.siren, view.name, view.rank, item_label(view.status), view.sign_by, unsigned,
                               view.progress.elapsed_percent, len(view.late)))
    return Listing(tuple(lines), pager, search)


def pilot_board(ctx: ProgrammeContext, pilot: Pilot, now: datetime) -> PilotBoard:
    """The pilot's page at the programme's present `now`."""
    siren = siren_of(ctx, pilot)
    views = pilot_views(ctx, now, siren)
    offered = next_in_line(ctx, pilot) if pilot.status != PilotStatus.WITHDRAWN else None
    successor = None if offered is None else Successor(offered.application.lead_name, offered.application.lead_siren,
                                                       offered.rank, offered.score)
    return PilotBoard(siren, pilot.name, item_label(pilot.status),
                      pilot.status not in (PilotStatus.WITHDRAWN, PilotStatus.FINISHED),
                      charter_view(ctx, pilot, CharterParty.ORGANISER, now), views[0] if views else None,
                      may_extend(pilot), may_withdraw(pilot, now), successor, ctx.definition.jury.scale_max)

