"""What each pilot's parties must do or attend next, at an instant, each step for the party whose
act it is: the territory signs the charter, answers its invitations and attends its sessions; the
consultancy signs and hands in its deliverables; the Cerdd signs, reviews what was handed in and
decides (a new due date asked for, a charter past its deadline)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from models.accompaniment import status_at
from models.charter import party_name, sign_by, signatures
from models.context import ProgrammeContext
from models.read.pilot_year import PilotYear
from models.tables import (
    CharterParty,
    CharterSignature,
    Deliverable,
    DueDateRequest,
    DueDateRequestStatus,
    Pilot,
    PilotStatus,
    SessionAnswer,
    SessionStatus,
    TrainingSession,
)


@dataclass(frozen=True)
class Step:
    """Something one of a pilot's parties (`party`, a `CharterParty`) must do or attend next."""

    pilot: str
    when: datetime
    what: str
    late: bool = False
    party: str = CharterParty.TERRITORY


def next_steps(ctx: ProgrammeContext, pilot: Pilot, as_of: datetime, party: str | None = None) -> list[Step]:
    """The pilot's next steps; only `party`'s when given (what its own page lists)."""
    return next_steps_of(ctx, [pilot], as_of) if party is None else steps_of_party(ctx, [pilot], as_of, party)


def steps_of_party(ctx: ProgrammeContext, chosen: list[Pilot], as_of: datetime, party: str) -> list[Step]:
    """`party`'s own next steps for every pilot of `chosen`, by instant."""
    return [step for step in next_steps_of(ctx, chosen, as_of) if step.party == party]


def _charter_steps(ctx: ProgrammeContext, pilot: Pilot, as_of: datetime,
                   signed_rows: dict[str, CharterSignature]) -> list[Step]:
    charter = ctx.definition.accompaniment.charter
    deadline = sign_by(ctx, pilot)
    signed = {party for party, row in signed_rows.items() if row.signed_at <= as_of}
    missing = sorted(set(charter.parties) - signed)
    steps = [Step(pilot.name, deadline, f"signature de la charte par {party_name(party)}", as_of > deadline, party)
             for party in missing]
    if missing and as_of > deadline:
        steps.append(Step(pilot.name, deadline, "décision sur la charte non signée : prolonger le délai ou retirer "
                          "le pilote", True, CharterParty.ORGANISER))
    return steps


def _session_step(pilot: Pilot, coming: list[TrainingSession], answers: dict[int, bool]) -> list[Step]:
    """The next session: to answer, to attend, or nothing when the territory said it will not come
    (`answers`: whether someone comes, by session id, for the sessions answered)."""
    if not coming:
        return []
    training_session = min(coming, key=lambda s: s.starts_at)
    attending = answers.get(training_session.id or 0)
    if attending is None:
        return [Step(pilot.name, training_session.starts_at,
                     f"réponse à l'invitation à la session « {training_session.title} »")]
    if not attending:
        return []
    return [Step(pilot.name, training_session.starts_at, f"session « {training_session.title} »")]


def _deliverable_steps(pilot: Pilot, owed: list[Deliverable], requests: list[tuple[DueDateRequest, Deliverable]],
                       as_of: datetime) -> list[Step]:
    consultancy, cerdd = CharterParty.CONSULTANCY, CharterParty.ORGANISER
    waiting = [t for t in owed if not (t.delivered_at and t.delivered_at <= as_of)]
    steps = [Step(pilot.name, t.due_at, f"remise du livrable « {t.title} »", True, consultancy)
             for t in waiting if t.due_at <= as_of]
    ahead = [t for t in waiting if t.due_at > as_of]
    if ahead:
        deliverable = min(ahead, key=lambda t: t.due_at)
        steps.append(Step(pilot.name, deliverable.due_at, f"remise du livrable « {deliverable.title} »", False,
                          consultancy))
    steps += [Step(pilot.name, t.delivered_at, f"examen du livrable « {t.title} » remis", False, cerdd)
              for t in owed if t.delivered_at and t.delivered_at <= as_of]
    steps += [Step(pilot.name, r.requested_at, f"décision sur la nouvelle échéance demandée pour « {t.title} »",
                   False, cerdd) for r, t in requests]
    return steps


