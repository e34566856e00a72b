"""What the people of the programme do for themselves (from the portal, or the CLI on their behalf):
the charter's text they sign, answers to session invitations, the consultancy's files handed in and
its requests for a new due date, the jurors' conflicts of interest and submitted score sheets.

Each function changes the state, writes its audit entry and queues its notices in the caller's
transaction, like every domain function; the portal and the CLI call the same ones.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models import attachments
from models.clock import format_paris
from models.context import Ctx
from models.deliverables import deliver, postpone
from models.errors import InvalidInput, NotFound, Refused
from models.jury import missing_scores, record_score
from models.notices import NoticeKind
from models.pilots import PARTY_OF, sign_by
from models.recipients import manager
from models.tables import (
    Application,
    ApplicationStatus,
    ConflictOfInterest,
    Deliverable,
    DeliverableFile,
    DueDateRequest,
    JuryNotApplicable,
    JuryScore,
    JurySubmission,
    Pilot,
    ProgrammeState,
    SessionAnswer,
    SessionStatus,
    TrainingSession,
)
from models.text import require_line, require_text, visible

DELIVERABLE_TYPES = frozenset({"pdf", "doc", "docx", "odt", "xls", "xlsx", "ods"})
"""What a deliverable may be handed in as (recognised by content)."""

SCORE = re.compile(r"[0-9]{1,3}")
"""A score as typed: ASCII digits only, three at most."""


def charter_text(ctx: Ctx, pilot: Pilot) -> str:
    """The charter's text as the parties read and sign it (its SHA-256 is recorded with each
    signature): built from the programme's definition and the pilot's own signing deadline (a
    replacement pilot has a later one), so both doors sign the same words. It names no calendar
    start date: the accompaniment starts when the last of the three parties signs, which holds for
    original and replacement pilots alike. The text depends only on the pilot's name and deadline,
    so it is stable while the pilot's state does not change those."""
    definition = ctx.definition
    charter = definition.accompaniment.charter
    lines = [
        f"Charte « {charter.title} »",
        "",
        "Entre les trois parties :",
        f"- le territoire : {pilot.name} ;",
        f"- le {definition.organiser.name} : {definition.organiser.full_name} ;",
        f"- le prestataire : {definition.consultancy.name} ;",
        f"dans le cadre du programme « {definition.title} ».",
        "",
        "1. Objet. Les trois parties s'engagent réciproquement à conduire ensemble l'accompagnement du "
        "territoire pilote ; l'implication active de chacune est la condition de réussite de la démarche.",
        "2. Durée. L'accompagnement commence à la date de la dernière des trois signatures, "
        "pour la durée prévue par le programme.",
        "3. Étapes : " + " ; ".join(phase.title for phase in definition.accompaniment.phases) + ".",
        "4. Le territoire mobilise ses élus, ses services et ses partenaires, participe aux sessions de "
        "formation et de co-production, et répond aux invitations.",
        "5. Le prestataire remet ses livrables aux échéances convenues ; toute nouvelle échéance est "
        "demandée avec un motif et décidée par le Cerdd.",
        "6. Le Cerdd anime le programme, organise les sessions, examine les livrables et rend compte de "
        "l'avancement.",
        f"7. Signature. Chaque partie signe avant le {format_paris(sign_by(ctx, pilot))}.",
    ]
    return "\n".join(lines) + "\n"


def charter_sha256(ctx: Ctx, pilot: Pilot) -> str:
    return hashlib.sha256(charter_text(ctx, pilot).encode("utf-8")).hexdigest()


def party_label(party: str) -> str:
    return PARTY_OF.get(party, party)  # type: ignore[call-overload]


# --- Session invitations ---------------------------------------------------------------------------

