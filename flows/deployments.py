"""The deployments `transitions serve` runs in one process (the same as prefect.yaml declares for
a work pool): the tick on the programme's own instants (an hourly safety net in office hours),
delivery every quarter of an hour, one deployment per stage, the jury's decision, the audit
log's daily anchor, and the triggers that react to domain events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.events import DeploymentEventTrigger
from prefect.events.schemas.automations import Posture

from flows.anchor import anchor_flow
from flows.decision import jury_decision_flow
from flows.delivery import deliver_flow
from flows.mailbox import mailbox_flow
from flows.stages import (
    attendance_flow,
    close_call_flow,
    closing_flow,
    deliverables_flow,
    kickoff_flow,
    launch_call_flow,
    phases_flow,
    select_pilots_flow,
    training_flow,
)
from flows.tick import tick_flow

PARIS = "Europe/Paris"
ATTENDANCE_WAIT = timedelta(days=1)
"""How long the `rappel-presences` trigger waits for attendance after a session ends (the domain's
`models.training.ATTENDANCE_GRACE`)."""
TAGS = ["transitions", "cerdd"]


def _cron(expression: str) -> dict[str, Any]:
    return {"cron": expression, "timezone": PARIS}


SIGNATURE_PARAMETERS = {"as_of": "{{ event.payload['instant'] }}",
                        "programme": "{{ event.resource['transitions.programme'] }}"}
"""The kick-off's parameters from a signature event. The instant is the ISO text the event's
payload carries (flows/events.py), not `event.occurred`: Prefect renders a lone `{{ … }}` with
`| tojson`, which fails on a datetime (the run was never created: « InvalidJinja »)."""


def signature_trigger() -> DeploymentEventTrigger:
    """A charter signature starts the kick-off stage at once, for the instant it was recorded."""
    return DeploymentEventTrigger(
        name="signature de charte", expect={"transitions.charte.signee"},
        match={"prefect.resource.id": "transitions.pilot.*"}, parameters=dict(SIGNATURE_PARAMETERS))


def decision_trigger() -> DeploymentEventTrigger:
    """The jury's meeting asks for a decision: the decision flow opens its form at once."""
    return DeploymentEventTrigger(
        name="décision attendue", expect={"transitions.jury.decision_attendue"},
        match={"prefect.resource.id": "transitions.programme.*"},
        parameters={"programme": "{{ event.resource['transitions.programme'] }}"})


def attendance_trigger() -> DeploymentEventTrigger:
    """Proactive: a session ended (`transitions.session.terminee`, announced by the tick) and no
    attendance was recorded for it (`transitions.session.emargement`, same resource) within a day:
    the manager is reminded. The run acts at its own start; the flow checks the database again."""
    return DeploymentEventTrigger(
        name="émargement manquant", posture=Posture.Proactive,
        after={"transitions.session.terminee"}, expect={"transitions.session.emargement"},
        for_each={"prefect.resource.id"}, match={"prefect.resource.id": "transitions.training_session.*"},
        threshold=1, within=ATTENDANCE_WAIT,
        parameters={"programme": "{{ event.resource['transitions.programme'] }}"})


def deployments(*, mailbox: bool | None = None) -> list[Any]:
    """Every deployment, with French descriptions and tags; the mailbox's (`releve-candidatures`,
    every quarter of an hour in office hours) only when `mailbox` (default: when the settings name
    an IMAP server or a Maildir)."""
    from prefect.schedules import Schedule

    from config.settings import get_settings

    if mailbox is None:
        mailbox = get_settings().mailbox_configured

    # The tick waits its turn (each run keeps its own instant); a delivery or a reading of the
    # mailbox finding another at work is dropped: the running one leaves nothing for it to do.
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)
    only_one = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    stages = [
        (launch_call_flow, "lancement-appel"), (close_call_flow, "cloture-appel"),
        (select_pilots_flow, "selection-jury"), (phases_flow, "phases-et-jalons"),
        (training_flow, "sessions-formation"), (deliverables_flow, "livrables-prestataire"),
        (closing_flow, "cloture-accompagnement"),
    ]
    return [
        tick_flow.to_deployment(
            name="tick", tags=TAGS, concurrency_limit=one_at_a_time,
            schedules=[Schedule(**_cron("0 8-18 * * 1-5"))],
            description="Fait avancer les programmes en direct à leurs instants (rattrape une panne courte) ; "
                        "filet de sécurité chaque heure ouvrée."),
        deliver_flow.to_deployment(
            name="envoi-avis", tags=TAGS, concurrency_limit=only_one,
            schedules=[Schedule(**_cron("*/15 8-17 * * 1-5"))],
            description="Distribue les avis en attente (accusés, relances, alertes) avec reprises."),
        kickoff_flow.to_deployment(
            name="charte-et-lancement", tags=TAGS, triggers=[signature_trigger()],
            description="Relance les signataires de la charte ; lance les pilotes dont la charte est signée par "
                        "les trois parties, dès la dernière signature."),
        jury_decision_flow.to_deployment(
            name="decision-jury", tags=TAGS, triggers=[decision_trigger()],
            description="Propose le classement du jury et attend la décision de son ou sa secrétaire."),
        attendance_flow.to_deployment(
            name="rappel-presences", tags=TAGS, triggers=[attendance_trigger()],
            description="Un jour après la fin d'une session sans émargement, le rappelle au Cerdd (une fois)."),
        *(flow.to_deployment(name=name, tags=TAGS, description=flow.description or "") for flow, name in stages),
        anchor_flow.to_deployment(
            name="ancre-journal", tags=TAGS, schedules=[Schedule(**_cron("5 0 * * *"))],
            description=anchor_flow.description or ""),
        *([mailbox_flow.to_deployment(
            name="releve-candidatures", tags=TAGS, concurrency_limit=only_one,
            schedules=[Schedule(**_cron("*/15 8-17 * * 1-5"))],
            description=mailbox_flow.description or "")] if mailbox else []),
    ]
