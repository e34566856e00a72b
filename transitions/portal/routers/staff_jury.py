"""The back office's jury page, `/equipe/jury` (issue 23): the ranking with each juror's scores,
ties, conflicts of interest and missing scores, and the decision form of the jury's secretary —
the same step as the `decision-jury` flow's form and `transitions jury decide` (`models.decision`).
Only `direction` decides; once committed, a `decision-jury` run waiting on its form is resumed
(`flows.decision.resume_waiting`), finds the decision taken and completes."""

from __future__ import annotations

import logging
import os
import re
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from models.clock import format_number
from models.decision import DecisionForm, decide
from models.errors import InvalidInput
from models.read.staff_jury import jury_screen
from models.staff import StaffAct, actor, may
from models.text import require_text
from transitions.portal.deps import PageAsked, StaffDep, staff_form
from transitions.portal.fields import field
from transitions.portal.staff_state import StaffAction, staff_html

router = APIRouter(prefix="/equipe")
DECISION = "decision-jury"
MOST_CHOSEN = 12
"""More territories than this in one answer is not a form a person filled in."""
log = logging.getLogger("transitions.portail")


@router.get("/jury", response_class=HTMLResponse, name="staff_jury")
def jury_page(seen: StaffDep, number: PageAsked, fait: str | None = None) -> HTMLResponse:
    return staff_html(seen, "equipe_jury.html", "Jury : classement et décision", done=fait,
                      section="/equipe/jury", ecran=jury_screen(seen.ctx, seen.now, number), maintenant=seen.now,
                      jeton=seen.form,
                      peut_decider=bool(may(seen.member, StaffAct.DECIDE_SELECTION)), decision=DECISION,
                      nombre=format_number)


def _answer(action: StaffAction) -> DecisionForm:
    """The secretary's answer as the flow's form holds it (choice, territories, rationale), checked."""
    choice = action.field("choix")
    if choice not in ("confirmer", "autre"):
        raise InvalidInput("Choisissez de confirmer la proposition ou de retenir d'autres territoires. "
                           "Rien n'a été enregistré.")
    # ticked boxes, or SIREN typed in one field (many candidates): spaces, commas or lines between them
    chosen = [part for value in action.form.getlist("territoire") for part in re.split(r"[\s,;]+", str(value))
              if part]
    if len(chosen) > MOST_CHOSEN or any(not value.isdigit() or len(value) != 9 for value in chosen):
        raise InvalidInput("Les territoires cochés ne sont pas des SIREN de candidatures. Rien n'a été enregistré.")
    rationale = require_text(field(action.form, "motif", multiline=True), "Motif", max_length=4000, required=False)
    return DecisionForm(secretaire=action.member.name, confirmer=choice == "confirmer",
                        territoires=", ".join(chosen), motif=rationale)


@router.post("/jury/decision", name="staff_jury_decide")
def decide_post(request: Request,
                action: Annotated[StaffAction, staff_form(DECISION, StaffAct.DECIDE_SELECTION)]) -> Response:
    answer = _answer(action)
    decide(action.ctx, chosen=None if answer.confirmer else answer.territoires.split(","), rationale=answer.motif,
           by=actor(action.member), at=action.at)
    # after the response, so after the commit: the resumed run must find the decision taken
    resume = BackgroundTask(resume_flow, action.ctx.programme.slug, answer)
    return RedirectResponse("/equipe/jury?fait=jury-decision", status_code=303, background=resume)


def resume_flow(programme: str, answer: DecisionForm) -> None:
    """Resume the `decision-jury` run waiting on its form, when a Prefect server is configured."""
    if not os.environ.get("PREFECT_API_URL"):
        return
    from flows.decision import resume_waiting  # imports Prefect: only with a server to talk to

    try:
        resume_waiting(programme, answer)
    except Exception:  # the decision is committed; a run left waiting says so in Prefect's UI
        log.warning("le flow decision-jury n'a pas pu être repris", exc_info=True)
