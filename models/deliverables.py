"""The consultancy's deliverables per pilot: due dates (changed only with a reason), reminders and
overdue notices following the current due date, delivery (with its file, from the portal), the
consultancy's requests for a new due date and the Cerdd's decision on them, and the Cerdd's review
(accepted, or returned for rework with a comment)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from models import attachments, history
from models.clock import format_paris, paris, utc
from models.context import ProgrammeContext
from models.db import in_batches
from models.errors import ALLOWED, InvalidInput, NotFound, Refused, Verdict
from models.notices import NoticeKind, Recipient
from models.pilots import pilots
from models.recipients import consultancy_contacts, manager
from models.reminders import Planned, due_now, plan_rule
from models.stages import StageName, stage
from models.tables import (
    Deliverable,
    DeliverableFile,
    DueDateRequest,
    DueDateRequestStatus,
    Pilot,
    PilotStatus,
    ProgrammeState,
)
from models.text import require_text, visible
from models.wording import agreement


def deliverables_of(ctx: ProgrammeContext, pilot: Pilot) -> list[Deliverable]:
    """A pilot's deliverables, by due date."""
    return list(ctx.session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id)
                                 .order_by(col(Deliverable.due_at))).all())


_DELIVERABLE: Any = Deliverable.__table__  # type: ignore[attr-defined]
_PILOT: Any = Pilot.__table__  # type: ignore[attr-defined]
_OPEN: Any = (sa_select(_DELIVERABLE.c.id, _DELIVERABLE.c.pilot_id, _DELIVERABLE.c.due_at, _DELIVERABLE.c.returned_at,
                        _DELIVERABLE.c.revision)
              .join_from(_DELIVERABLE, _PILOT, _DELIVERABLE.c.pilot_id == _PILOT.c.id)
              .where(_PILOT.c.programme_id == bindparam("programme_id"), _PILOT.c.status == PilotStatus.ACTIVE,
                     _DELIVERABLE.c.delivered_at.is_(None), _DELIVERABLE.c.accepted_at.is_(None))
              .order_by(_DELIVERABLE.c.due_at, _DELIVERABLE.c.id))
"""The statement `open_deliverables` runs, built once (see `models.context._PROGRAMMES`)."""


def open_deliverables(ctx: ProgrammeContext) -> dict[int, list[Any]]:
    """Every active pilot's deliverables not handed in nor accepted, by pilot id then due date, as
    the columns their reminders depend on (rows with `id`, `pilot_id`, `due_at`, `returned_at`,
    `revision`), in one query: a stage walking every pilot reads them once, and builds no row
    object for the many whose latest reminder went out long ago."""
    found: dict[int, list[Any]] = {}
    for row in ctx.session.exec(_OPEN, params={"programme_id": ctx.programme_id}):
        found.setdefault(row.pilot_id, []).append(row)
    return found


def _rows(ctx: ProgrammeContext, ids: list[int]) -> dict[int, Deliverable]:
    """These deliverables as row objects, by id (one query per `models.db.IN_LIST` ids)."""
    found: dict[int, Deliverable] = {}
    for batch in in_batches(ids):
        found.update((row.id or 0, row) for row in ctx.session.exec(
            select(Deliverable).where(col(Deliverable.id).in_(batch))))
    return found


def find_deliverable(ctx: ProgrammeContext, pilot: Pilot, key: str) -> Deliverable:
    """The pilot's deliverable with this key; Refused before the pilot starts, NotFound if unknown."""
    if pilot.status == PilotStatus.CHARTER_PENDING:
        raise Refused(f"L'accompagnement de {pilot.name} n'a pas commencé : ses livrables seront planifiés "
                      "à son lancement, une fois la charte signée par les trois parties.")
    for deliverable in deliverables_of(ctx, pilot):
        if deliverable.key == key:
            return deliverable
    known = ", ".join(t.key for t in deliverables_of(ctx, pilot)) or "aucun"
    raise NotFound(f"Livrable « {visible(key)[:80]} » inconnu pour {pilot.name} (livrables : {known}).")


