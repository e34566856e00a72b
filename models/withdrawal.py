"""A pilot withdrawn from the programme (its coming sessions cancelled, its parties told) and its
place offered to the next admissible application of the jury's ranking above the threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlmodel import select

from models import outbox
from models.charter import notify_charter_to_sign
from models.clock import format_number, format_paris, paris, utc
from models.context import ProgrammeContext
from models.errors import ALLOWED, InvalidInput, Verdict
from models.forms import form_of
from models.jury import ranking
from models.notices import NoticeKind
from models.pilots import pilots
from models.recipients import all_parties, applicants
from models.tables import (
    Application,
    ApplicationStatus,
    CharterParty,
    Deliverable,
    Pilot,
    PilotStatus,
    SessionStatus,
    TrainingSession,
)
from models.text import require_text
from models.training import cancel, sessions_of
from models.wording import agreement, of_territory, withdrawn


def withdraw(ctx: ProgrammeContext, pilot: Pilot, *, reason: str, at: datetime, by: str = "cerdd") -> Pilot | None:
    """Withdraw a pilot from the programme (its parties are told) and offer its place to the next
    admissible application of the ranking above the threshold that was not selected, while the
    jury's maximum allows; returns the new pilot, if any. Its notices still waiting are cancelled,
    and its sessions to come too, with their calendar cancellation (METHOD:CANCEL) to whoever was
    invited. Withdrawing twice changes nothing."""
    if not reason.strip():
        raise InvalidInput("Retrait refusé : le motif est obligatoire.")
    reason = require_text(reason, "Motif du retrait")
    if pilot.status == PilotStatus.WITHDRAWN:
        return None
    may_withdraw(pilot, at).enforce()
    _cancel_waiting_notices(ctx, pilot, at, by)
    if pilot.status == PilotStatus.ACTIVE:  # its sessions to come are cancelled as any is: invitees' calendars follow
        for training_session in sessions_of(ctx, pilot):
            if training_session.status != SessionStatus.CANCELLED and training_session.starts_at > at:
                cancel(ctx, training_session, reason="Territoire retiré du programme", at=at, by=by)
    pilot.status = PilotStatus.WITHDRAWN
    pilot.withdrawn_at = at
    pilot.withdraw_reason = reason
    ctx.session.add(pilot)
    ctx.session.flush()
    ctx.audit(at, by, "pilote.retire", "pilot", pilot.id,
              f"{pilot.name} retiré{agreement(pilot.name)} du programme : {reason}.", motif=reason)
    offered = next_in_line(ctx, pilot)
    successor = None if offered is None else _offer_place(ctx, offered.application, offered.rank, offered.score,
                                                          replaced=pilot, at=at)
    recipients = [r for group in all_parties(ctx, pilot).values() for r in group]
    ctx.notify(NoticeKind.PILOT_WITHDRAWN, recipients=recipients, key=f"pilote-{pilot.id}",
               context={"pilote": pilot, "motif": reason, "remplacant": successor,
                        "retrait": withdrawn(pilot.name, by_itself=by == CharterParty.TERRITORY)}, at=at)
    return successor


def may_withdraw(pilot: Pilot, at: datetime) -> Verdict:
    """Whether `pilot` may be withdrawn at `at` (Refused otherwise, in French): selected by then,
    its accompaniment not finished, not withdrawn already. The back office reads it to offer the
    act; `withdraw` enforces it (withdrawing twice there changes nothing)."""
    if pilot.status == PilotStatus.WITHDRAWN:
        return Verdict(f"{pilot.name} est déjà retiré{agreement(pilot.name)} du programme.")
    if pilot.status == PilotStatus.FINISHED:
        return Verdict(f"L'accompagnement de {pilot.name} est terminé : il ne peut plus être retiré.")
    if at < pilot.selected_at:
        return Verdict(f"{pilot.name} n'était pas encore retenu{agreement(pilot.name)} à cette date.")
    return ALLOWED


@dataclass(frozen=True)
class NextInLine:
    """The application a withdrawal offers the pilot's place to: its rank in the jury's ranking
    and its weighted mean score (out of the jury's scale)."""

    application: Application
    rank: int
    score: float


def next_in_line(ctx: ProgrammeContext, pilot: Pilot) -> NextInLine | None:
    """The application `pilot`'s withdrawal would offer its place to: the best-ranked admissible
    application not selected, fully scored and at or above the threshold, while the other pilots
    (awaiting their charter, active or finished) leave a place under the call's maximum; None
    otherwise. `withdraw` offers the place to it; the back office shows it before confirming."""
    jury = ctx.definition.jury
    taken = {p.application_id for p in pilots(ctx)}
    others = [p for p in pilots(ctx, PilotStatus.CHARTER_PENDING, PilotStatus.ACTIVE, PilotStatus.FINISHED)
              if p.id != pilot.id]
    if len(others) >= jury.pilots.max:
        return None
    for rank, entry in enumerate(ranking(ctx), start=1):
        application = entry.application
        if (application.id in taken or application.status != ApplicationStatus.NOT_SELECTED
                or not entry.complete or (entry.score or 0) < jury.threshold):
            continue
        return NextInLine(application, rank, entry.score or 0)
    return None


def _cancel_waiting_notices(ctx: ProgrammeContext, pilot: Pilot, at: datetime, by: str) -> None:
    """Notices about the pilot, its sessions or its deliverables queued before the withdrawal and not
    sent yet (a reminder, an overdue notice waiting for the sending hour) no longer leave."""
    subjects = {f"pilote-{pilot.id}"}
    subjects |= {f"session-{i}" for i in ctx.session.exec(select(TrainingSession.id).where(
        TrainingSession.pilot_id == pilot.id))}
    subjects |= {f"livrable-{i}" for i in ctx.session.exec(select(Deliverable.id).where(
        Deliverable.pilot_id == pilot.id))}
    waiting = outbox.pending_about(ctx.session, ctx.programme_id, subjects)
    if not waiting:
        return
    why = f"sans objet : {pilot.name} retiré{agreement(pilot.name)} du programme le {format_paris(at)}"
    outbox.cancel(ctx.session, waiting, at=at, why=why)
    numbers = ", ".join(f"n°{n.id}" for n in waiting)
    ctx.audit(at, by, "avis.annules", "pilot", pilot.id,
              f"{len(waiting)} avis en attente sur {pilot.name} annulé{'s' if len(waiting) > 1 else ''} "
              f"({numbers}) : {why}.", avis=[n.id for n in waiting])


def _offer_place(ctx: ProgrammeContext, application: Application, rank: int, score: float, *, replaced: Pilot,
                 at: datetime) -> Pilot:
    jury = ctx.definition.jury
    charter = ctx.definition.accompaniment.charter
    deadline = utc(datetime.combine(ctx.calendar.shift_working_days(paris(at).date(), charter.extension), time(18)))
    application.status = ApplicationStatus.SELECTED
    application.decided_at = at
    application.decision_reason = (
        f"Retenue après le retrait {of_territory(replaced.name)} : note pondérée "
        f"{format_number(score)}/{jury.scale_max}, rang {rank}.")
    ctx.session.add(application)
    successor = Pilot(programme_id=ctx.programme_id, application_id=application.id or 0,
                      organisation_id=application.organisation_id, name=application.lead_name, rank=rank,
                      selected_at=at, sign_by=deadline)
    ctx.session.add(successor)
    ctx.session.flush()
    ctx.notify(NoticeKind.SELECTED, recipients=applicants(form_of(ctx.session, application)),
               key=application.receipt_number,
               context={"candidature": application, "note": score, "rang": rank, "echeance": deadline,
                        "remplace": replaced}, at=at)
    notify_charter_to_sign(ctx, successor, at)
    ctx.audit(at, "cerdd", "candidature.retenue", "application", application.id,
              f"{application.lead_name} : {application.decision_reason}")
    return successor

