"""The sessions list at an instant: each session's date, place and state as they stood then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.context import ProgrammeContext
from models.history import History
from models.pilots import find_pilot, pilots
from models.tables import SessionStatus, label
from models.training import held_at, sessions_of


@dataclass(frozen=True)
class SessionView:
    """A session as the list shows it."""

    pilot: str
    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    state: str
    sequence: int


def session_rows(ctx: ProgrammeContext, as_of: datetime, pilot_ref: str | None = None) -> list[SessionView]:
    """Every session of the pilots (or of one), by date, with its date, place and state as they stood
    at `as_of` (`models.history`: later moves and cancellations undone)."""
    chosen = [find_pilot(ctx, pilot_ref)] if pilot_ref else pilots(ctx)
    past = History(ctx.session, ctx.programme_id, as_of)  # a later move or cancellation undone
    rows = []
    for pilot in chosen:
        for training_session in past.all(sessions_of(ctx, pilot)):
            if training_session.status == SessionStatus.CANCELLED:
                state = f"annulée ({training_session.cancel_reason})"
            elif held_at(ctx, training_session, as_of):
                state = "tenue"
            elif training_session.ends_at <= as_of:
                state = "passée, émargement attendu"
            else:
                state = label(training_session.status) + (" (déplacée)" if training_session.sequence else "")
            rows.append(SessionView(pilot.name, training_session.key, training_session.title,
                                    training_session.starts_at, training_session.ends_at, training_session.location,
                                    state, training_session.sequence))
    return sorted(rows, key=lambda row: (row.starts_at, row.pilot))