def answer_invitation(ctx: Ctx, pilot: Pilot, item: TrainingSession, *, attending: bool, people: str,
                      at: datetime, respondent: str = "territoire") -> bool:
    """The territory answers a session invitation (attending or not, and who will come); a new
    answer replaces the previous one, the same answer again changes nothing. Refused once the
    session has started or when it was cancelled."""
    if item.pilot_id != pilot.id:
        raise NotFound("Cette session n'appartient pas à ce territoire.")
    if item.status == SessionStatus.CANCELLED:
        raise Refused(f"La session « {item.title} » a été annulée : plus de réponse attendue.")
    if at >= item.starts_at:
        raise Refused(f"La session « {item.title} » a commencé le {format_paris(item.starts_at)} : "
                      "la réponse n'est plus possible.")
    people = require_text(people, "Participants", max_length=2000, required=False)
    if attending and not people:
        raise InvalidInput("Indiquez qui viendra (un nom par ligne).")
    if not attending:
        people = ""
    row = ctx.session.exec(select(SessionAnswer).where(SessionAnswer.session_id == item.id,
                                                       SessionAnswer.respondent == respondent)).first()
    if row is not None and row.attending == attending and row.people == people:
        return False
    if row is None:
        row = SessionAnswer(session_id=item.id or 0, respondent=respondent, attending=attending, people=people,
                            answered_at=at)
    else:
        row.attending, row.people, row.answered_at = attending, people, at
    ctx.session.add(row)
    ctx.session.flush()
    who = ", ".join(line.strip() for line in people.splitlines() if line.strip())
    ctx.audit(at, f"{respondent}:{pilot.name}", "session.reponse", "training_session", item.id,
              f"{pilot.name} répond à l'invitation « {item.title} » : "
              + (f"présent ({who})." if attending else "absent."), present=attending, participants=who)
    return True


def answers_of(ctx: Ctx, pilot: Pilot) -> dict[int, SessionAnswer]:
    """The territory's answers to its sessions, by session id."""
    rows = ctx.session.exec(select(SessionAnswer).join(TrainingSession).where(
        TrainingSession.pilot_id == pilot.id)).all()
    return {row.session_id: row for row in rows}


# --- Deliverables: files and due-date requests -----------------------------------------------------

def hand_in_file(ctx: Ctx, task: Deliverable, *, filename: str, data: bytes, at: datetime, by: str) -> bool:
    """Hand in a deliverable with its file: checked like an application's attachments (type by
    content, extension agreeing, 10 MiB at most; InvalidInput otherwise, nothing stored), stored
    with its SHA-256 for the current revision, then the deliverable is marked handed in (`deliver`).
    Returns False (nothing stored) when it was already handed in."""
    piece = attachments.check_upload(filename, data, allowed=DELIVERABLE_TYPES, field="fichier")
    if not deliver(ctx, task, at=at, by=by):
        return False
    ctx.session.add(DeliverableFile(deliverable_id=task.id or 0, revision=task.revision, filename=piece.filename,
                                    media_type=piece.media_type, size=piece.size, sha256=piece.sha256,
                                    content=piece.content, uploaded_at=at))
    ctx.session.flush()
    ctx.audit(at, by, "livrable.fichier", "deliverable", task.id,
              f"Fichier {piece.describe()} joint à « {task.title} » (SHA-256 {piece.sha256}).",
              fichier=piece.filename, sha256=piece.sha256, taille=piece.size, type=piece.kind)
    return True


def files_of(ctx: Ctx, task: Deliverable) -> list[DeliverableFile]:
    return list(ctx.session.exec(select(DeliverableFile).where(DeliverableFile.deliverable_id == task.id)
                                 .order_by(col(DeliverableFile.revision))).all())


PENDING, GRANTED, REFUSED = "en_attente", "accordee", "refusee"


def request_due_date(ctx: Ctx, task: Deliverable, *, to: datetime, reason: str, at: datetime,
                     by: str = "prestataire") -> DueDateRequest:
    """The consultancy asks for a new due date with a reason; the Cerdd's manager is told and
    decides (`decide_due_date`). Asking again while a request waits replaces nothing: Refused."""
    reason = require_text(reason, "Motif de la demande", max_length=2000, required=False)
    if not reason:
        raise InvalidInput("Demande refusée : le motif est obligatoire.")
    if task.delivered_at is not None or task.accepted_at is not None:
        raise Refused(f"« {task.title} » est déjà remis : son échéance ne change plus.")
    if to <= at:
        raise InvalidInput(f"La nouvelle échéance demandée ({format_paris(to)}) doit être postérieure au "
                           f"{format_paris(at)}.")
    if to == task.due_at:
        raise InvalidInput("La nouvelle échéance demandée est l'échéance actuelle.")
    waiting = ctx.session.exec(select(DueDateRequest).where(DueDateRequest.deliverable_id == task.id,
                                                            DueDateRequest.status == PENDING)).first()
    if waiting is not None:
        raise Refused(f"Une demande de report de « {task.title} » attend déjà la décision du Cerdd "
                      f"(au {format_paris(waiting.requested_due)}).")
    pilot = ctx.session.get(Pilot, task.pilot_id)
    assert pilot is not None
    request = DueDateRequest(deliverable_id=task.id or 0, requested_due=to, reason=reason, requested_at=at,
                             requested_by=by)
    ctx.session.add(request)
    ctx.session.flush()
    ctx.notify(NoticeKind.DUE_DATE_REQUESTED, recipients=manager(ctx), key=f"demande-report-{request.id}",
               context={"pilote": pilot, "livrable": task, "demande": request, "motif": reason}, at=at)
    ctx.audit(at, by, "livrable.report_demande", "deliverable", task.id,
              f"{pilot.name} : nouvelle échéance demandée pour « {task.title} » au {format_paris(to)} : {reason}",
              demande=request.id, motif=reason)
    return request