def next_steps_of(ctx: ProgrammeContext, chosen: list[Pilot], as_of: datetime) -> list[Step]:
    """The next steps of every pilot of `chosen`, every party's, sorted by instant: the active
    pilots' sessions, answers, deliverables and requests come from four queries whatever their number."""
    own: dict[int, list[Step]] = defaultdict(list)
    active: list[Pilot] = []
    for pilot in chosen:
        state = status_at(pilot, as_of)
        if state == PilotStatus.CHARTER_PENDING and as_of >= pilot.selected_at:
            own[pilot.id or 0] += _charter_steps(ctx, pilot, as_of, signatures(ctx, pilot))
        elif state == PilotStatus.ACTIVE:
            active.append(pilot)
    ids = [p.id for p in active]
    coming: dict[int, list[TrainingSession]] = defaultdict(list)
    owed: dict[int, list[Deliverable]] = defaultdict(list)
    requests: dict[int, list[tuple[DueDateRequest, Deliverable]]] = defaultdict(list)
    answers: dict[int, bool] = {}
    if ids:
        for training_session in ctx.session.exec(select(TrainingSession).where(col(TrainingSession.pilot_id).in_(ids))):
            if _coming(training_session, as_of):
                coming[training_session.pilot_id].append(training_session)
        session_ids = [s.id for found in coming.values() for s in found]
        given = select(SessionAnswer).where(col(SessionAnswer.session_id).in_(session_ids),
                                            col(SessionAnswer.answered_at) <= as_of)
        _answered(answers, ctx.session.exec(given), as_of)
        for deliverable in ctx.session.exec(select(Deliverable).where(col(Deliverable.pilot_id).in_(ids))
                                            .order_by(col(Deliverable.id))):
            if _owed(deliverable, as_of):
                owed[deliverable.pilot_id].append(deliverable)
        pending = _pending_requests(as_of).where(col(Deliverable.pilot_id).in_(ids))
        for request, deliverable in ctx.session.exec(pending):
            requests[deliverable.pilot_id].append((request, deliverable))
    for pilot in active:
        key = pilot.id or 0
        own[key] += _session_step(pilot, coming[key], answers)
        own[key] += _deliverable_steps(pilot, owed[key], requests[key], as_of)
    # Each pilot's steps sorted, pilots in their order, then all by instant (stable: ties keep it).
    return sorted((step for pilot in chosen for step in sorted(own[pilot.id or 0], key=lambda s: s.when)),
                  key=lambda step: step.when)


def _coming(training_session: TrainingSession, as_of: datetime) -> bool:
    return training_session.starts_at > as_of and training_session.status != SessionStatus.CANCELLED


def _answered(answers: dict[int, bool], rows: Iterable[SessionAnswer], as_of: datetime) -> None:
    """Whether someone comes, by session id, from the answers given by `as_of` (any respondent's yes)."""
    for row in rows:
        if row.answered_at <= as_of:
            answers[row.session_id] = answers.get(row.session_id, False) or row.attending


def _owed(deliverable: Deliverable, as_of: datetime) -> bool:
    return not (deliverable.accepted_at and deliverable.accepted_at <= as_of)


def _pending_requests(as_of: datetime) -> Any:
    return (select(DueDateRequest, Deliverable).join(Deliverable)
            .where(DueDateRequest.status == DueDateRequestStatus.PENDING, col(DueDateRequest.requested_at) <= as_of)
            .order_by(col(DueDateRequest.id)))


def year_steps(ctx: ProgrammeContext, year: PilotYear, party: str) -> list[Step]:
    """`party`'s next steps for the pilot of `year` at its instant, as `next_steps` gives them, from the
    pilot's year read once (`models.read.pilot_year`); the pending due-date requests (the Cerdd's
    steps) are read only for the Cerdd."""
    pilot, as_of = year.pilot, year.as_of
    state = status_at(pilot, as_of)
    steps: list[Step] = []
    if state == PilotStatus.CHARTER_PENDING and as_of >= pilot.selected_at:
        steps = _charter_steps(ctx, pilot, as_of, year.signatures)
    elif state == PilotStatus.ACTIVE:
        answers: dict[int, bool] = {}
        coming = [s for s in year.sessions if _coming(s, as_of)]
        _answered(answers, (row for row in year.answers if row.session_id in {s.id for s in coming}), as_of)
        steps = _session_step(pilot, coming, answers)
        if party != CharterParty.TERRITORY:  # the deliverables' steps are the consultancy's and the Cerdd's
            requests = [] if party != CharterParty.ORGANISER else list(ctx.session.exec(
                _pending_requests(as_of).where(Deliverable.pilot_id == pilot.id)).all())
            steps += _deliverable_steps(pilot, [d for d in year.deliverables if _owed(d, as_of)],
                                        [(request, deliverable) for request, deliverable in requests], as_of)
    return sorted((step for step in steps if step.party == party), key=lambda step: step.when)