def _pilot_of(ctx: ProgrammeContext, deliverable: Deliverable) -> Pilot:
    pilot = ctx.session.get(Pilot, deliverable.pilot_id)
    assert pilot is not None
    return pilot


def _started(ctx: ProgrammeContext, deliverable: Deliverable, at: datetime) -> Verdict:
    """A deliverable's pilot is under way at `at`: its accompaniment started, and it was not withdrawn."""
    pilot = _pilot_of(ctx, deliverable)
    if pilot.status == PilotStatus.CHARTER_PENDING or (pilot.kickoff_at and at < pilot.kickoff_at):
        return Verdict(f"L'accompagnement de {pilot.name} n'a pas commencé à cette date.")
    if pilot.status == PilotStatus.WITHDRAWN:
        return Verdict(f"{pilot.name} a été retiré{agreement(pilot.name)} du programme : ses livrables ne se "
                       "remettent plus et ne changent plus d'échéance.")
    return ALLOWED


def may_hand_in(ctx: ProgrammeContext, deliverable: Deliverable, at: datetime) -> Verdict:
    """Whether the consultancy may hand in `deliverable` at `at`: once the pilot's accompaniment has started,
    not for a withdrawn pilot, and not before the instant it was returned for rework. One already
    handed in may be handed in again: nothing changes (`deliver` says so)."""
    started = _started(ctx, deliverable, at)
    if not started:
        return started
    if (deliverable.delivered_at is None and deliverable.accepted_at is None and deliverable.returned_at is not None
            and at < deliverable.returned_at):
        return Verdict(f"« {deliverable.title} » a été renvoyé pour reprise le "
                       f"{format_paris(deliverable.returned_at)}.")
    return ALLOWED


def deliver(ctx: ProgrammeContext, deliverable: Deliverable, *, at: datetime, by: str) -> bool:
    """Mark a deliverable as handed in (again, after a return) when `may_hand_in` allows it; handing
    it in twice changes nothing. A request for a new due date still waiting for the Cerdd is closed
    as moot (`DueDateRequestStatus.MOOT`)."""
    may_hand_in(ctx, deliverable, at).enforce()
    if deliverable.delivered_at is not None or deliverable.accepted_at is not None:
        return False
    pilot = _pilot_of(ctx, deliverable)
    deliverable.delivered_at = at
    ctx.session.add(deliverable)
    late = " (en retard)" if at > deliverable.due_at else ""
    again = " de nouveau" if deliverable.returned_at else ""
    ctx.audit(at, by, "livrable.remis", "deliverable", deliverable.id,
              f"{pilot.name} : livrable « {deliverable.title} » remis{again}{late}.")
    waiting = select(DueDateRequest).where(DueDateRequest.deliverable_id == deliverable.id,
                                           DueDateRequest.status == DueDateRequestStatus.PENDING)
    for request in ctx.session.exec(waiting).all():
        request.status, request.decided_at = DueDateRequestStatus.MOOT, at
        ctx.session.add(request)
        ctx.audit(at, by, "livrable.report_sans_objet", "deliverable", deliverable.id,
                  f"{pilot.name} : la demande de report n° {request.id} de « {deliverable.title} » est sans objet "
                  "(livrable remis).", demande=request.id)
    return True


def may_review(ctx: ProgrammeContext, deliverable: Deliverable, at: datetime) -> Verdict:
    """Whether the Cerdd may accept or return `deliverable` at `at`: handed in by then, not accepted."""
    pilot = _pilot_of(ctx, deliverable)
    if deliverable.accepted_at is not None:
        return Verdict(f"« {deliverable.title} » ({pilot.name}) est déjà accepté.")
    if deliverable.delivered_at is None:
        return Verdict(f"« {deliverable.title} » ({pilot.name}) n'a pas été remis : rien à examiner.")
    if at < deliverable.delivered_at:
        return Verdict(f"« {deliverable.title} » n'a été remis que le {format_paris(deliverable.delivered_at)}.")
    return ALLOWED


