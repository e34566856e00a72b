"""The back office's sessions (issue 23): every pilot's sessions at an instant, and one session's
page with what may be done to it and its attendance sheet (émargement), pre-filled with the
invitees and the territory's answer to the invitation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.context import ProgrammeContext
from models.pilots import pilot_row
from models.read.paging import Listing, pilot_page
from models.read.pilot import siren_of
from models.recipients import consultancy_contacts, territory_contacts
from models.tables import Attendance, Pilot, PilotStatus, SessionAnswer, SessionStatus, TrainingSession, label
from models.training import held_at, may_change, may_record_attendance, sessions_of


@dataclass(frozen=True)
class SessionLine:
    """A session in the list: its row number (its page), dates, place and state at the instant."""

    id: int
    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    state: str


@dataclass(frozen=True)
class PilotSessions:
    pilot: str
    siren: str
    sessions: tuple[SessionLine, ...]


def _state(ctx: ProgrammeContext, training_session: TrainingSession, now: datetime) -> str:
    if training_session.status == SessionStatus.CANCELLED:
        return f"annulée ({training_session.cancel_reason})"
    if held_at(ctx, training_session, now):
        return "tenue"
    if training_session.ends_at <= now:
        return "passée, émargement attendu"
    return label(training_session.status) + (" (déplacée)" if training_session.sequence else "")


def sessions_screen(ctx: ProgrammeContext, now: datetime, page: int | None = None,
                    search: str = "") -> Listing[PilotSessions]:
    """Page `page` (PAGE_SIZE pilots, by rank; with `search`, those whose name holds it or whose SIREN
    starts with it) of the pilots whose accompaniment started (active or finished, withdrawn ones too:
    their past sessions keep their attendance), with their sessions by date and their state at `now`."""
    pager, chosen = pilot_page(ctx, page, search, where=[Pilot.status != PilotStatus.CHARTER_PENDING])
    blocks = []
    for pilot in chosen:
        lines = tuple(SessionLine(s.id or 0, s.key, s.title, s.starts_at, s.ends_at, s.location, _state(ctx, s, now))
                      for s in sessions_of(ctx, pilot))
        blocks.append(PilotSessions(pilot.name, siren_of(ctx, pilot), lines))
    return Listing(tuple(blocks), pager, search)


@dataclass(frozen=True)
class SheetLine:
    """One person on the attendance sheet: who, for which organisation, what was announced, and
    what is recorded (None: nothing yet)."""

    person: str
    organisation: str
    email: str
    announced: str
    present: bool | None
    ticked: bool
    """What the sheet shows ticked: present as recorded, or, before any record, expected (the
    territory announced them, or the consultancy leading the session)."""


@dataclass(frozen=True)
class SessionSheet:
    """A session's page: the session, whether it may still move (`change_refusal` None) and
    whether its attendance may be recorded (`sheet_refusal` None), and its attendance sheet."""

    id: int
    pilot: str
    siren: str
    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    state: str
    change_refusal: str | None
    sheet_refusal: str | None
    lines: tuple[SheetLine, ...]


def session_by_id(ctx: ProgrammeContext, session_id: int) -> TrainingSession:
    """The programme's session with this row number (NotFound otherwise)."""
    return pilot_row(ctx, TrainingSession, session_id, f"Aucune session n° {session_id} dans ce programme.")


def _announced(answer: SessionAnswer | None) -> str:
    if answer is None:
        return "pas de réponse du territoire"
    return "présence annoncée" if answer.attending else "absence annoncée"


def sheet_lines(ctx: ProgrammeContext, training_session: TrainingSession) -> tuple[SheetLine, ...]:
    """The attendance sheet: the territory's invitees (with its answer), the people its answer
    names, the consultancy's contacts, then anyone else already recorded; one line per name."""
    pilot = ctx.session.get(Pilot, training_session.pilot_id)
    assert pilot is not None
    answer = ctx.session.exec(select(SessionAnswer).where(SessionAnswer.session_id == training_session.id)
                              .order_by(col(SessionAnswer.answered_at).desc())).first()
    recorded = {row.person: row for row in ctx.session.exec(
        select(Attendance).where(Attendance.session_id == training_session.id).order_by(col(Attendance.id))).all()}
    coming = answer is not None and answer.attending
    wanted = [(p.name, pilot.name, p.email, _announced(answer), coming) for p in territory_contacts(ctx, pilot)]
    named = [line.strip() for line in (answer.people if answer else "").splitlines() if line.strip()]
    wanted += [(name, pilot.name, "", "annoncé·e par le territoire", True) for name in named]
    wanted += [(p.name, ctx.definition.consultancy.name, p.email, "prestataire (anime la session)", True)
               for p in consultancy_contacts(ctx)]
    wanted += [(row.person, row.organisation, "", "ajouté·e à l'émargement", False) for row in recorded.values()]
    lines: dict[str, SheetLine] = {}
    for person, organisation, email, announced, expected in wanted:
        if person.casefold() not in lines:
            row = recorded.get(person)
            lines[person.casefold()] = SheetLine(person, row.organisation if row else organisation, email, announced,
                                                 row.present if row else None, row.present if row else expected)
    return tuple(lines.values())


def session_sheet(ctx: ProgrammeContext, session_id: int, now: datetime) -> SessionSheet:
    """The page of session `session_id` at `now` (NotFound for another programme's or none)."""
    row = session_by_id(ctx, session_id)
    pilot = ctx.session.get(Pilot, row.pilot_id)
    assert pilot is not None
    return SessionSheet(row.id or 0, pilot.name, siren_of(ctx, pilot), row.key, row.title, row.starts_at,
                        row.ends_at, row.location, _state(ctx, row, now), may_change(ctx, row, now).reason,
                        may_record_attendance(row, now).reason, sheet_lines(ctx, row))
