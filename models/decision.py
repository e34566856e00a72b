"""The jury's decision as a human step: at the meeting the ranking is only a proposal; the jury's
secretary confirms it or departs from it with a rationale, and the decision is recorded, audited
and notified exactly once (programme file: `jury.decision: secretariat`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from models.clock import format_number, format_paris
from models.context import ProgrammeContext
from models.errors import ALLOWED, InvalidInput, Refused, Verdict
from models.jury import Ranked, Tie, apply_selection, find_application, ranking, tie_for_last_place
from models.tables import Application, ApplicationStatus, ProgrammeState


@dataclass(frozen=True)
class Proposal:
    """What the ranking proposes: the qualified applications (best first, at most the maximum
    number of pilots), or why no proposal can be made."""

    ranked: list[Ranked]
    proposed: list[Application]
    blocked: str | None
    tie: Tie | None = None
    """A tie for the last place(s): `proposed` holds only those ahead of it; the secretary chooses."""
    threshold: float = 0.0

    def describe(self, scale_max: int) -> str:
        """The proposal in French, one line per ranked application."""
        proposed = {a.id for a in self.proposed}  # by id: comparing rows compares every field, once per pair
        lines = [f"{rank}. {r.application.lead_name} ({r.application.lead_siren}) : "
                 + (f"{format_number(r.score)}/{scale_max}" if r.score is not None else "non notée")
                 + (" — proposée" if r.application.id in proposed else "")
                 for rank, r in enumerate(self.ranked, start=1)]
        head = f"Décision impossible : {self.blocked}." if self.blocked else "Proposition du jury :"
        tied = {r.application.id for r in self.tie.tied} if self.tie else set()
        lines = [line + (" — à égalité" if r.application.id in tied else "")
                 for line, r in zip(lines, self.ranked, strict=True)]
        foot = [f"Égalité : {self.tie.describe(scale_max, self.threshold)}."] if self.tie else []
        return "\n".join([head, *lines, *foot])


def proposal(ctx: ProgrammeContext) -> Proposal:
    """The jury's proposal from the current scores (call: 2 or 3 pilots at or above the threshold)."""
    jury = ctx.definition.jury
    ranked = ranking(ctx)
    incomplete = [r for r in ranked if not r.complete]
    qualified = [r for r in ranked if r.complete and (r.score or 0) >= jury.threshold][: jury.pilots.max]
    blocked = None
    tie = None if incomplete else tie_for_last_place(ranked, jury.threshold, jury.pilots.max)
    if tie is not None:
        qualified = [r for r in qualified if r not in tie.tied]
    if incomplete:
        blocked = f"{len(incomplete)} candidature(s) n'ont pas toutes leurs notes"
    elif tie is None and len(qualified) < jury.pilots.min:
        blocked = (f"seules {len(qualified)} candidature(s) atteignent le seuil de "
                   f"{format_number(jury.threshold)}/{jury.scale_max}")
    return Proposal(ranked, [r.application for r in qualified], blocked, tie, jury.threshold)


def decided(ctx: ProgrammeContext) -> bool:
    """Whether the jury's selection is recorded (by either door: the flow's form, the command line,
    the back office)."""
    return ctx.programme.state in (ProgrammeState.PILOTS_SELECTED, ProgrammeState.FINISHED)


def may_decide(ctx: ProgrammeContext, at: datetime, current: Proposal | None = None) -> Verdict:
    """Whether the jury's decision may be recorded at `at` (Refused otherwise, in French): not
    twice, from the meeting on (call file: « le jury se réunit »), every score in. `current`: the
    proposal already computed, if any. The back office reads it to offer the form; `decide`
    enforces it."""
    jury = ctx.definition.jury
    if decided(ctx):
        return Verdict("Le jury a déjà décidé : sa décision ne se rejoue pas.")
    if ctx.programme.state != ProgrammeState.CALL_CLOSED or at < jury.meeting:
        return Verdict(f"Le jury se réunit le {format_paris(jury.meeting)} : sa décision se prend à partir de "
                       "cette date.")
    current = current or proposal(ctx)
    if current.blocked and any(not r.complete for r in current.ranked):
        return Verdict(f"Décision impossible : {current.blocked}. Complétez d'abord les notes.")
    return ALLOWED


def decide(ctx: ProgrammeContext, *, chosen: list[str] | None, rationale: str, by: str, at: datetime) -> int:
    """Record the decision of the jury's secretary `by`: `chosen` (SIREN or receipt numbers) or
    None to confirm the proposal. Returns the number of changes (0 if already decided the same way).

    Raises Refused before the meeting, after a decision, or while scores are missing;
    InvalidInput for a confirmation while territories tie for the last place, for an unknown,
    inadmissible or repeated application, a number of pilots outside the call's 2–3, or a
    departure from the proposal without a rationale.
    """
    jury = ctx.definition.jury
    if not by.strip():
        raise InvalidInput("Décision refusée : le nom du ou de la secrétaire du jury est obligatoire.")
    current = proposal(ctx)
    may_decide(ctx, at, current).enforce()
    if chosen is None:
        if current.tie is not None:
            tie = current.tie.describe(jury.scale_max, jury.threshold)
            raise InvalidInput(f"Pas de proposition à confirmer : {tie}. Choisissez les territoires retenus "
                               "et motivez la décision.")
        if current.blocked:
            raise Refused(f"Pas de proposition à confirmer : {current.blocked}. Choisissez les territoires "
                          "et motivez la décision.")
        picked = list(current.proposed)
    else:
        picked = [find_application(ctx, reference.strip()) for reference in chosen if reference.strip()]
    if len({a.id for a in picked}) != len(picked):
        raise InvalidInput("Décision refusée : un territoire est cité deux fois.")
    for application in picked:
        if application.status != ApplicationStatus.ADMISSIBLE:
            raise InvalidInput(f"Décision refusée : la candidature de {application.lead_name} n'est pas recevable.")
    if not jury.pilots.min <= len(picked) <= jury.pilots.max:
        raise InvalidInput(f"Décision refusée : l'appel retient de {jury.pilots.min} à {jury.pilots.max} "
                           f"territoires pilotes ({len(picked)} choisi(s)).")
    departs = {a.id for a in picked} != {a.id for a in current.proposed}
    if departs and not rationale.strip():
        raise InvalidInput("Décision refusée : elle s'écarte de la proposition du jury, un motif est obligatoire.")
    note = rationale.strip() or "proposition du jury confirmée"
    return apply_selection(ctx, current.ranked, {a.id for a in picked}, at, actor=by.strip(), rationale=note)


class DecisionForm(BaseModel):
    """What the jury's secretary answers (the Prefect UI form of `decision-jury`, the replay, the CLI)."""

    secretaire: str = Field(title="Secrétaire du jury", description="Nom de la personne qui enregistre la décision.")
    confirmer: bool = Field(default=True, title="Confirmer la proposition du classement")
    territoires: str = Field(default="", title="Sinon, territoires retenus",
                             description="SIREN ou récépissés des territoires retenus, séparés par des virgules.")
    motif: str = Field(default="", title="Motif", description="Obligatoire pour s'écarter de la proposition.")


def decide_from_form(ctx: ProgrammeContext, form: DecisionForm, at: datetime) -> int:
    """Record the decision a secretary gave in the form (see `decide` for the rules and refusals)."""
    chosen = None if form.confirmer else [part for part in form.territoires.split(",") if part.strip()]
    return decide(ctx, chosen=chosen, rationale=form.motif, by=form.secretaire, at=at)