def _reviewable(ctx: ProgrammeContext, deliverable: Deliverable, at: datetime) -> Pilot:
    may_review(ctx, deliverable, at).enforce()
    return _pilot_of(ctx, deliverable)


def _people(ctx: ProgrammeContext) -> list[Recipient]:
    return consultancy_contacts(ctx) + manager(ctx)


def accept(ctx: ProgrammeContext, deliverable: Deliverable, *, at: datetime, by: str = "cerdd") -> bool:
    """The Cerdd accepts a deliverable handed in; accepting twice changes nothing."""
    if deliverable.accepted_at is not None:
        return False
    pilot = _reviewable(ctx, deliverable, at)
    deliverable.accepted_at = at
    ctx.session.add(deliverable)
    ctx.session.flush()
    ctx.notify(NoticeKind.DELIVERABLE_ACCEPTED, recipients=_people(ctx), key=f"livrable-{deliverable.id}",
               context={"pilote": pilot, "livrable": deliverable}, at=at)
    ctx.audit(at, by, "livrable.accepte", "deliverable", deliverable.id,
              f"{pilot.name} : « {deliverable.title} » accepté.")
    return True


def return_for_rework(ctx: ProgrammeContext, deliverable: Deliverable, *, comment: str, at: datetime,
                      due: datetime | None = None,
                      by: str = "cerdd") -> bool:
    """The Cerdd returns a deliverable for rework with a comment, optionally with a new due date
    (otherwise the Cerdd's default: ten working days); reminders follow the new revision.
    InvalidInput for a comment holding a control character or a bidi override, or over 4,000
    characters."""
    if not comment.strip():
        raise InvalidInput("Retour refusé : le commentaire est obligatoire (ce qu'il faut reprendre).")
    comment = require_text(comment, "Commentaire", max_length=4000)
    pilot = _reviewable(ctx, deliverable, at)
    if due is None:
        due = utc(datetime.combine(ctx.calendar.shift_working_days(paris(at).date(), 10), time(18)))
    if due <= at:
        raise InvalidInput(f"La nouvelle échéance ({format_paris(due)}) doit être postérieure au {format_paris(at)}.")
    previous = history.before(deliverable, "delivered_at", "returned_at", "review_comment", "due_at", "revision")
    deliverable.delivered_at = None
    deliverable.returned_at = at
    deliverable.review_comment = comment
    deliverable.due_at = due
    deliverable.revision += 1
    ctx.session.add(deliverable)
    ctx.session.flush()
    ctx.notify(NoticeKind.DELIVERABLE_RETURNED, recipients=_people(ctx),
               key=f"livrable-{deliverable.id}:{deliverable.revision}",
               context={"pilote": pilot, "livrable": deliverable, "commentaire": comment}, at=at)
    ctx.audit(at, by, "livrable.a_reprendre", "deliverable", deliverable.id,
              f"{pilot.name} : « {deliverable.title} » à reprendre avant le {format_paris(due)} : {comment}",
              commentaire=comment, revision=deliverable.revision, avant=previous)
    return True


