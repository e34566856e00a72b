"""The jury's decision as a human step in Prefect: the flow shows the proposal, suspends until
the jury's secretary answers the form in the Prefect UI (or through the API), then records the
decision once. An answer the form's rules or the programme's refuse is asked again, the refusal
stated at the top of the form: it never fails the run. Run from its deployment, which the
`transitions.jury.decision_attendue` event triggers at the meeting (prefect.yaml, `transitions serve`).

The back office's form (`/equipe/jury`) is the other door onto the same step: it records the
decision, then resumes the waiting run (`resume_waiting`), which finds it taken and completes; a
run that starts once the decision is taken asks nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo

from config.settings import get_settings
from models.db import session_scope
from models.decision import DecisionForm, decide_from_form, proposal
from notifications.render import portal_linker, render_notice

WAIT = 14 * 24 * 3600
"""How long the flow waits for each answer of the secretary (seconds) before it fails and must be run again."""
MAX_ASKS = 20
"""How many refused answers the flow asks again before it gives up (a form filled by a script in a loop)."""


class JuryDecisionInput(RunInput, DecisionForm):
    """The form the jury's secretary fills in (French labels, see `DecisionForm`); its constraints
    are in the form's JSON schema, so the Prefect UI and API refuse a blank name or a list of
    territories with other characters than SIREN, receipt numbers and commas before the run resumes."""

    secretaire: Annotated[str, Field(title="Secrétaire du jury", min_length=1, max_length=200, pattern=r"\S",
                                     description="Nom de la personne qui enregistre la décision.")]
    territoires: Annotated[str, Field(
        default="", title="Sinon, territoires retenus", max_length=400, pattern=r"^[0-9A-Za-z ,\-]*$",
        description="SIREN ou récépissés des territoires retenus, séparés par des virgules.")]
    motif: Annotated[str, Field(default="", title="Motif", max_length=4000,
                                description="Obligatoire pour s'écarter de la proposition.")]


def decision_input(description: str, previous: Mapping[str, Any]) -> type[JuryDecisionInput]:
    """The form with its description and the previous answer filled in, its constraints kept
    (`RunInput.with_initial_data` keeps only the fields' types)."""
    fields: dict[str, Any] = {
        name: (info.annotation, FieldInfo.merge_field_infos(info, default=previous[name]))
        for name, info in JuryDecisionInput.model_fields.items() if name in previous}
    model = pydantic.create_model("JuryDecisionInput", __base__=JuryDecisionInput, **fields)
    model._description = description  # what RunInput.with_initial_data sets
    return model


def refusal_of(error: ValidationError) -> str:
    """A form's validation errors in French, one clause per field."""
    titles = {name: info.title or name for name, info in JuryDecisionInput.model_fields.items()}
    return "; ".join(f"le champ « {titles.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'formulaire'} » "
                     f"est invalide ({e['msg']})" for e in error.errors()) + "."


Ask = Callable[[str, Mapping[str, Any], str], DecisionForm]
Record = Callable[[DecisionForm], tuple[int, str | None]]


def ask_until_decided(described: str, ask: Ask, record: Record, asks: int = MAX_ASKS) -> int:
    """Ask the secretary (`ask(description, previous answer, key)`) and record the answer (`record`:
    the changes, or the programme's refusal in French); a refused answer, by the form's rules or
    the programme's, is asked again with the refusal on top and the answer filled in. Each ask has
    its own key: the flow's body replays from the top on resume and finds each stored answer again."""
    previous: dict[str, Any] = {"secretaire": ""}
    refusal: str | None = None
    for attempt in range(asks):
        text = (described if refusal is None
                else f"Réponse refusée : {refusal} Corrigez-la et renvoyez-la.\n\n{described}")
        try:
            answer = ask(text, previous, "decision" if attempt == 0 else f"decision-{attempt + 1}")
        except ValidationError as exc:
            refusal = refusal_of(exc)
            continue
        changes, refusal = record(answer)
        if refusal is None:
            return changes
        previous = answer.model_dump()
    raise RuntimeError(f"{asks} réponses refusées de suite : la décision reste à prendre (dernier refus : {refusal})")


@task(name="proposition-du-jury", persist_result=True)
def proposal_task(programme: str | None) -> str:
    """The jury's proposal in French, for the form's description and the run's log."""
    from models.context import load_ctx

    with session_scope(get_settings().database_url) as session:
        ctx = load_ctx(session, programme)
        return proposal(ctx).describe(ctx.definition.jury.scale_max)


@task(name="decision-enregistree", persist_result=True)
def record_task(programme: str | None, answer: DecisionForm) -> tuple[int, str | None]:
    """Record the answer (idempotent: a decision already taken the same way changes nothing);
    returns the changes, or the programme's refusal of this answer (to ask again)."""
    from models.context import load_ctx
    from models.errors import InvalidInput, Refused

    with session_scope(get_settings().database_url) as session:
        ctx = load_ctx(session, programme, renderer=render_notice, linker=portal_linker())
        try:
            return decide_from_form(ctx, answer, datetime.now(UTC)), None  # the instant the secretary answered
        except InvalidInput as exc:
            get_run_logger().warning("réponse refusée, reposée au ou à la secrétaire : %s", exc.message)
            return 0, exc.message
        except Refused as exc:
            get_run_logger().warning("décision non enregistrée : %s", exc.message)
            return 0, None


@task(name="decision-deja-prise", cache_policy=NO_CACHE)
def decided_task(programme: str | None) -> bool:
    """Whether the selection is recorded already (another door answered: the back office, the
    command line): then nothing is asked."""
    from models.context import load_ctx
    from models.decision import decided

    with session_scope(get_settings().database_url) as session:
        return decided(load_ctx(session, programme))


@flow(name="decision-jury", persist_result=True,
      description="Propose le classement du jury et attend la décision de son ou sa secrétaire.")
def jury_decision_flow(programme: str | None = None) -> int:
    """Show the proposal, wait for the secretary's answer, record the decision (asking again while refused)."""
    if decided_task(programme):
        get_run_logger().info("décision déjà enregistrée par une autre voie : rien à demander")
        return 0
    described = proposal_task(programme)
    get_run_logger().info("%s", described)
    fields = set(DecisionForm.model_fields)

    def ask(text: str, previous: Mapping[str, Any], key: str) -> DecisionForm:
        answer = suspend_flow_run(wait_for_input=decision_input(text, previous), timeout=WAIT, key=key)
        return DecisionForm.model_validate(answer.model_dump(include=fields))

    return ask_until_decided(described, ask, lambda answer: record_task(programme, answer))


def resume_waiting(programme: str, answer: DecisionForm) -> int:
    """Resume every `decision-jury` run of the programme `programme` (its slug; a run started
    without one serves the only programme) suspended on its form, with `answer`: the decision the
    back office has just recorded (committed first, so the run finds it taken and completes with
    no change). Returns how many runs were resumed; a run resumed meanwhile by another door is
    left alone."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateName,
    )
    from prefect.exceptions import PrefectException
    from prefect.flow_runs import resume_flow_run

    run_input = JuryDecisionInput.model_validate(answer.model_dump()).model_dump(include=set(DecisionForm.model_fields))
    with get_client(sync_client=True) as client:
        waiting = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[jury_decision_flow.name])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Suspended"]))))
    resumed = 0
    for run in waiting:
        if run.parameters.get("programme") not in (None, programme):
            continue
        try:
            resume_flow_run(run.id, run_input=run_input)
        except (PrefectException, RuntimeError) as exc:  # resumed meanwhile, or timed out: nothing waits there
            logging.getLogger("transitions.decision").warning("run %s non repris : %s", run.id, exc)
            continue
        resumed += 1
    return resumed
