"""prefect.yaml registers on a real Prefect server: every deployment, its schedule and its limit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.prefect


def test_prefect_yaml_deploys(prefect_server: None, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    prefect = str(Path(sys.executable).parent / "prefect")
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "TRANSITIONS_HOME": str(PROJECT_ROOT),
           "PREFECT_HOME": str(tmp_path)}
    for args in (["work-pool", "create", "transitions", "--type", "process", "--overwrite"],
                 ["--no-prompt", "deploy", "--all"]):
        done = subprocess.run([prefect, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr

    async def deployments() -> dict[str, object]:
        async with get_client() as client:
            return {d.name: d for d in await client.read_deployments()}

    found = asyncio.run(deployments())
    assert {"tick", "envoi-avis", "cloture-appel", "selection-jury"} <= set(found)
    tick = found["tick"]
    schedule = tick.schedules[0].schedule  # type: ignore[attr-defined]
    assert (schedule.cron, schedule.timezone) == ("0 8-18 * * 1-5", "Europe/Paris")
    limit = tick.global_concurrency_limit  # type: ignore[attr-defined]
    assert limit is not None and limit.limit == 1
    assert tick.concurrency_options.collision_strategy == "ENQUEUE"  # type: ignore[attr-defined]
    assert {"charte-et-lancement", "decision-jury"} <= set(found)
    french = {"tick": "Fait avancer", "envoi-avis": "Distribue", "decision-jury": "Propose le classement"}
    for name, start in french.items():
        assert found[name].description.startswith(start), name  # type: ignore[attr-defined]
        assert "transitions" in found[name].tags  # type: ignore[attr-defined]

    async def triggers() -> list[object]:
        async with get_client() as client:
            return list(await client.read_automations())

    automations = {a.name: a for a in asyncio.run(triggers())}  # type: ignore[attr-defined]
    # named as flows/deployments.py names them for `transitions serve`
    assert {"signature de charte", "décision attendue", "émargement manquant"} <= set(automations), sorted(automations)
