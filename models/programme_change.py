"""The plan of a change of a running programme: what a new definition moves in each active
pilot's year (`plan_change`), before anything is written.

Each active pilot's year is laid out under the stored and under the new definition from its own
kick-off (`models.layout.lay_out`, the kick-off's rule). An item the two layouts place alike is left
as it is (a session a place clash moved at kick-off stays where it is). An item they place
differently moves to its new place, unless it is refused, with why, and never applied:
- already past at the change's instant: a session started, held or cancelled, a deliverable handed
  in or accepted, a phase started (its notice went) or completed, a milestone reached or past its
  date (the manager was told), or a new date already past;
- changed by hand since its kick-off (a session rescheduled, a deliverable postponed or returned, and
  not where the stored definition lays it out: an earlier applied change is not a hand's, `by_hand`):
  the hand's decision stands; change it again by hand if needed.
Keys added by the new file are created for each active pilot where their date is still to come
(a session is then invited by the sessions stage as any other); a session removed from the file is
cancelled (iTIP CANCEL to those already invited) while still to come; a phase, milestone or
deliverable removed from the file is refused (its row stays: a year's record is not erased).
A change of the call's or kick-off's dates or of the accompaniment's duration moves nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlmodel import col, select

from models.clock import format_duration, format_paris, paris
from models.context import ProgrammeContext
from models.layout import KINDS, Kind, Laid, lay_out, started_before, working_day_at
from models.pilots import pilots, slot_taken
from models.programme import ProgrammeDefinition
from models.tables import Deliverable, Milestone, Pilot, PilotPhase, PilotStatus, SessionStatus, TrainingSession

Action = Literal["deplacer", "creer", "annuler"]
Row = PilotPhase | Milestone | TrainingSession | Deliverable
TABLES: dict[Kind, type[Row]] = {"phase": PilotPhase, "jalon": Milestone, "session": TrainingSession,
                                 "livrable": Deliverable}
SECTIONS: dict[Kind, str] = {"phase": "phases", "jalon": "milestones", "session": "sessions",
                             "livrable": "deliverables"}
WORDS: dict[Kind, str] = {"phase": "Phase", "jalon": "Jalon", "session": "Session", "livrable": "Livrable"}


@dataclass(frozen=True)
class Move:
    """One item of one pilot's year the change moves, creates or cancels: `before`/`after` are its
    start (or date) and `before_end`/`after_end` its end (phases, sessions), UTC; `cause` names the
    file's change (French, `Session formation-2 : date 3 mois → 3 mois et 1 semaine`)."""

    pilot_id: int
    pilot: str
    kind: Kind
    key: str
    title: str
    action: Action
    before: datetime | None
    after: datetime | None
    before_end: datetime | None
    after_end: datetime | None
    place: str | None
    cause: str
    row_id: int | None = None

    def describe(self) -> str:
        """One French line: what moves, from when to when (« Session « X » : déplacée du jeudi 1er
        octobre 2015, 9h30–12h30, au jeudi 8 octobre 2015, 9h30–12h30 » ; « Phase « Y » : se termine
        le mardi 15 décembre 2015 (au lieu du mardi 1er décembre 2015) »)."""
        what = f"{WORDS[self.kind]} « {self.title} »"
        added = "ajoutée" if self.kind in ("phase", "session") else "ajouté"
        if self.action == "creer" and self.after is not None:
            return f"{what} : {added}, le {_when(self.kind, self.after, self.after_end)}"
        if self.action == "annuler" and self.before is not None:
            return f"{what} : annulée (elle était prévue le {_when(self.kind, self.before, self.before_end)})"
        if self.kind == "session" and self.before is not None and self.after is not None:
            return (f"{what} : déplacée du {_when(self.kind, self.before, self.before_end)}, "
                    f"au {_when(self.kind, self.after, self.after_end)}")
        parts = []
        if self.before is not None and self.after is not None and self.before != self.after:
            verb = {"phase": "commence", "jalon": "prévu", "livrable": "à remettre"}[self.kind]
            parts.append(f"{verb} le {_day(self.kind, self.after)} (au lieu du {_day(self.kind, self.before)})")
        if self.before_end is not None and self.after_end is not None and self.before_end != self.after_end:
            parts.append(f"se termine le {_day(self.kind, self.after_end)} "
                         f"(au lieu du {_day(self.kind, self.before_end)})")
        return f"{what} : {' ; '.join(parts)}" if parts else what

    def shown(self) -> tuple[str, str, str, str, datetime | None, datetime | None]:
        """The move as a preview shows it: (change « apparait », « disparait » or « deplace », pilot,
        kind, `describe()`, before, after), a phase whose only end moves shown by its ends. What
        `apply` compares with the preview it requires."""
        change = {"creer": "apparait", "annuler": "disparait"}.get(self.action, "deplace")
        before, after = self.before, self.after
        if change == "deplace" and before == after and self.before_end != self.after_end:
            before, after = self.before_end, self.after_end
        return change, self.pilot, self.kind, self.describe(), before, after


