"""The jury: who may still score (`may_score`) and open an application's files, scores per juror
and criterion (from a sheet on the command line, or saved and submitted from the portal),
conflicts of interest, the weighted ranking, and the choice of 2 or 3 pilots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlmodel import col, select

from models.charter import notify_charter_to_sign, sign_by
from models.clock import format_number, format_paris
from models.context import ProgrammeContext
from models.errors import ALLOWED, InvalidInput, NotFound, Refused, Verdict
from models.forms import form_of, siren_or_reference
from models.notices import NoticeKind, Recipient
from models.recipients import applicants, manager
from models.reminders import Planned, due_now, plan_rule
from models.stages import StageName, stage
from models.tables import (
    Application,
    ApplicationStatus,
    ConflictOfInterest,
    JuryNotApplicable,
    JuryScore,
    JurySubmission,
    Pilot,
    ProgrammeState,
)
from models.text import multi_line, require_line, require_text, single_line, visible


@dataclass(frozen=True)
class Ranked:
    application: Application
    score: float | None
    missing: int
    excluded: tuple[str, ...] = ()
    """Jurors whose scores do not count (declared conflict of interest)."""

    @property
    def complete(self) -> bool:
        return self.missing == 0


@dataclass(frozen=True)
class Tie:
    """Applications at or above the threshold with the same weighted mean (as shown, to the
    hundredth) competing for the last `places` the call allows: only a person may choose."""

    tied: tuple[Ranked, ...]
    places: int
    score: float

    def describe(self, scale_max: int, threshold: float) -> str:
        names = ", ".join(f"{r.application.lead_name} ({r.application.lead_siren})" for r in self.tied)
        where = " (le seuil)" if self.score == round(threshold, 2) else ""
        return (f"égalité à {format_number(self.score)}/{scale_max}{where} entre {names} pour "
                f"{'la dernière place' if self.places == 1 else f'les {self.places} dernières places'} : "
                "le ou la secrétaire du jury doit choisir et motiver son choix")


def tie_for_last_place(ranked: list[Ranked], threshold: float, most: int) -> Tie | None:
    """The tie for the last place(s) among the complete applications at or above `threshold`, when
    more of them share the score of the `most`-th than there are places left; None otherwise."""
    qualified = [r for r in ranked if r.complete and r.score is not None and r.score >= threshold]
    if len(qualified) <= most or most < 1:
        return None
    shown = [round(r.score or 0, 2) for r in qualified]
    cut = shown[most - 1]
    if shown[most] != cut:
        return None
    tied = tuple(r for r, score in zip(qualified, shown, strict=True) if score == cut)
    return Tie(tied, most - sum(1 for score in shown if score > cut), cut)


def find_application(ctx: ProgrammeContext, reference: str) -> Application:
    """An application by receipt number or by its lead's SIREN; InvalidInput for a malformed SIREN,
    NotFound when nothing matches."""
    reference = siren_or_reference(reference)
    application = ctx.session.exec(
        select(Application).where(
            Application.programme_id == ctx.programme_id,
            (Application.receipt_number == reference) | (Application.lead_siren == reference),
        )
    ).first()
    if application is None:
        raise NotFound(f"Aucune candidature ne correspond à « {visible(reference)[:80]} » "
                       "(numéro de récépissé ou SIREN).")
    return application


def may_score(ctx: ProgrammeContext, juror: str, at: datetime, *, to_juror: bool = True) -> Verdict:
    """Whether `juror` may still score (save scores, declare a conflict of interest, submit their
    sheet) at `at`: between the call's closing and the jury's meeting, until they submit their
    sheet. The refusal of a submitted sheet speaks to the juror (the portal), or of them
    (`to_juror=False`: the Cerdd recording a sheet from the command line)."""
    if ctx.programme.state != ProgrammeState.CALL_CLOSED:
        return Verdict("Les notes du jury ne s'enregistrent qu'entre la clôture de l'appel et la sélection.")
    meeting = ctx.definition.jury.meeting
    if at >= meeting:
        return Verdict(f"Le jury s'est réuni le {format_paris(meeting)} : les notes ne s'enregistrent plus.")
    if submitted_at(ctx, juror) is not None:
        return Verdict("Votre feuille de notes est déjà soumise : elle ne change plus." if to_juror
                       else f"La feuille de notes de {juror} est soumise : elle ne change plus.")
    return ALLOWED


def submitted_at(ctx: ProgrammeContext, juror: str) -> datetime | None:
    """When `juror` submitted their sheet, or None."""
    row = ctx.session.exec(select(JurySubmission).where(JurySubmission.programme_id == ctx.programme_id,
                                                        JurySubmission.juror == juror)).first()
    return row.submitted_at if row else None


def may_open_attachment(ctx: ProgrammeContext, application: Application | None, version: int | None) -> Verdict:
    """Whether a member of the jury may open a file received with `version` of `application` (None:
    the file belongs to no application): the current version of an admissible application of this
    programme, the ones they score; not a version it replaced. Otherwise the file does not exist
    for them (NotFound)."""
    if (application is None or application.programme_id != ctx.programme_id
            or application.status != ApplicationStatus.ADMISSIBLE or version != application.version):
        return Verdict("Ce document n'existe pas.", NotFound)
    return ALLOWED


def record_score(ctx: ProgrammeContext, application: Application, *, juror: str, criterion: str, score: int,
                 at: datetime, comment: str = "") -> bool:
    """Record (or revise) one juror's score on one criterion, between the call's closing and the
    jury's meeting, until the juror submits their sheet (`may_score`, on every door).
    Raises Refused outside that window or once the sheet is submitted; InvalidInput for an unknown
    juror or criterion or a score off the scale."""
    jury = ctx.definition.jury
    may_score(ctx, juror, at, to_juror=False).enforce()
    jurors = {m.juror for m in jury.members}
    if juror not in jurors:
        raise InvalidInput(f"« {visible(juror)[:80]} » n'est pas membre du jury ({', '.join(sorted(jurors))}).")
    criteria = {c.key for c in jury.criteria}
    if criterion not in criteria:
        raise InvalidInput(f"Critère inconnu « {visible(criterion)[:80]} » (critères : {', '.join(sorted(criteria))}).")
    if not 0 <= score <= jury.scale_max:
        raise InvalidInput(f"La note {score} sort du barème (0 à {jury.scale_max}).")
    if application.status != ApplicationStatus.ADMISSIBLE:
        raise Refused(f"La candidature {application.receipt_number} n'est pas recevable : elle ne se note pas.")
    row = ctx.session.exec(select(JuryScore).where(
        JuryScore.application_id == application.id, JuryScore.juror == juror,
        JuryScore.criterion == criterion)).first()
    if row is not None and row.score == score and row.comment == comment:
        return False
    if row is None:
        row = JuryScore(application_id=application.id or 0, juror=juror, criterion=criterion,
                        score=score, comment=comment, recorded_at=at)
    else:
        row.score, row.comment, row.recorded_at = score, comment, at
    ctx.session.add(row)
    ctx.audit(at, juror, "jury.note", "application", application.id,
              f"{juror} note {application.receipt_number} sur « {criterion} » : {score}/{jury.scale_max}.")
    return True


def not_applicable(ctx: ProgrammeContext, application_ids: list[int | None]) -> set[tuple[str, int, str]]:
    """The (juror, application id, criterion) a juror marked « non applicable » (portal), among
    these applications: no score, no weight, not missing."""
    return {(row.juror, row.application_id, row.criterion) for row in ctx.session.exec(
        select(JuryNotApplicable).where(col(JuryNotApplicable.application_id).in_(application_ids))).all()}


def ranking(ctx: ProgrammeContext) -> list[Ranked]:
    """Admissible applications by weighted mean score (best first); incomplete ones are flagged.

    The mean is weighted by the criteria's weights over the scores that count: a juror with a
    declared conflict of interest is left out, and a criterion a juror marked « non applicable »
    carries no score and no weight (it is not missing either). `missing` counts the criteria a
    juror has neither scored nor marked « non applicable »."""
    jury = ctx.definition.jury
    weights = {c.key: c.weight for c in jury.criteria}
    applications = ctx.session.exec(select(Application).where(
        Application.programme_id == ctx.programme_id,
        col(Application.status).in_([ApplicationStatus.ADMISSIBLE, ApplicationStatus.SELECTED,
                                     ApplicationStatus.NOT_SELECTED]),
    ).order_by(col(Application.id))).all()
    scores = ctx.session.exec(select(JuryScore).where(
        col(JuryScore.application_id).in_([a.id for a in applications]))).all()
    declared = ctx.session.exec(select(ConflictOfInterest).where(
        col(ConflictOfInterest.application_id).in_([a.id for a in applications]))).all()
    marked = not_applicable(ctx, [a.id for a in applications])
    by_application: dict[int, list[JuryScore]] = {}  # grouped once: not every score per application
    for row in scores:
        by_application.setdefault(row.application_id, []).append(row)
    conflicted: dict[int, list[str]] = {}
    for conflict in declared:
        conflicted.setdefault(conflict.application_id, []).append(conflict.juror)
    ranked = []
    for application in applications:
        excluded = tuple(sorted(conflicted.get(application.id or 0, [])))
        own = [s for s in by_application.get(application.id or 0, []) if s.juror not in excluded]
        scored = {(s.juror, s.criterion) for s in own}
        missing = sum(1 for m in jury.members if m.juror not in excluded for key in weights
                      if (m.juror, key) not in scored and (m.juror, application.id, key) not in marked)
        if not own:
            ranked.append(Ranked(application, None, missing, excluded))
            continue
        total = sum(s.score * weights[s.criterion] for s in own)
        weight = sum(weights[s.criterion] for s in own)
        ranked.append(Ranked(application, round(total / weight, 2), missing, excluded))
    return sorted(ranked, key=lambda r: (r.score is None, -(r.score or 0), r.application.id))


def series(ctx: ProgrammeContext) -> list[Planned]:
    """The reminders planned before the jury meets."""
    return plan_rule(ctx.calendar, ctx.definition.jury.meeting, ctx.definition.reminders.jury)


def missing_scores(ctx: ProgrammeContext) -> dict[str, list[str]]:
    """For each juror, the admissible applications they have not fully scored (receipt numbers),
    leaving out those they declared a conflict of interest on; a criterion marked « non
    applicable » is not missing."""
    jury = ctx.definition.jury
    criteria = {c.key for c in jury.criteria}
    admissible = ctx.session.exec(select(Application).where(
        Application.programme_id == ctx.programme_id, Application.status == ApplicationStatus.ADMISSIBLE)
        .order_by(col(Application.id))).all()
    scores = ctx.session.exec(select(JuryScore).where(
        col(JuryScore.application_id).in_([a.id for a in admissible]))).all()
    done = {(s.juror, s.application_id, s.criterion) for s in scores} | not_applicable(ctx, [a.id for a in admissible])
    conflicted = {(c.juror, c.application_id) for c in ctx.session.exec(select(ConflictOfInterest).where(
        col(ConflictOfInterest.application_id).in_([a.id for a in admissible]))).all()}
    return {member.juror: [a.receipt_number for a in admissible if (member.juror, a.id) not in conflicted
                           and any((member.juror, a.id, c) not in done for c in criteria)]
            for member in jury.members}


def planned_reminders(ctx: ProgrammeContext) -> list[datetime]:
    """The jurors' reminders, once the call is closed."""
    return [p.at for p in series(ctx)] if ctx.programme.state == ProgrammeState.CALL_CLOSED else []


