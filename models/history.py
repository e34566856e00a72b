"""Sessions, deliverables, phases and milestones as they stood at an earlier instant.

A session moved or cancelled, a deliverable postponed or returned, a phase or a milestone moved by
a change of the programme (`models.programme_apply`), changes its row in place: the
row holds today's values. Each of these acts records the values it replaced as data in its audit
entry (`details["avant"]`, see `before`), so a list, a report or an export asked for an earlier
instant undoes, newest first, the acts dated after that instant (`History`). Audit entries written
before this was recorded carry no `avant`: their rows keep today's values (the audit's French
summary still tells the story).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import literal
from sqlmodel import Session, and_, col, select

from models.tables import AuditEntry, Deliverable, Milestone, PilotPhase, TrainingSession

SESSION_ACTS = ("session.deplacee", "session.annulee")
DELIVERABLE_ACTS = ("livrable.reporte", "livrable.a_reprendre")
YEAR_ACTS = ("phase.deplacee", "jalon.deplace")
ADDED = "programme.element_ajoute"
"""An item a programme change added to a pilot's year (`models.programme_apply`): before it, the row
did not exist, and `History.all` leaves it out."""
UNDONE = SESSION_ACTS + DELIVERABLE_ACTS + YEAR_ACTS + (ADDED,)
ENTITY = {TrainingSession: "training_session", Deliverable: "deliverable", PilotPhase: "pilot_phase",
          Milestone: "milestone"}

Row = TypeVar("Row", TrainingSession, Deliverable, PilotPhase, Milestone)


class Act(NamedTuple):
    """What `History` reads of an audit entry (an `AuditEntry` has the same attributes): a query
    that joins acts to rows (`later`) selects these columns (`ACT_COLUMNS`), not the whole entry."""

    id: int
    at: datetime
    action: str
    entity: str
    entity_id: int | None
    details: dict[str, Any] | None


ACT_COLUMNS = (AuditEntry.id, AuditEntry.at, AuditEntry.action, AuditEntry.entity, AuditEntry.entity_id,
               AuditEntry.details)
"""The columns of `Act`, in its order."""


def before(row: TrainingSession | Deliverable | PilotPhase | Milestone, *fields: str) -> dict[str, Any]:
    """The current values of `fields` of `row`, as an act records them before changing them
    (instants as ISO 8601 text in UTC, so that they fit the audit's JSON details)."""
    return {name: _stored(getattr(row, name)) for name in fields}


def _stored(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


class History:
    """The undo log of one programme after `as_of`: every act on a session, a deliverable, a phase
    or a milestone dated
    later than `as_of`, read in one indexed query (none at all for the present, the usual case)."""

    def __init__(self, session: Session, programme_id: int, as_of: datetime) -> None:
        entries = session.exec(select(AuditEntry).where(
            AuditEntry.programme_id == programme_id, col(AuditEntry.at) > as_of,
            col(AuditEntry.action).in_(UNDONE)).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())).all()
        self._fill(entries, as_of)

    @classmethod
    def of(cls, entries: Iterable[AuditEntry | Act], as_of: datetime) -> History:
        """The undo log made of `entries`, the acts after `as_of` on some rows (read with them: `later`),
        in any order."""
        log = cls.__new__(cls)
        log._fill(sorted(entries, key=lambda entry: (entry.at, entry.id or 0), reverse=True), as_of)
        return log

    def _fill(self, entries: Iterable[AuditEntry | Act], as_of: datetime) -> None:
        self.as_of = as_of
        self._undo: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
        self._added: set[tuple[str, int]] = set()
        for entry in entries:  # newest first: undone in that order
            if entry.action == ADDED and entry.entity_id is not None:
                self._added.add((entry.entity, entry.entity_id))
            previous = (entry.details or {}).get("avant")
            if entry.entity_id is not None and isinstance(previous, dict):
                self._undo.setdefault((entry.entity, entry.entity_id), []).append(previous)

    @property
    def empty(self) -> bool:
        """Nothing to undo: no act after `as_of` on the rows it was read for (the present's usual case)."""
        return not self._undo and not self._added

    def at(self, row: Row) -> Row:
        """`row` as it stood at `as_of`: the row itself when nothing changed it since, otherwise a
        detached copy (never added to the session) with the earlier values restored."""
        undo = self._undo.get((ENTITY[type(row)], row.id or 0))
        if not undo:
            return row
        values = row.model_dump()
        for previous in undo:
            values.update({name: _loaded(name, value) for name, value in previous.items() if name in values})
        return type(row)(**values)

    def all(self, rows: Iterable[Row]) -> list[Row]:
        """`rows` as they stood at `as_of`, without those a later programme change added."""
        return [self.at(row) for row in rows if (ENTITY[type(row)], row.id or 0) not in self._added]


def later(model: type[TrainingSession | Deliverable | PilotPhase | Milestone], programme_id: Any,
          as_of: Any) -> Any:
    """The join condition of the acts after `as_of` on `model`'s rows, as `History` undoes them: a
    query on such rows outer-joined on it reads their undo log with them (`History.of`)."""
    return and_(AuditEntry.programme_id == programme_id, AuditEntry.entity == ENTITY[model],
                col(AuditEntry.entity_id) == model.id, col(AuditEntry.at) > as_of,
                col(AuditEntry.action).in_(_UNDONE_BOUND))


_UNDONE_BOUND = [literal(action) for action in UNDONE]
"""`UNDONE` as one bound parameter each: a list of values would be an expanding parameter, whose
SQL is rendered again at every execution of a statement otherwise built once."""


def _loaded(name: str, value: object) -> object:
    """A recorded value back to its column's type: instants (`*_at`) were stored as ISO text."""
    return datetime.fromisoformat(value) if name.endswith("_at") and isinstance(value, str) else value