def _day(kind: Kind, value: datetime) -> str:
    """A phase's day (« mardi 1er décembre 2015 »), a milestone's or deliverable's day and hour."""
    return format_paris(value, with_time=kind != "phase")


def _when(kind: Kind, starts: datetime, ends: datetime | None) -> str:
    """A session's day and hours (« jeudi 1er octobre 2015, 9h30–12h30 »), another item's `_day`."""
    if kind != "session" or ends is None:
        return _day(kind, starts)
    return f"{format_paris(starts, with_time=False)}, {_hour(starts)}–{_hour(ends)}"


def _hour(value: datetime) -> str:
    local = paris(value)
    return f"{local.hour}h{local.minute:02d}"


@dataclass(frozen=True)
class Refusal:
    """An item the change would move but may not, and why (French)."""

    pilot_id: int
    pilot: str
    kind: Kind
    key: str
    title: str
    why: str
    cause: str


@dataclass(frozen=True)
class ChangePlan:
    """What a new definition does to the active pilots' years at `at`."""

    at: datetime
    moves: list[Move] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    causes: dict[str, str] = field(default_factory=dict)
    """The file's changes per item (`kind:key` → French), including those that move nothing."""


FIELDS = {"at": "date", "start": "début", "end": "fin", "due": "échéance", "stagger": "décalage entre territoires",
          "hours": "heures", "start_time": "heure de début", "place": "lieu", "title": "titre",
          "audience": "public", "requires": "conditions"}
"""The French words for the fields of an accompaniment's item, in a change's cause."""
OFFSETS = frozenset({"at", "start", "end", "due", "stagger"})
"""The fields holding an ISO 8601 duration from the kick-off (shown in words: « 3 mois et 1 semaine »)."""


def causes(old: ProgrammeDefinition, new: ProgrammeDefinition) -> dict[str, str]:
    """The changes between two definitions' accompaniments, per item (`kind:key`), in French words:
    `Session formation-2 : date 3 mois → 3 mois et 1 semaine ; …`, « ajouté(e) » or « retiré(e) »."""
    found: dict[str, str] = {}
    for kind in KINDS:
        section = SECTIONS[kind]
        before = {item["key"]: item for item in old.accompaniment.model_dump(mode="json")[section]}
        after = {item["key"]: item for item in new.accompaniment.model_dump(mode="json")[section]}
        for key in [*before, *(k for k in after if k not in before)]:
            path, e = f"{WORDS[kind]} {key}", "e" if kind in ("phase", "session") else ""
            if key not in after:
                found[f"{kind}:{key}"] = f"{path} retiré{e} du fichier"
            elif key not in before:
                found[f"{kind}:{key}"] = f"{path} ajouté{e} au fichier"
            elif before[key] != after[key]:
                was, now = before[key], after[key]
                found[f"{kind}:{key}"] = f"{path} : " + " ; ".join(
                    f"{FIELDS.get(name, name)} {_shown(name, was.get(name))} → {_shown(name, now.get(name))}"
                    for name in sorted(set(was) | set(now)) if was.get(name) != now.get(name))
    if old.reminders.calendar != new.reminders.calendar:
        found["calendrier"] = "calendrier des rappels modifié (jours ouvrés, heures d'envoi)"
    return found


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name in OFFSETS and isinstance(value, str):
        return format_duration(value)
    return str(value)


def active_pilots(ctx: ProgrammeContext) -> list[Pilot]:
    """The pilots a change concerns: under way (neither withdrawn nor finished), started."""
    return [pilot for pilot in pilots(ctx, PilotStatus.ACTIVE) if pilot.kickoff_at is not None]


def stored(ctx: ProgrammeContext, pilot: Pilot) -> dict[tuple[Kind, str], Row]:
    """A pilot's year as stored, by (kind, key)."""
    rows: dict[tuple[Kind, str], Row] = {}
    for kind, table in TABLES.items():
        found: list[Row] = list(ctx.session.exec(select(table).where(  # type: ignore[arg-type]
            table.pilot_id == pilot.id).order_by(col(table.id))).all())
        for row in found:
            rows[kind, row.key] = row
    return rows


def plan_change(ctx: ProgrammeContext, new: ProgrammeDefinition, at: datetime) -> ChangePlan:
    """What `new` does at `at` to every active pilot's year (see the module's rules); writes nothing."""
    why = causes(ctx.definition, new)
    plan = ChangePlan(at=at, causes=why)
    old_calendar, new_calendar = ctx.definition.calendar(), new.calendar()
    for pilot in active_pilots(ctx):
        assert pilot.kickoff_at is not None
        staggers = started_before(ctx, pilot)
        before = {(item.kind, item.key): item for item in lay_out(
            ctx.definition.accompaniment, old_calendar, pilot.kickoff_at, pilot.name, staggers)}
        after = {(item.kind, item.key): item for item in lay_out(
            new.accompaniment, new_calendar, pilot.kickoff_at, pilot.name, staggers)}
        rows = stored(ctx, pilot)
        for slot in [*before, *(k for k in after if k not in before)]:
            kind, key = slot
            cause = why.get(f"{kind}:{key}", why.get("calendrier", ""))
            item, row = after.get(slot), rows.get(slot)
            if item is not None and row is None:
                _create(plan, pilot, item, cause, at)
            elif item is None and row is not None:
                _remove(plan, pilot, kind, row, cause, at)
            elif item is not None and row is not None and before.get(slot) != item:
                _move(ctx, plan, pilot, item, row, cause, at, before.get(slot))
    return plan