def planned_meeting(ctx: ProgrammeContext) -> list[datetime]:
    """The jury's meeting, once the call is closed."""
    return [ctx.definition.jury.meeting] if ctx.programme.state == ProgrammeState.CALL_CLOSED else []


@stage(StageName.JURY_REMINDERS, planned=planned_reminders)
def remind(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Before the meeting, remind each juror who has applications left to score."""
    if ctx.programme.state != ProgrammeState.CALL_CLOSED or as_of >= ctx.definition.jury.meeting:
        return 0
    reminder = due_now(series(ctx), as_of)
    if reminder is None:
        return 0
    sent = 0
    members = {m.juror: m for m in ctx.definition.jury.members}
    for juror, missing in missing_scores(ctx).items():
        if missing:
            member = members[juror]
            sent += ctx.notify(NoticeKind.JURY_REMINDER, recipients=[Recipient(member.email, member.juror)],
                               key=f"{ctx.programme.slug}:{reminder.index}",
                               context={"jury": ctx.definition.jury, "a_noter": missing}, at=as_of)
    return sent


@stage(StageName.SELECT_PILOTS, planned=planned_meeting)
def select_pilots(ctx: ProgrammeContext, as_of: datetime) -> int:
    """At the jury meeting: choose the best admissible applications at or above the threshold.

    The selection waits (and the Cerdd is told, once a day) while scores are missing or fewer than
    the minimum number of pilots qualify: the jury must complete or revise its scores.
    """
    jury = ctx.definition.jury
    programme = ctx.programme
    if programme.state != ProgrammeState.CALL_CLOSED or as_of < jury.meeting:
        return 0
    ranked = ranking(ctx)
    incomplete = [r for r in ranked if not r.complete]
    qualified = [r for r in ranked if r.complete and (r.score or 0) >= jury.threshold][: jury.pilots.max]
    if incomplete or len(qualified) < jury.pilots.min:
        reason = (
            f"{len(incomplete)} candidature(s) n'ont pas toutes leurs notes" if incomplete else
            f"seules {len(qualified)} candidature(s) atteignent le seuil de {format_number(jury.threshold)}/"
            f"{jury.scale_max}"
        )
        return ctx.notify(NoticeKind.SELECTION_BLOCKED, recipients=manager(ctx),
                          key=f"{programme.slug}:{as_of.date().isoformat()}",
                          context={"motif": reason, "classement": ranked}, at=as_of)
    if jury.decision == "secretariat":
        tie = tie_for_last_place(ranked, jury.threshold, jury.pilots.max)
        clear = [r.application for r in qualified if tie is None or r not in tie.tied]
        return request_decision(ctx, ranked, clear, as_of, tie)
    return apply_selection(ctx, ranked, {r.application.id for r in qualified}, as_of)


def request_decision(ctx: ProgrammeContext, ranked: list[Ranked], proposed: list[Application], as_of: datetime,
                     tie: Tie | None = None) -> int:
    """Ask the jury's secretary, once, to confirm the proposal or depart from it (Prefect form or
    `transitions jury decide`); the Cerdd's manager is told with the ranking, and with the tie the
    secretary must settle, if any (`proposed` then holds only the applications ahead of it)."""
    programme = ctx.programme
    jury = ctx.definition.jury
    said = tie.describe(jury.scale_max, jury.threshold) if tie is not None else None
    created = ctx.notify(NoticeKind.DECISION_REQUESTED, recipients=manager(ctx), key=programme.slug,
                         context={"classement": ranked, "proposition": proposed, "jury": jury, "egalite": said},
                         at=as_of)
    if created:
        ctx.audit(as_of, "système", "jury.decision_attendue", "programme", programme.id,
                  "Proposition du jury : " + (", ".join(a.lead_name for a in proposed) or "aucune")
                  + (f" ; {said}" if said else "")
                  + " ; décision du ou de la secrétaire du jury attendue.",
                  proposition=[a.lead_siren for a in proposed])
    return created


def apply_selection(ctx: ProgrammeContext, ranked: list[Ranked], chosen: set[int | None], as_of: datetime, *,
                    actor: str = "jury", rationale: str = "") -> int:
    """Record the jury's choice: the chosen applications become pilots with a charter to sign,
    the others are told they were not retained; returns the number of changes."""
    jury = ctx.definition.jury
    programme = ctx.programme
    for rank, entry in enumerate(ranked, start=1):
        application = entry.application
        form = form_of(ctx.session, application)
        application.decided_at = as_of
        if application.id in chosen:
            application.status = ApplicationStatus.SELECTED
            application.decision_reason = (
                f"Retenue par le jury : note pondérée {format_number(entry.score or 0)}/{jury.scale_max}, "
                f"rang {rank}.")
            pilot = Pilot(programme_id=ctx.programme_id, application_id=application.id or 0,
                          organisation_id=application.organisation_id, name=application.lead_name,
                          rank=rank, selected_at=as_of)
            ctx.session.add(pilot)
            ctx.session.flush()
            ctx.notify(NoticeKind.SELECTED,
                       recipients=applicants(form), key=application.receipt_number,
                       context={"candidature": application, "note": entry.score, "rang": rank,
                                "echeance": sign_by(ctx, pilot), "remplace": None}, at=as_of)
            notify_charter_to_sign(ctx, pilot, as_of)
        else:
            application.status = ApplicationStatus.NOT_SELECTED
            below = (entry.score or 0) < jury.threshold
            application.decision_reason = (
                f"Note pondérée {format_number(entry.score or 0)}/{jury.scale_max}, sous le seuil de "
                f"{format_number(jury.threshold)}." if below
                else f"Note pondérée {format_number(entry.score or 0)}/{jury.scale_max}, rang {rank} : au-delà des "
                     f"{jury.pilots.max} territoires pilotes."
            )
            ctx.notify(NoticeKind.NOT_SELECTED,
                       recipients=applicants(form), key=application.receipt_number,
                       context={"candidature": application}, at=as_of)
        ctx.session.add(application)
        ctx.audit(as_of, "jury", f"candidature.{application.status}", "application", application.id,
                  f"{application.lead_name} : {application.decision_reason}")
    programme.state = ProgrammeState.PILOTS_SELECTED
    programme.selected_at = as_of
    ctx.session.add(programme)
    ctx.audit(as_of, actor, "jury.selection", "programme", programme.id,
              f"{len(chosen)} territoire(s) pilote(s) retenu(s)." + (f" Motif : {rationale}" if rationale else ""))
    return 1 + len(ranked)


SheetKey = Annotated[str, Field(min_length=1, max_length=60), BeforeValidator(single_line)]
Score = Annotated[int, Field(strict=True)]
"""A score is written as a whole number: no `true`, `"5"`, `5.0` or `0x5`."""


class ScoreSheet(BaseModel):
    """One juror's sheet: for each application (receipt number or SIREN), a score per criterion."""

    model_config = ConfigDict(extra="forbid")

    juror: Annotated[str, Field(min_length=1, max_length=200), BeforeValidator(single_line)]
    notes: dict[SheetKey, dict[SheetKey, Score]] = Field(min_length=1)
    comments: dict[SheetKey, Annotated[str, Field(max_length=10_000), BeforeValidator(multi_line)]] = Field(
        default_factory=dict)


