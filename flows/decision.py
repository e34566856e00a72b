"""The jury's decision as a human step in Prefect: the flow shows the proposal, suspends until
the jury's secretary answers the form in the Prefect UI (or through the API), then records the
decision once. Run from its deployment, which the `transitions.jury.decision_attendue` event
triggers at the meeting (prefect.yaml, `transitions serve`)."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput

from config.settings import get_settings
from models.db import session_scope
from models.decision import DecisionForm, decide_from_form, proposal
from notifications.render import portal_linker, render_notice

WAIT = 14 * 24 * 3600
"""How long the flow waits for the secretary (seconds) before it fails and must be run again."""


class JuryDecisionInput(RunInput, DecisionForm):
    """The form the jury's secretary fills in (French labels, see `DecisionForm`)."""


@task(name="proposition-du-jury", persist_result=True)
def proposal_task(programme: str | None) -> str:
    """The jury's proposal in French, for the form's description and the run's log."""
    from models.context import load_ctx

    with session_scope(get_settings().database_url) as session:
        ctx = load_ctx(session, programme)
        return proposal(ctx).describe(ctx.definition.jury.scale_max)


@task(name="decision-enregistree", persist_result=True)
def record_task(programme: str | None, answer: DecisionForm) -> int:
    """Record the answer (idempotent: a decision already taken the same way changes nothing)."""
    from models.context import load_ctx
    from models.errors import Refused

    with session_scope(get_settings().database_url) as session:
        ctx = load_ctx(session, programme, renderer=render_notice, linker=portal_linker())
        try:
            return decide_from_form(ctx, answer, datetime.now(UTC))  # the instant the secretary answered
        except Refused as exc:
            get_run_logger().warning("décision non enregistrée : %s", exc.message)
            return 0


@flow(name="decision-jury", persist_result=True,
      description="Propose le classement du jury et attend la décision de son ou sa secrétaire.")
def jury_decision_flow(programme: str | None = None) -> int:
    """Show the proposal, wait for the secretary's answer, record the decision."""
    described = proposal_task(programme)
    get_run_logger().info("%s", described)
    answer = suspend_flow_run(
        wait_for_input=JuryDecisionInput.with_initial_data(description=described, secretaire=""),
        timeout=WAIT, key="decision")
    fields = set(DecisionForm.model_fields)
    return record_task(programme, DecisionForm.model_validate(answer.model_dump(include=fields)))