def due_date_requests(ctx: Ctx, status: str | None = None) -> list[DueDateRequest]:
    query = select(DueDateRequest).join(Deliverable).join(Pilot).where(Pilot.programme_id == ctx.programme_id)
    if status:
        query = query.where(DueDateRequest.status == status)
    return list(ctx.session.exec(query.order_by(col(DueDateRequest.id))).all())


def decide_due_date(ctx: Ctx, request_id: int, *, grant: bool, at: datetime, by: str = "cerdd") -> bool:
    """The Cerdd grants a request (the due date moves through `postpone`, with the request's reason)
    or refuses it; deciding twice changes nothing."""
    request = ctx.session.get(DueDateRequest, request_id)
    task = ctx.session.get(Deliverable, request.deliverable_id) if request else None
    pilot = ctx.session.get(Pilot, task.pilot_id) if task else None
    if request is None or task is None or pilot is None or pilot.programme_id != ctx.programme_id:
        raise NotFound(f"Aucune demande de report n° {request_id}.")
    if request.status != PENDING:
        return False
    if grant:
        postpone(ctx, task, to=request.requested_due, reason=request.reason, at=at, by=by)
    request.status = GRANTED if grant else REFUSED
    request.decided_at = at
    ctx.session.add(request)
    ctx.audit(at, by, "livrable.report_decide", "deliverable", task.id,
              f"{pilot.name} : demande de report de « {task.title} » {'accordée' if grant else 'refusée'}.",
              demande=request.id, accordee=grant)
    return True


# --- The jury: conflicts of interest, saved and submitted score sheets -----------------------------

def _open_for_scores(ctx: Ctx, at: datetime) -> None:
    if ctx.programme.state != ProgrammeState.CALL_CLOSED:
        raise Refused("Les notes du jury ne s'enregistrent qu'entre la clôture de l'appel et la sélection.")
    if at >= ctx.definition.jury.meeting:
        raise Refused(f"Le jury s'est réuni le {format_paris(ctx.definition.jury.meeting)} : les notes ne "
                      "s'enregistrent plus.")


def _member(ctx: Ctx, juror: str) -> str:
    if juror not in {m.juror for m in ctx.definition.jury.members}:
        raise InvalidInput(f"« {visible(juror)[:80]} » n'est pas membre du jury.")
    return juror


def submitted_at(ctx: Ctx, juror: str) -> datetime | None:
    row = ctx.session.exec(select(JurySubmission).where(JurySubmission.programme_id == ctx.programme_id,
                                                        JurySubmission.juror == juror)).first()
    return row.submitted_at if row else None


def conflicts(ctx: Ctx, juror: str | None = None) -> list[ConflictOfInterest]:
    """Declared conflicts of interest (of one juror, or all) on this programme's applications."""
    query = select(ConflictOfInterest).join(Application).where(Application.programme_id == ctx.programme_id)
    if juror is not None:
        query = query.where(ConflictOfInterest.juror == juror)
    return list(ctx.session.exec(query.order_by(col(ConflictOfInterest.id))).all())


def declare_conflict(ctx: Ctx, application: Application, *, juror: str, reason: str, at: datetime) -> bool:
    """A juror declares a conflict of interest on an application: their scores on it stop counting
    (the ranking leaves them out and says so). Declaring twice changes nothing."""
    _member(ctx, juror)
    _open_for_scores(ctx, at)
    if application.status != ApplicationStatus.ADMISSIBLE:
        raise Refused(f"La candidature {application.receipt_number} n'est pas recevable.")
    if submitted_at(ctx, juror) is not None:
        raise Refused("Votre feuille de notes est déjà soumise : elle ne change plus.")
    reason = require_text(reason, "Motif du conflit d'intérêts", max_length=2000, required=False)
    if ctx.session.exec(select(ConflictOfInterest).where(ConflictOfInterest.application_id == application.id,
                                                         ConflictOfInterest.juror == juror)).first():
        return False
    ctx.session.add(ConflictOfInterest(application_id=application.id or 0, juror=juror, reason=reason,
                                       declared_at=at))
    ctx.session.flush()
    ctx.audit(at, juror, "jury.conflit", "application", application.id,
              f"{juror} déclare un conflit d'intérêts sur {application.receipt_number} ({application.lead_name}) : "
              "ses notes sur cette candidature ne comptent pas.", motif=reason)
    return True