def record_sheet(ctx: ProgrammeContext, sheet: ScoreSheet, at: datetime) -> int:
    """Record a whole sheet in the caller's transaction; returns the number of scores changed."""
    changed = 0
    for reference, scores in sheet.notes.items():
        application = find_application(ctx, reference)
        for criterion, score in scores.items():
            changed += record_score(ctx, application, juror=sheet.juror, criterion=criterion, score=score,
                                    at=at, comment=sheet.comments.get(reference, ""))
    return changed


# --- Conflicts of interest, saved and submitted score sheets (the portal) ---------------------------

def _member(ctx: ProgrammeContext, juror: str) -> str:
    """`juror`, a member of the jury; InvalidInput otherwise."""
    if juror not in {m.juror for m in ctx.definition.jury.members}:
        raise InvalidInput(f"« {visible(juror)[:80]} » n'est pas membre du jury.")
    return juror


def conflicts(ctx: ProgrammeContext, juror: str | None = None) -> list[ConflictOfInterest]:
    """Declared conflicts of interest (of one juror, or all) on this programme's applications."""
    query = select(ConflictOfInterest).join(Application).where(Application.programme_id == ctx.programme_id)
    if juror is not None:
        query = query.where(ConflictOfInterest.juror == juror)
    return list(ctx.session.exec(query.order_by(col(ConflictOfInterest.id))).all())


