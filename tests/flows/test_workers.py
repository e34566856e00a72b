"""Prefect as deployed (issue 25): a Prefect server on PostgreSQL, the pool, deployments and automation
registered by deploy/register.sh, two process workers, a live programme's instants given as tick
runs. One worker is killed (SIGKILL, with the run it executes) while its tick is inside a
transaction: Prefect marks the run Crashed (deploy/automations.yaml, heartbeats), the next tick
does the work, and the database holds what the same instants give without Prefect, once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlmodel import select

from tests.conftest import EXAMPLES, PROGRAMME, PROJECT_ROOT, TERRITORIES, at
from tests.guards import HANG_GUARD
from tests.needs import postgres_url
from tests.prefect_stack import Stack, api, free_port, fresh_database, stack_env

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.postgres]

LAUNCH, SUBMITTED = at("2015-04-02T09:00"), at("2015-04-20T10:00")
DEADLINE, NEXT_TICK = at("2015-05-07T12:00"), at("2015-05-07T13:00")


def _install(url: str) -> None:
    from models.context import install_programme
    from models.db import migrate, session_scope
    from transitions.programmes import load_programme

    migrate(url)
    with session_scope(url) as session:
        install_programme(session, load_programme(PROGRAMME), at("2015-04-01T09:00"), "test")


def _submit(url: str) -> None:
    from transitions.intake import read_application, submit_form

    for name in TERRITORIES:
        submit_form(url, read_application(EXAMPLES / name), SUBMITTED, None)


def _facts(url: str, outbox: Path) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str, str]], int]:
    """Audit entries (action, entity), notices (kind, recipient, status) and files in the outbox."""
    from models.db import session_scope
    from models.tables import AuditEntry, Notice

    with session_scope(url) as session:
        audit = Counter((e.action, e.entity) for e in session.exec(select(AuditEntry)))
        notices = Counter((n.kind, n.recipient_email, n.status) for n in session.exec(select(Notice)))
    return audit, notices, len(list(outbox.glob("*.eml")))


@pytest.fixture
def reference(sqlite_url: str, tmp_path: Path) -> tuple[Any, ...]:
    """The same instants without Prefect, on SQLite (the killed tick simply did not happen)."""
    from flows.plain import run_tick_plain

    _install(sqlite_url)
    run_tick_plain(LAUNCH)
    _submit(sqlite_url)
    run_tick_plain(NEXT_TICK)
    return _facts(sqlite_url, tmp_path / "outbox")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    url = postgres_url()
    with create_engine(url).begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    (tmp_path / "logs").mkdir()
    with fresh_database(url) as api_db:
        port = free_port()
        running = Stack(stack_env(tmp_path / "pile", api_db, url, port), f"http://127.0.0.1:{port}/api",
                        tmp_path / "logs")
        try:
            running.start_server()
            running.register()
            for name in ("worker-a", "worker-b"):
                running.start_worker(name)
            yield running
        finally:
            running.stop()


def _tick(stack: Stack, instant: datetime) -> Any:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
        return run_deployment("tick/tick", parameters={"as_of": instant.isoformat()}, timeout=0, as_subflow=False)


def _state(stack: Stack, run: Any) -> Any:
    return api(stack.api_url, lambda client: client.read_flow_run(run.id)).state


def _until(stack: Stack, what: str, condition: Any, seconds: float = 2 * HANG_GUARD) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"bloqué : {what} — toujours pas après {seconds:.0f} s\n{stack.log_tail()}")


def _finished(stack: Stack, run: Any) -> Any:
    state = _until(stack, f"le run {run.name}", lambda: (s := _state(stack, run)).is_final() and s)
    assert state.is_completed(), (state, stack.log_tail())
    return state


def test_a_worker_killed_mid_tick_its_run_crashes_and_the_next_tick_does_the_work_once(
        stack: Stack, reference: tuple[Any, ...]) -> None:
    url = stack.env["DATABASE_URL"]
    deployed = api(stack.api_url, lambda client: client.read_deployments())
    declared = {d["name"] for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]}
    assert {d.name for d in deployed} == declared - {"releve-candidatures"}  # no mailbox configured
    _install(url)
    _finished(stack, _tick(stack, LAUNCH))
    _submit(url)

    holder = create_engine(url).connect()  # the deadline's tick will wait inside its transaction
    holder.execute(text("LOCK TABLE auditentry IN EXCLUSIVE MODE"))
    killed = _tick(stack, DEADLINE)
    _until(stack, "le tick bloqué sur le journal d'audit", lambda: holder.execute(text(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'auditentry'::regclass")).scalar())
    busy = [name for name, worker in stack.workers.items() if stack.descendants(worker.pid)]
    assert len(busy) == 1, busy
    stack.kill_worker(busy[0])
    holder.rollback()
    holder.close()
    following = _tick(stack, NEXT_TICK)  # waits for the slot the dead run holds (one tick at a time)

    crashed = _until(stack, "le run tué marqué Crashed", lambda: (s := _state(stack, killed)).is_crashed() and s,
                     seconds=3 * HANG_GUARD)
    assert "battement" in (crashed.message or "")
    _finished(stack, following)
    assert _facts(url, Path(stack.env["OUTBOX_DIR"])) == reference
