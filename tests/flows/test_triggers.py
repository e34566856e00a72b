"""The deployment triggers as Prefect's server evaluates them: which events they cover, and the
parameters their run-deployment action renders from the event (the server's own hydration code,
no server needed). A parameter that fails to render means no run at all: the signature trigger
once passed `{{ event.occurred }}`, which Prefect renders with `| tojson` and a datetime cannot be
(« InvalidJinja »), so the kick-off never ran from an event."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from flows.deployments import attendance_trigger, decision_trigger, signature_trigger
from flows.events import event_of
from models.clock import parse_instant
from models.tables import AuditEntry
from tests.conftest import PROJECT_ROOT

SIGNED = datetime(2015, 6, 16, 12, 0, 0, 123456, tzinfo=UTC)


def _received(entry: AuditEntry, slug: str = "cerdd-2015") -> Any:
    from prefect.server.events.schemas.events import ReceivedEvent

    return ReceivedEvent(id=uuid.uuid4(), **event_of(entry, slug))  # type: ignore[arg-type]


def _covers(trigger: Any, event: Any) -> bool:
    from prefect.server.events.schemas.automations import EventTrigger

    fields = {"match", "match_related", "after", "expect", "for_each", "posture", "threshold", "within"}
    server_side = EventTrigger.model_validate(trigger.model_dump(include=fields))
    return bool(server_side.covers(event) and server_side.expects(event.event))


def _render(parameters: dict[str, Any], event: Any) -> dict[str, Any]:
    """What the server's run-deployment action passes to the flow for `event`."""
    from prefect.server.events.actions import RunDeployment
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    upgraded = copy.deepcopy(parameters)
    RunDeployment._upgrade_v1_templates(upgraded)
    return dict(hydrate(upgraded, HydrationContext(raise_on_error=True, render_jinja=True,
                                                   jinja_context={"event": event})))


def _signature(entity_id: int = 2) -> AuditEntry:
    return AuditEntry(id=7, programme_id=1, at=SIGNED, recorded_at=SIGNED, actor="Emmanuel Bertin",
                      action="charte.signee", entity="pilot", entity_id=entity_id, summary="Charte signée.")


def test_a_signature_event_runs_the_kickoff_at_the_signature_instant() -> None:
    trigger = signature_trigger()
    event = _received(_signature())
    assert _covers(trigger, event)
    rendered = _render(trigger.parameters or {}, event)
    assert rendered["programme"] == "cerdd-2015"
    assert parse_instant(rendered["as_of"]) == SIGNED  # exact, microseconds included: `as_of < start` holds


def test_other_facts_do_not_run_the_kickoff() -> None:
    trigger = signature_trigger()
    started = _signature()
    started.action = "pilote.lance"
    assert not _covers(trigger, _received(started))
    on_application = _signature()
    on_application.entity = "application"
    assert not _covers(trigger, _received(on_application))


def test_the_decision_trigger_renders_its_programme() -> None:
    entry = AuditEntry(id=8, programme_id=1, at=SIGNED, recorded_at=SIGNED, actor="système",
                       action="jury.decision_attendue", entity="programme", entity_id=1, summary="Décision attendue.")
    event = _received(entry)
    trigger = decision_trigger()
    assert _covers(trigger, event)
    assert _render(trigger.parameters or {}, event) == {"programme": "cerdd-2015"}


@pytest.mark.parametrize("name", ["charte-et-lancement", "decision-jury", "rappel-presences"])
def test_prefect_yaml_declares_the_same_triggers(name: str) -> None:
    """prefect.yaml (work pools) and `transitions serve` react to the same events the same way."""
    declared = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployment = next(d for d in declared["deployments"] if d["name"] == name)
    [from_yaml] = deployment["triggers"]
    ours = {"charte-et-lancement": signature_trigger, "decision-jury": decision_trigger,
            "rappel-presences": attendance_trigger}[name]()
    assert set(from_yaml["expect"]) == ours.expect
    assert from_yaml["match"] == ours.match.root
    assert from_yaml["parameters"] == ours.parameters
    assert from_yaml.get("posture", "Reactive") == ours.posture.value
    for key in ("after", "for_each"):
        assert set(from_yaml.get(key, [])) == set(getattr(ours, key)), key
    if "within" in from_yaml:
        assert from_yaml["within"] == ours.within.total_seconds()
