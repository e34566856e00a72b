"""Prefect as the back office's monitor (`flows.monitor`), on the real Prefect test server: which
expected deployments exist, the last tick run and how it ended; without a server named, or with
one that does not answer, a French sentence and no exception. And the tick's artifacts link to
the back office's pages where they name an item (`PORTAL_BASE_URL` + `/equipe/…`)."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from config.settings import reset_settings
from flows.monitor import EXPECTED, NO_API, configured_api, engine_status
from tests.conftest import at
from transitions.runtime import run_tick

BASE = "https://equipe.cerdd.example.org"


def test_the_expected_deployments_are_those_serve_creates() -> None:
    from flows.deployments import deployments

    assert tuple(d.name for d in deployments(mailbox=False)) == EXPECTED
    assert [d.name for d in deployments(mailbox=True)][-1] == "releve-candidatures"


def test_without_a_server_named_nothing_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))  # no server announced by `transitions serve` here
    reset_settings()
    try:
        assert configured_api() is None
        engine = engine_status()
    finally:
        reset_settings()
    assert engine.problem == NO_API and engine.deployments == () and engine.last_tick is None


def test_a_server_that_does_not_answer_is_said_in_french(tmp_path: Path) -> None:
    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(silent.accept()[0]) for _ in range(4)], daemon=True).start()
    api = f"http://robot:motdepasse@127.0.0.1:{silent.getsockname()[1]}/api"
    try:
        engine = engine_status(api, timeout=0.5, mailbox=False)
    finally:
        silent.close()
        for each in held:
            each.close()
    assert engine.problem.startswith("Le serveur Prefect (http://127.0.0.1:") and "ne répond pas" in engine.problem
    assert "motdepasse" not in engine.problem and "motdepasse" not in engine.api and engine.deployments == ()


def _latest(*keys: str) -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    async def read() -> dict[str, Any]:
        async with get_client() as client:
            found = await client.read_latest_artifacts()
        return {a.key: a for a in found if a.key in keys}

    return asyncio.run(read())


@pytest.mark.prefect
def test_deployments_and_the_last_tick_as_prefect_knows_them(prefect_server: None, selected: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL

    from flows.decision import jury_decision_flow
    from flows.tick import tick_flow

    api = str(PREFECT_API_URL.value())
    monkeypatch.setenv("PREFECT_API_URL", api)
    monkeypatch.setenv("PORTAL_BASE_URL", BASE)
    reset_settings()
    missing_before = set(engine_status(mailbox=False).missing)  # the test server is shared: others may deploy
    tick_flow.to_deployment(name="tick").apply()
    jury_decision_flow.to_deployment(name="decision-jury").apply()
    assert configured_api() == api

    result = run_tick(at("2015-06-04T14:35"))  # the decision's notices leave: the dashboard is published
    engine = engine_status(mailbox=False)
    assert engine.problem == "" and engine.api == api
    states = {d.name: d for d in engine.deployments}
    assert states["tick"].exists and states["decision-jury"].exists and not states["tick"].paused
    assert set(engine.missing) == missing_before - {"tick", "decision-jury"}
    assert engine.last_tick is not None and engine.last_tick.name == "tick 2015-06-04 14:35"
    assert engine.last_tick.state == "terminé" and not engine.last_tick.failed
    assert engine.last_tick.started is not None and engine.last_tick.ended is not None
    assert result.delivery.sent > 0

    latest = _latest("programme-cerdd-2015", "pilotes-cerdd-2015", "equipe-cerdd-2015")
    markdown = str(latest["programme-cerdd-2015"].data)
    assert f"[CU d'Arras]({BASE}/equipe/pilotes/200033579)" in markdown
    receipts = re.findall(r"\| \[(CERDD-2015-\d{4})\]\(" + re.escape(BASE) + r"/equipe/candidatures/\1\)", markdown)
    assert len(receipts) == 3
    assert f"]({BASE}/equipe/avis?etat=abandonne)" in markdown
    table = str(latest["pilotes-cerdd-2015"].data)
    assert f"{BASE}/equipe/pilotes/200033579" in table
    assert f"({BASE}/equipe/)" in str(latest["equipe-cerdd-2015"].data)
    reset_settings()