def postpone(ctx: ProgrammeContext, deliverable: Deliverable, *, to: datetime, reason: str, at: datetime,
             by: str = "cerdd") -> bool:
    """Change a deliverable's due date, for a stated reason (recorded in the audit log); only for a
    pilot under way (started, not withdrawn)."""
    if not reason.strip():
        raise InvalidInput("Report refusé : le motif est obligatoire.")
    reason = require_text(reason, "Motif du report")
    _started(ctx, deliverable, at).enforce()
    pilot = _pilot_of(ctx, deliverable)
    if deliverable.accepted_at is not None or deliverable.delivered_at is not None:
        raise Refused(f"« {deliverable.title} » ({pilot.name}) est déjà remis : son échéance ne change plus.")
    if to == deliverable.due_at:
        return False
    if to <= at:
        raise InvalidInput(f"La nouvelle échéance ({format_paris(to)}) doit être postérieure au {format_paris(at)}.")
    before = deliverable.due_at
    previous = history.before(deliverable, "due_at", "revision")
    deliverable.due_at = to
    deliverable.revision += 1
    ctx.session.add(deliverable)
    ctx.session.flush()
    ctx.notify(NoticeKind.DELIVERABLE_POSTPONED, recipients=_people(ctx),
               key=f"livrable-{deliverable.id}:{deliverable.revision}",
               context={"pilote": pilot, "livrable": deliverable, "ancienne_echeance": before, "motif": reason}, at=at)
    ctx.audit(at, by, "livrable.reporte", "deliverable", deliverable.id,
              f"{pilot.name} : « {deliverable.title} » reporté du {format_paris(before)} au {format_paris(to)} : "
              f"{reason}.",
              motif=reason, revision=deliverable.revision, avant=previous)
    return True


# --- Files handed in and requests for a new due date ----------------------------------------------

DELIVERABLE_TYPES = frozenset({"pdf", "doc", "docx", "odt", "xls", "xlsx", "ods"})
"""What a deliverable may be handed in as (recognised by content)."""


def hand_in_file(ctx: ProgrammeContext, deliverable: Deliverable, *, filename: str, data: bytes, at: datetime,
                 by: str) -> bool:
    """Hand in a deliverable with its file: checked like an application's attachments (type by
    content, extension agreeing, 10 MiB at most; InvalidInput otherwise, nothing stored), stored
    with its SHA-256 for the current revision, then the deliverable is marked handed in (`deliver`).
    Returns False (nothing stored) when it was already handed in."""
    piece = attachments.check_upload(filename, data, allowed=DELIVERABLE_TYPES, field="fichier")
    if not deliver(ctx, deliverable, at=at, by=by):
        return False
    ctx.session.add(DeliverableFile(deliverable_id=deliverable.id or 0, revision=deliverable.revision,
                                    filename=piece.filename,
                                    media_type=piece.media_type, size=piece.size, sha256=piece.sha256,
                                    content=piece.content, uploaded_at=at))
    ctx.session.flush()
    ctx.audit(at, by, "livrable.fichier", "deliverable", deliverable.id,
              f"Fichier {piece.describe()} joint à « {deliverable.title} » (SHA-256 {piece.sha256}).",
              fichier=piece.filename, sha256=piece.sha256, taille=piece.size, type=piece.kind)
    return True


def files_of(ctx: ProgrammeContext, deliverable: Deliverable) -> list[DeliverableFile]:
    """The files handed in for `deliverable`, every revision, oldest first."""
    return list(ctx.session.exec(select(DeliverableFile).where(DeliverableFile.deliverable_id == deliverable.id)
                                 .order_by(col(DeliverableFile.revision))).all())


def may_request_due_date(ctx: ProgrammeContext, deliverable: Deliverable, at: datetime) -> Verdict:
    """Whether the consultancy may ask for a new due date of `deliverable` at `at`: not once it is handed in
    or accepted, nor while an earlier request waits for the Cerdd's decision; only for a pilot under way
    (started, not withdrawn)."""
    started = _started(ctx, deliverable, at)
    if not started:
        return started
    if deliverable.delivered_at is not None or deliverable.accepted_at is not None:
        return Verdict(f"« {deliverable.title} » est déjà remis : son échéance ne change plus.")
    waiting = ctx.session.exec(select(DueDateRequest).where(
        DueDateRequest.deliverable_id == deliverable.id, DueDateRequest.status == DueDateRequestStatus.PENDING)).first()
    if waiting is not None:
        return Verdict(f"Une demande de report de « {deliverable.title} » attend déjà la décision du Cerdd "
                       f"(au {format_paris(waiting.requested_due)}).")
    return ALLOWED