def _refuse(plan: ChangePlan, pilot: Pilot, kind: Kind, key: str, title: str, why: str, cause: str) -> None:
    plan.refused.append(Refusal(pilot.id or 0, pilot.name, kind, key, title, why, cause))


def _create(plan: ChangePlan, pilot: Pilot, item: Laid, cause: str, at: datetime) -> None:
    if item.starts_at <= at:
        _refuse(plan, pilot, item.kind, item.key, item.title,
                f"sa date ({format_paris(item.starts_at)}) est déjà passée", cause)
        return
    plan.moves.append(Move(pilot.id or 0, pilot.name, item.kind, item.key, item.title, "creer", None, item.starts_at,
                           None, item.ends_at, item.place, cause))


def _remove(plan: ChangePlan, pilot: Pilot, kind: Kind, row: Row, cause: str, at: datetime) -> None:
    if not isinstance(row, TrainingSession):
        _refuse(plan, pilot, kind, row.key, row.title, "retirer un élément d'une année en cours n'est pas pris en "
                "charge : il reste en place", cause)
        return
    past = _session_past(row, at)
    if past:
        _refuse(plan, pilot, kind, row.key, row.title, past, cause)
        return
    plan.moves.append(Move(pilot.id or 0, pilot.name, kind, row.key, row.title, "annuler", row.starts_at, None,
                           row.ends_at, None, row.location, cause, row.id))


def _session_past(row: TrainingSession, at: datetime) -> str | None:
    if row.status == SessionStatus.CANCELLED:
        return "la session est annulée"
    if row.starts_at <= at:
        return f"la session a commencé le {format_paris(row.starts_at)}"
    return None


def by_hand(row: TrainingSession | Deliverable, laid: Laid | None) -> bool:
    """Whether a session or deliverable was changed by hand: it was changed since it was created
    (its SEQUENCE or revision) and its stored date is not where the current definition (the stored
    version) lays it out. A change applied by `programme apply` moves it where the next version lays
    it out, so a later change may move it again (issue 26)."""
    if isinstance(row, TrainingSession):
        return bool(row.sequence) and (laid is None or row.starts_at != laid.starts_at)
    return bool(row.revision) and (laid is None or row.due_at != laid.starts_at)


def _move(ctx: ProgrammeContext, plan: ChangePlan, pilot: Pilot, item: Laid, row: Row, cause: str,
          at: datetime, laid: Laid | None) -> None:
    refusal: str | None = None
    starts, ends = item.starts_at, item.ends_at
    old: tuple[datetime, datetime | None, str | None]
    new: tuple[datetime, datetime | None, str | None]
    if isinstance(row, TrainingSession):
        refusal = _session_past(row, at) or (
            "la session a déjà été déplacée à la main" if by_hand(row, laid) else None)
        length = row.ends_at - row.starts_at
        while refusal is None and slot_taken(ctx, item.place or row.location, starts, starts + length, besides=row.id):
            starts = working_day_at(ctx.calendar, starts + timedelta(days=1), paris(starts).time())
        ends = starts + length
        old = (row.starts_at, row.ends_at, row.location)
        new = (starts, ends, item.place or row.location)
    elif isinstance(row, Deliverable):
        refusal = ("le livrable est déjà remis" if row.delivered_at or row.accepted_at else
                   "son échéance a déjà été changée à la main" if by_hand(row, laid) else None)
        old, new = (row.due_at, None, None), (starts, None, None)
    elif isinstance(row, Milestone):
        refusal = ("le jalon est atteint" if row.reached_at else
                   "sa date est passée (le Cerdd en a été averti)" if row.missed_at or row.due_at <= at else None)
        old, new = (row.due_at, None, None), (starts, None, None)
    else:
        refusal = ("la phase est terminée" if row.completed_at else
                   "la phase a commencé (son avis est parti)" if row.started_at and row.starts_at != starts else None)
        old, new = (row.starts_at, row.ends_at, None), (starts, ends, None)
    if old == new:
        return
    changed = [instant for instant, was in zip(new[:2], old[:2], strict=True) if instant is not None and instant != was]
    if refusal is None and any(instant <= at for instant in changed):
        refusal = f"la nouvelle date ({format_paris(min(changed))}) est déjà passée"
    if refusal is not None:
        _refuse(plan, pilot, item.kind, item.key, item.title, refusal, cause)
        return
    plan.moves.append(Move(pilot.id or 0, pilot.name, item.kind, item.key, item.title, "deplacer", old[0], new[0],
                           old[1], new[1], new[2], cause, row.id))