@dataclass(frozen=True)
class ScoreInput:
    """One score of a sheet as a juror types it: a score, or « non applicable » (`not_applicable`),
    or neither (`score` None: still to be scored, whatever was recorded is withdrawn)."""

    application: Application
    criterion: str
    score: int | None
    comment: str = ""
    not_applicable: bool = False

    @classmethod
    def typed(cls, ctx: Ctx, application: Application, criterion: str, value: str, comment: str = "") -> ScoreInput:
        """A score as a juror types it on a page: empty (still to be scored), « na » (non applicable),
        or ASCII digits on the scale (not « ² », « ٣ » or « ４ »); InvalidInput in French otherwise."""
        jury = ctx.definition.jury
        if value in ("", "na"):
            return cls(application, criterion, None, comment, not_applicable=value == "na")
        if SCORE.fullmatch(value) and 0 <= int(value) <= jury.scale_max:
            return cls(application, criterion, int(value), comment)
        label = next((c.label for c in jury.criteria if c.key == criterion), criterion)
        raise InvalidInput(f"Note hors barème pour « {label} » ({application.lead_name}) : "
                           f"de 0 à {jury.scale_max}, ou non applicable.")


def save_scores(ctx: Ctx, juror: str, scores: list[ScoreInput], *, at: datetime) -> int:
    """Save a juror's scores (a draft until submitted), before the jury meets: each criterion gets
    its score, or « non applicable » (no score, no weight, not missing), or neither (still to be
    scored: what was recorded is withdrawn). Returns how many criteria changed."""
    _member(ctx, juror)
    _open_for_scores(ctx, at)
    if submitted_at(ctx, juror) is not None:
        raise Refused("Votre feuille de notes est déjà soumise : elle ne change plus.")
    conflicted = {c.application_id for c in conflicts(ctx, juror)}
    changed = 0
    for item in scores:
        if item.application.id in conflicted:
            continue
        comment = require_line(item.comment, "Commentaire", max_length=1000) if item.comment.strip() else ""
        marked = ctx.session.exec(select(JuryNotApplicable).where(
            JuryNotApplicable.application_id == item.application.id, JuryNotApplicable.juror == juror,
            JuryNotApplicable.criterion == item.criterion)).first()
        if item.score is not None:
            if marked is not None:
                ctx.session.delete(marked)
            changed += record_score(ctx, item.application, juror=juror, criterion=item.criterion, score=item.score,
                                    at=at, comment=comment) or marked is not None
            continue
        row = ctx.session.exec(select(JuryScore).where(
            JuryScore.application_id == item.application.id, JuryScore.juror == juror,
            JuryScore.criterion == item.criterion)).first()
        if row is not None:
            ctx.session.delete(row)
        if item.not_applicable and marked is None:
            ctx.session.add(JuryNotApplicable(application_id=item.application.id or 0, juror=juror,
                                              criterion=item.criterion, recorded_at=at))
            ctx.audit(at, juror, "jury.note", "application", item.application.id,
                      f"{juror} : « {item.criterion} » non applicable pour {item.application.receipt_number}.")
            changed += 1
        elif not item.not_applicable and (row is not None or marked is not None):
            if marked is not None:
                ctx.session.delete(marked)
            ctx.audit(at, juror, "jury.note", "application", item.application.id,
                      f"{juror} : « {item.criterion} » à noter de nouveau pour {item.application.receipt_number}.")
            changed += 1
        elif row is not None:
            changed += 1
    ctx.session.flush()
    return changed


def submit_sheet(ctx: Ctx, juror: str, *, at: datetime) -> bool:
    """A juror submits their sheet as final, before the jury meets; submitting twice changes nothing."""
    _member(ctx, juror)
    if submitted_at(ctx, juror) is not None:
        return False
    _open_for_scores(ctx, at)
    left = missing_scores(ctx).get(juror, [])
    if left:
        raise Refused(f"Votre feuille n'est pas complète : {len(left)} candidature(s) ont encore un critère sans note "
                      f"ni « non applicable » ({', '.join(left[:10])}{' …' if len(left) > 10 else ''}). "
                      "Choisissez une note ou « non applicable » pour chaque critère, enregistrez, puis soumettez.")
    ctx.session.add(JurySubmission(programme_id=ctx.programme_id, juror=juror, submitted_at=at))
    ctx.session.flush()
    ctx.audit(at, juror, "jury.feuille_soumise", "programme", ctx.programme_id,
              f"{juror} soumet sa feuille de notes.")
    return True
