"""Pilots as the other concept modules find them: the programme's pilots (by status, by SIREN,
receipt number or name), the rows of every active pilot at once, the places their sessions hold,
and a pilot's withdrawal as its pages tell it.

The charter and its signatures are in `models.charter`, the kick-off and the lay-out of a pilot's
year in `models.kickoff`, a withdrawal and the replacement it offers in `models.withdrawal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import col, select

from models.context import ProgrammeContext
from models.errors import NotFound
from models.forms import siren_or_reference
from models.tables import (
    Application,
    AuditEntry,
    CharterParty,
    Deliverable,
    Pilot,
    PilotStatus,
    SessionStatus,
    TrainingSession,
)
from models.text import single_line, visible
from models.wording import withdrawn


def pilots(ctx: ProgrammeContext, *statuses: str) -> list[Pilot]:
    query = select(Pilot).where(Pilot.programme_id == ctx.programme_id)
    if statuses:
        query = query.where(col(Pilot.status).in_(statuses))
    return list(ctx.session.exec(query.order_by(col(Pilot.rank))).all())


ActiveRow = TypeVar("ActiveRow", Deliverable, TrainingSession)


def by_active_pilot(ctx: ProgrammeContext, model: type[ActiveRow], *order: Any) -> dict[int, list[ActiveRow]]:
    """Rows of `model` (a table with a `pilot_id`) of every active pilot of the programme, by pilot
    id, each list in `order`, in one query: a stage walking every pilot reads them once."""
    found: dict[int, list[ActiveRow]] = {}
    for row in ctx.session.exec(select(model).join(Pilot).where(
            Pilot.programme_id == ctx.programme_id, Pilot.status == PilotStatus.ACTIVE).order_by(*order)):
        found.setdefault(row.pilot_id, []).append(row)
    return found


def find_pilot(ctx: ProgrammeContext, reference: str) -> Pilot:
    """A pilot by its lead's SIREN, receipt number or exact name; InvalidInput for a malformed
    SIREN (digits only, bad key or length), NotFound when nothing matches."""
    reference = siren_or_reference(reference)
    found = pilot_named(ctx, reference)
    if found is None:
        raise NotFound(f"Aucun territoire pilote ne correspond à « {visible(reference)[:80]} ».")
    return found


def pilot_named(ctx: ProgrammeContext, reference: str, *, siren_only: bool = False) -> Pilot | None:
    """The pilot whose lead's SIREN is `reference`, else (unless `siren_only`) whose receipt number,
    else whose exact name it is; None when none. One query per key tried, each on an index
    (application: (programme, lead SIREN), receipt number; pilot: its application), so a page
    finds its pilot in the same time whatever the number of pilots. A reference holding a control
    character (a NUL, which PostgreSQL cannot even compare) names no pilot."""
    try:
        reference = single_line(reference)
    except ValueError:
        return None
    values = {"programme_id": ctx.programme_id, "reference": reference}
    for query in _NAMED[:1] if siren_only else _NAMED:
        found = ctx.session.exec(query, params=values).first()
        if found is not None:
            return found
    return None


def _of_application(key: Any) -> Any:  # the pilot by its unique application, not by its programme's pilots
    return select(Pilot).where(col(Pilot.application_id).in_(select(Application.id).where(
        Application.programme_id == bindparam("programme_id"), key)))


_NAMED = tuple(query.order_by(col(Pilot.rank)).limit(1) for query in (
    _of_application(Application.lead_siren == bindparam("reference")),
    _of_application(Application.receipt_number == bindparam("reference")),
    select(Pilot).where(Pilot.programme_id == bindparam("programme_id"), Pilot.name == bindparam("reference"))))
"""`pilot_named`'s queries in the order it tries them (by SIREN, receipt number, name), built once:
every pilot's page runs the first."""


def slot_taken(ctx: ProgrammeContext, place: str, starts: datetime, ends: datetime, *,
               besides: int | None = None) -> bool:
    """Whether a planned session of the programme already holds this place at that time."""
    rows = ctx.session.exec(select(TrainingSession).join(Pilot, col(Pilot.id) == TrainingSession.pilot_id).where(
        Pilot.programme_id == ctx.programme_id, TrainingSession.location == place,
        TrainingSession.status == SessionStatus.PLANNED,
        col(TrainingSession.starts_at) < ends, col(TrainingSession.ends_at) > starts)).all()
    return any(row.id != besides for row in rows)


@dataclass(frozen=True)
class Withdrawal:
    """A pilot's withdrawal as its pages tell it: when, why, and the pilot offered its place."""

    at: datetime
    reason: str
    successor: str | None
    verb: str = "a été retiré du programme par le Cerdd"
    """« s'est retirée du programme » or « a été retirée du programme par le Cerdd », as the audit
    entry says who decided."""


def withdrawal_of(ctx: ProgrammeContext, pilot: Pilot, as_of: datetime | None = None) -> Withdrawal | None:
    """The pilot's withdrawal recorded by `as_of` (any time if None), or None. Its successor is the
    pilot whose place was offered by the withdrawal itself (`models.withdrawal.withdraw` selects it at the same
    instant); None when no application could take the place."""
    if pilot.withdrawn_at is None or (as_of is not None and pilot.withdrawn_at > as_of):
        return None
    successor = ctx.session.exec(select(Pilot.name).where(  # the place offered at the withdrawal's instant
        Pilot.programme_id == ctx.programme_id, Pilot.id != pilot.id, Pilot.selected_at == pilot.withdrawn_at)
        .order_by(col(Pilot.rank)).limit(1)).first()
    actor = ctx.session.exec(select(AuditEntry.actor).where(AuditEntry.action == "pilote.retire",
                                                            AuditEntry.entity == "pilot",
                                                            AuditEntry.entity_id == pilot.id)).first()
    return Withdrawal(pilot.withdrawn_at, pilot.withdraw_reason or "", successor,
                      withdrawn(pilot.name, by_itself=actor == CharterParty.TERRITORY))


def pilot_row(ctx: ProgrammeContext, model: type[ActiveRow], row_id: int, missing: str) -> ActiveRow:
    """The row `row_id` of a table owned by a pilot (a session, a deliverable) when that pilot is this
    programme's; NotFound(`missing`) otherwise (none, or another programme's: a page's address names
    only its own)."""
    row = ctx.session.get(model, row_id)
    pilot = ctx.session.get(Pilot, row.pilot_id) if row is not None else None
    if row is None or pilot is None or pilot.programme_id != ctx.programme_id:
        raise NotFound(missing)
    return row
