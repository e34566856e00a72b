"""The back office and the `decision-jury` flow are two doors onto one step: the flow, run from
its deployment on a real Prefect server, suspends on its form; the direction member answers on
`/equipe/jury`; the decision is recorded once, the waiting run is resumed once and completes
without recording anything again; nothing is left waiting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest

from flows.decision import jury_decision_flow, resume_waiting
from models.decision import DecisionForm
from models.tables import Pilot
from tests.conftest import PROJECT_ROOT, at
from tests.guards import HANG_GUARD
from tests.portal.conftest import Clock
from tests.portal.helpers import audits, count, form_ending, notices
from tests.portal.staff_members import email_of, sign_in
from tests.portal.test_staff_jury import meet

pytestmark = pytest.mark.prefect


@pytest.fixture
def awaiting(closed: str, clock: Clock) -> str:
    """Every juror scored, the jury met: the decision awaits its secretary."""
    meet(closed)
    clock.now = at("2015-06-04T14:30")
    return closed


def _execute(run_id: UUID, env: dict[str, str]) -> None:
    """What a worker does with a scheduled run: execute it in its own process, to its end or its
    suspension."""
    done = subprocess.run([sys.executable, "-m", "prefect.engine", str(run_id)], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _state(run_id: UUID) -> str:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state is not None
    return state.name


def test_the_back_office_answers_the_waiting_flow_once(prefect_server: None, awaiting: str, client_for,
                                                       clock: Clock, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    api = str(PREFECT_API_URL.value())
    monkeypatch.setenv("PREFECT_API_URL", api)  # the portal talks to Prefect only when a server is named
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "resultats")}
    jury_decision_flow.to_deployment(name="equipe").apply()
    run = run_deployment("decision-jury/equipe", timeout=0, as_subflow=False, parameters={"programme": None})
    _execute(run.id, env)
    assert _state(run.id) == "Suspended"

    client = client_for(awaiting)
    sign_in(client, awaiting, clock, "direction")
    form = form_ending(client.get("/equipe/jury").text, "/equipe/jury/decision")
    assert client.post(form.action, data={**form.hidden, "choix": "confirmer"}).status_code == 303
    assert _state(run.id) != "Suspended"  # resumed after the commit (the response's background task)
    [entry] = audits(awaiting, "jury.selection")
    assert entry.actor == f"equipe:{email_of('direction')}" and count(awaiting, Pilot) == 3
    sent = len(notices(awaiting, "decision_retenue"))

    _execute(run.id, env)  # the worker picks the resumed run up: it finds the decision taken
    assert _state(run.id) == "Completed"
    assert len(audits(awaiting, "jury.selection")) == 1 and len(notices(awaiting, "decision_retenue")) == sent
    assert resume_waiting("cerdd-2015", DecisionForm(secretaire="Emmanuel Bertin")) == 0  # nothing waits any more