def request_due_date(ctx: ProgrammeContext, deliverable: Deliverable, *, to: datetime, reason: str, at: datetime,
                     by: str = "prestataire") -> DueDateRequest:
    """The consultancy asks for a new due date with a reason; the Cerdd's manager is told and
    decides (`decide_due_date`). Refused when `may_request_due_date` refuses (asking again while a
    request waits replaces nothing)."""
    reason = require_text(reason, "Motif de la demande", max_length=2000, required=False)
    if not reason:
        raise InvalidInput("Demande refusée : le motif est obligatoire.")
    may_request_due_date(ctx, deliverable, at).enforce()
    if to <= at:
        raise InvalidInput(f"La nouvelle échéance demandée ({format_paris(to)}) doit être postérieure au "
                           f"{format_paris(at)}.")
    if to == deliverable.due_at:
        raise InvalidInput("La nouvelle échéance demandée est l'échéance actuelle.")
    pilot = ctx.session.get(Pilot, deliverable.pilot_id)
    assert pilot is not None
    request = DueDateRequest(deliverable_id=deliverable.id or 0, requested_due=to, reason=reason, requested_at=at,
                             requested_by=by)
    ctx.session.add(request)
    ctx.session.flush()
    ctx.notify(NoticeKind.DUE_DATE_REQUESTED, recipients=manager(ctx), key=f"demande-report-{request.id}",
               context={"pilote": pilot, "livrable": deliverable, "demande": request, "motif": reason}, at=at)
    ctx.audit(at, by, "livrable.report_demande", "deliverable", deliverable.id,
              f"{pilot.name} : nouvelle échéance demandée pour « {deliverable.title} » au {format_paris(to)} : "
              f"{reason}",
              demande=request.id, motif=reason)
    return request


def due_date_requests(ctx: ProgrammeContext, status: DueDateRequestStatus | None = None) -> list[DueDateRequest]:
    """The programme's requests for a new due date (in one state, or all), oldest first."""
    query = select(DueDateRequest).join(Deliverable).join(Pilot).where(Pilot.programme_id == ctx.programme_id)
    if status:
        query = query.where(DueDateRequest.status == status)
    return list(ctx.session.exec(query.order_by(col(DueDateRequest.id))).all())


def may_decide_due_date(ctx: ProgrammeContext, request: DueDateRequest, at: datetime) -> Verdict:
    """Whether the Cerdd may decide a request for a new due date at `at`: one still waiting, about a
    pilot under way (started, not withdrawn: a withdrawn pilot's deliverables no longer move)."""
    if request.status != DueDateRequestStatus.PENDING:
        return Verdict(f"La demande de report n° {request.id} est déjà décidée.")
    deliverable = ctx.session.get(Deliverable, request.deliverable_id)
    assert deliverable is not None
    return _started(ctx, deliverable, at)


def decide_due_date(ctx: ProgrammeContext, request_id: int, *, grant: bool, at: datetime, by: str = "cerdd") -> bool:
    """The Cerdd grants a request (the due date moves through `postpone`, with the request's reason)
    or refuses it, when `may_decide_due_date` allows it; deciding twice changes nothing."""
    request = ctx.session.get(DueDateRequest, request_id)
    deliverable = ctx.session.get(Deliverable, request.deliverable_id) if request else None
    pilot = ctx.session.get(Pilot, deliverable.pilot_id) if deliverable else None
    if request is None or deliverable is None or pilot is None or pilot.programme_id != ctx.programme_id:
        raise NotFound(f"Aucune demande de report n° {request_id}.")
    if request.status != DueDateRequestStatus.PENDING:
        return False
    may_decide_due_date(ctx, request, at).enforce()
    if grant:
        postpone(ctx, deliverable, to=request.requested_due, reason=request.reason, at=at, by=by)
    request.status = DueDateRequestStatus.GRANTED if grant else DueDateRequestStatus.REFUSED
    request.decided_at = at
    ctx.session.add(request)
    ctx.audit(at, by, "livrable.report_decide", "deliverable", deliverable.id,
              f"{pilot.name} : demande de report de « {deliverable.title} » {'accordée' if grant else 'refusée'}.",
              demande=request.id, accordee=grant)
    return True