def declare_conflict(ctx: ProgrammeContext, application: Application, *, juror: str, reason: str, at: datetime) -> bool:
    """A juror declares a conflict of interest on an application: their scores on it stop counting
    (the ranking leaves them out and says so). Declaring twice changes nothing."""
    _member(ctx, juror)
    may_score(ctx, juror, at).enforce()
    if application.status != ApplicationStatus.ADMISSIBLE:
        raise Refused(f"La candidature {application.receipt_number} n'est pas recevable.")
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


SCORE = re.compile(r"[0-9]{1,3}")
"""A score as typed: ASCII digits only, three at most."""


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
    def typed(cls, ctx: ProgrammeContext, application: Application, criterion: str, value: str,
              comment: str = "") -> ScoreInput:
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


def save_scores(ctx: ProgrammeContext, juror: str, scores: list[ScoreInput], *, at: datetime) -> int:
    """Save a juror's scores (a draft until submitted), before the jury meets: each criterion gets
    its score, or « non applicable » (no score, no weight, not missing), or neither (still to be
    scored: what was recorded is withdrawn). Returns how many criteria changed."""
    _member(ctx, juror)
    may_score(ctx, juror, at).enforce()
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


def submit_sheet(ctx: ProgrammeContext, juror: str, *, at: datetime) -> bool:
    """A juror submits their sheet as final, before the jury meets; submitting twice changes nothing."""
    _member(ctx, juror)
    if submitted_at(ctx, juror) is not None:
        return False
    may_score(ctx, juror, at).enforce()
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
