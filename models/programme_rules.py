"""The rules a change of a running programme must keep (issue 26, guard rails): a proposed layout of
the items a change moves (sessions, deliverables, milestones, phases, of one pilot or many) checked
against each pilot's year and against the sessions already stored at the same places.

`clashes` lists every problem at once, in French; `transitions programme diff` shows them and
`transitions programme apply` refuses a change that has any. The definition-level rules (a file
whose own offsets break the year) live with the definition, in `models.programme`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import col, select

from models.clock import format_paris
from models.context import ProgrammeContext
from models.db import in_batches
from models.tables import Pilot, SessionStatus, TrainingSession

Kind = Literal["session", "livrable", "jalon", "phase"]


@dataclass(frozen=True)
class Placed:
    """One item of a pilot's year where a change would put it (instants in UTC)."""

    pilot_id: int
    pilot: str
    """The pilot's name, for messages."""
    kind: Kind
    key: str
    starts_at: datetime
    """A session's or a phase's start, a deliverable's due instant, a milestone's date."""
    ends_at: datetime | None
    place: str | None
    """Sessions only: where it is held."""


_NOUNS: dict[str, str] = {"session": "la session", "livrable": "le livrable", "jalon": "le jalon", "phase": "la phase"}


@dataclass(frozen=True)
class _Slot:
    """A session holding a place from `starts_at` to `ends_at`: proposed, or stored and not moved."""

    pilot_id: int
    pilot: str
    key: str
    starts_at: datetime
    ends_at: datetime
    proposed: bool


def clashes(ctx: ProgrammeContext, placed: Sequence[Placed]) -> list[str]:
    """Every rule the proposed layout `placed` breaks, one French sentence each naming the pilot,
    the item and the dates in Paris time: each item's problems in the order of `placed`, then the
    clashes at each place. An empty list when it keeps them all.

    Rules (issue 26, « garde-fous »): a session starts on or after its pilot's kick-off and ends by
    its end (`Pilot.kickoff_at`, `Pilot.ends_at`); a deliverable or a milestone falls by the pilot's
    end; a phase ends after it starts and lies within the pilot's year; no two sessions hold one
    place at overlapping times, whether both are proposed or one is a planned session already
    stored for the programme (cancelled sessions and the moved items themselves left out). A pilot
    not yet laid out (no kick-off) has no year to check against; a pilot that is not the
    programme's is named as unknown. Reads the pilots and the stored sessions at the proposed
    places in one query each per `models.db.IN_LIST` values, whatever the number of items."""
    pilots = _pilots(ctx, sorted({item.pilot_id for item in placed}))
    problems: list[str] = []
    for item in placed:
        pilot = pilots.get(item.pilot_id)
        if pilot is None:
            problems.append(f"{item.pilot} : territoire pilote inconnu de ce programme ({_NOUNS[item.kind]} "
                            f"{item.key}).")
            continue
        problems += _out_of_year(item, pilot)
    problems += _place_clashes(ctx, placed)
    return problems


def _pilots(ctx: ProgrammeContext, ids: list[int]) -> dict[int, Pilot]:
    found: dict[int, Pilot] = {}
    for batch in in_batches(ids):
        for pilot in ctx.session.exec(select(Pilot).where(Pilot.programme_id == ctx.programme_id,
                                                          col(Pilot.id).in_(batch))):
            found[pilot.id or 0] = pilot
    return found


def _out_of_year(item: Placed, pilot: Pilot) -> list[str]:
    """The problems of one item against its pilot's year (none when the pilot has no kick-off yet)."""
    what = f"{item.pilot} : {_NOUNS[item.kind]} {item.key}"
    ends = item.ends_at or item.starts_at
    problems = []
    if item.kind == "phase" and ends < item.starts_at:
        problems.append(f"{what} finirait le {format_paris(ends)}, avant de commencer "
                        f"(le {format_paris(item.starts_at)}).")
    kickoff, end = pilot.kickoff_at, pilot.ends_at
    if kickoff is None or end is None:
        return problems
    year = f"du {format_paris(kickoff)} au {format_paris(end)}"
    if item.kind == "session":
        if item.starts_at < kickoff:
            problems.append(f"{what} commencerait le {format_paris(item.starts_at)}, avant le lancement de "
                            f"son accompagnement (le {format_paris(kickoff)}).")
        if ends > end:
            problems.append(f"{what} finirait le {format_paris(ends)}, après la fin de son accompagnement "
                            f"(le {format_paris(end)}).")
    elif item.kind in ("livrable", "jalon"):
        if item.starts_at > end:
            verb = "serait dû" if item.kind == "livrable" else "tomberait"
            problems.append(f"{what} {verb} le {format_paris(item.starts_at)}, après la fin de son "
                            f"accompagnement (le {format_paris(end)}).")
    elif item.starts_at < kickoff or ends > end:
        problems.append(f"{what} (du {format_paris(item.starts_at)} au {format_paris(ends)}) sortirait de son "
                        f"année d'accompagnement ({year}).")
    return problems


def _place_clashes(ctx: ProgrammeContext, placed: Sequence[Placed]) -> list[str]:
    """Two sessions at one place with overlapping times, at least one of them proposed."""
    by_place: dict[str, list[_Slot]] = {}
    moved = set()
    for item in placed:
        if item.kind != "session" or item.place is None:
            continue
        moved.add((item.pilot_id, item.key))
        ends = item.ends_at or item.starts_at
        by_place.setdefault(item.place, []).append(
            _Slot(item.pilot_id, item.pilot, item.key, item.starts_at, max(ends, item.starts_at), True))
    if not by_place:
        return []
    earliest = min(slot.starts_at for slots in by_place.values() for slot in slots)
    latest = max(slot.ends_at for slots in by_place.values() for slot in slots)
    for batch in in_batches(sorted(by_place)):
        rows = ctx.session.exec(
            select(TrainingSession, Pilot.name).join(Pilot, col(Pilot.id) == TrainingSession.pilot_id).where(
                Pilot.programme_id == ctx.programme_id, col(TrainingSession.location).in_(batch),
                TrainingSession.status != SessionStatus.CANCELLED,
                col(TrainingSession.starts_at) < latest, col(TrainingSession.ends_at) > earliest))
        for row, name in rows:
            if (row.pilot_id, row.key) not in moved:
                by_place[row.location].append(_Slot(row.pilot_id, name, row.key, row.starts_at, row.ends_at, False))
    problems = []
    for place, slots in by_place.items():
        slots.sort(key=lambda slot: (slot.starts_at, slot.ends_at))
        for index, first in enumerate(slots):
            for second in slots[index + 1:]:
                if second.starts_at >= first.ends_at:
                    break
                if first.proposed or second.proposed:
                    problems.append(_overlap(place, first, second))
    return problems


def _overlap(place: str, first: _Slot, second: _Slot) -> str:
    def told(slot: _Slot) -> str:
        stored = "" if slot.proposed else ", déjà prévue"
        return (f"la session {slot.key} de {slot.pilot} (du {format_paris(slot.starts_at)} au "
                f"{format_paris(slot.ends_at)}{stored})")

    return f"Lieu « {place} » : {told(first)} chevaucherait {told(second)}."