def series(ctx: ProgrammeContext, deliverable: Deliverable) -> list[Planned]:
    """The reminders planned for a deliverable: before it is due, then while it is overdue."""
    return _series_at(ctx, deliverable.due_at)


def _series_at(ctx: ProgrammeContext, due_at: datetime) -> list[Planned]:
    reminders = ctx.definition.reminders
    return plan_rule(ctx.calendar, due_at, reminders.deliverable, escalate_after=reminders.escalate_to_organiser)


def planned(ctx: ProgrammeContext) -> list[datetime]:
    """Each active pilot's reminders for the deliverables not handed in yet."""
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    # Only the due dates, in one query: no row objects to build for a list of instants.
    # Each distinct due date once: the series is a function of the date alone (pilots share dates).
    due = ctx.session.exec(select(Deliverable.due_at).distinct().join(Pilot).where(
        Pilot.programme_id == ctx.programme_id, Pilot.status == PilotStatus.ACTIVE,
        col(Deliverable.delivered_at).is_(None), col(Deliverable.accepted_at).is_(None))).all()
    return [p.at for due_at in due for p in _series_at(ctx, due_at)]


@stage(StageName.DELIVERABLES, planned=planned)
def remind(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Before a deliverable is due, remind the consultancy; once overdue, copy the Cerdd's manager.

    Each open deliverable's latest reminder due is found from its columns (`open_deliverables`);
    the outbox is asked once for them all (`ProgrammeContext.prefetch`), and only the deliverables with a
    notice still to queue become row objects, for their notices' wording."""
    deliverables = open_deliverables(ctx)
    series_of: dict[datetime, list[Planned]] = {}  # by due date: pilots share their due dates
    latest: dict[tuple[datetime, datetime | None], Planned | None] = {}  # and their kick-off dates
    people = {False: consultancy_contacts(ctx)}
    people[True] = people[False] + manager(ctx)
    due: list[tuple[NoticeKind, list[Recipient], str, Pilot, int]] = []
    for pilot in pilots(ctx, PilotStatus.ACTIVE):
        for deliverable in deliverables.get(pilot.id or 0, []):
            since = max(x for x in (pilot.kickoff_at,
                                    deliverable.returned_at) if x is not None) if pilot.kickoff_at else None
            if (deliverable.due_at, since) not in latest:
                if deliverable.due_at not in series_of:
                    series_of[deliverable.due_at] = _series_at(ctx, deliverable.due_at)
                latest[deliverable.due_at, since] = due_now(
                    [p for p in series_of[deliverable.due_at] if since is None or p.at >= since], as_of)
            reminder = latest[deliverable.due_at, since]
            if reminder is None:
                continue
            kind = NoticeKind.DELIVERABLE_OVERDUE if reminder.overdue else NoticeKind.DELIVERABLE_REMINDER
            due.append((kind, people[reminder.escalate],
                        f"livrable-{deliverable.id}:{deliverable.revision}:{reminder.index}",
                        pilot, deliverable.id))
    for kind in {item[0] for item in due}:  # the latest reminder of most series went out long ago
        ctx.prefetch(kind, [(key, recipients) for each, recipients, key, _, _ in due if each == kind])
    due = [item for item in due if not ctx.queued(item[0], item[2], item[1])]
    rows = _rows(ctx, [deliverable_id for _, _, _, _, deliverable_id in due])
    return sum(ctx.notify(kind, recipients=recipients, key=key, context={"pilote": pilot,
                                                                         "livrable": rows[deliverable_id]},
                          at=as_of) for kind, recipients, key, pilot, deliverable_id in due)
