"""The deliverables list at an instant: each deliverable's due date, hand-in and state as they
stood then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.clock import format_paris
from models.context import ProgrammeContext
from models.deliverables import deliverables_of
from models.history import History
from models.pilots import find_pilot, pilots
from models.tables import Deliverable


@dataclass(frozen=True)
class DeliverableView:
    """A deliverable as the consultancy's list shows it, with its state at an instant."""

    pilot: str
    key: str
    title: str
    due_at: datetime
    delivered_at: datetime | None
    state: str


def state_of(deliverable: Deliverable, as_of: datetime, withdrawn_at: datetime | None = None) -> str:
    """accepté, remis (en relecture), à reprendre, en retard or à venir, at `as_of` (facts recorded
    after `as_of` are ignored); « retiré le … » once its pilot was withdrawn (`withdrawn_at`) without it:
    nothing is owed any more."""
    late = deliverable.delivered_at is not None and deliverable.delivered_at > deliverable.due_at
    if deliverable.accepted_at is not None and deliverable.accepted_at <= as_of:
        return "accepté" + (" (remis en retard)" if late else "")
    if deliverable.delivered_at is not None and deliverable.delivered_at <= as_of:
        return ("remis en retard" if late else "remis") + ", en relecture"
    if withdrawn_at is not None and withdrawn_at <= as_of:
        return f"retiré le {format_paris(withdrawn_at, with_time=False)}"
    if deliverable.returned_at is not None and deliverable.returned_at <= as_of:
        return "à reprendre" + (", en retard" if as_of >= deliverable.due_at else "")
    return "en retard" if as_of >= deliverable.due_at else "à venir"


def _delivered(deliverable: Deliverable, as_of: datetime) -> datetime | None:
    delivered = deliverable.delivered_at
    return delivered if delivered is not None and delivered <= as_of else None


def deliverable_rows(ctx: ProgrammeContext, as_of: datetime, pilot_ref: str | None = None) -> list[DeliverableView]:
    """Every deliverable of the consultancy's pilots launched by `as_of`, by due date, with its due
    date, hand-in and state as they stood at `as_of` (`models.history`: later postponements and
    returns undone, later facts ignored)."""
    chosen = [find_pilot(ctx, pilot_ref)] if pilot_ref is not None else pilots(ctx)
    past = History(ctx.session, ctx.programme_id, as_of)  # a later postponement or return undone
    rows = [DeliverableView(pilot.name, t.key, t.title, t.due_at, _delivered(t, as_of),
                            state_of(t, as_of, pilot.withdrawn_at))
            for pilot in chosen if pilot.kickoff_at is not None and pilot.kickoff_at <= as_of  # launched by then
            for t in past.all(deliverables_of(ctx, pilot))]
    return sorted(rows, key=lambda row: (row.due_at, row.pilot))
