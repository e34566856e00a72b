"""Prefect as deployed, on loopback: a Prefect server on a fresh PostgreSQL database, the work pool,
deployments and automation registered by `deploy/register.sh`, and process workers. Used by
tests/flows/test_workers.py and bench/workers.py; every wait is bounded (tests/guards.py's limit).

The scheduler service is off: no run but those a caller creates (the hourly tick would otherwise
act on the test's database on a weekday)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.guards import HANG_GUARD

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside the one `url` names (psycopg URL), dropped at the end;
    yields its URL for Prefect's asyncpg driver."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"prefect_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Stack:
    """A running server and its workers: their environment, processes and log folder."""

    env: dict[str, str]
    api_url: str
    logs: Path
    server: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def log_tail(self, chars: int = 3000) -> str:
        logs = sorted(self.logs.glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in logs)

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(args, cwd=ROOT, env=self.env, start_new_session=True,
                                stdout=(self.logs / f"{name}.log").open("ab"), stderr=subprocess.STDOUT)

    def start_server(self) -> None:
        port = self.api_url.split(":")[-1].split("/")[0]
        started = time.monotonic()
        self.server = self.spawn("serveur", [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port])
        deadline = started + 2 * HANG_GUARD
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AssertionError("le serveur Prefect s'est arrêté\n" + self.log_tail())
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2.0).status_code == 200:
                    self.timings["serveur"] = time.monotonic() - started
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"bloqué : le serveur Prefect ne répond pas après {2 * HANG_GUARD:.0f} s\n"
                             + self.log_tail())

    def register(self) -> None:
        started = time.monotonic()
        done = subprocess.run(["sh", str(ROOT / "deploy" / "register.sh")], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=3 * HANG_GUARD)
        assert done.returncode == 0, done.stdout + done.stderr
        self.timings["enregistrement"] = time.monotonic() - started

    def start_worker(self, name: str) -> None:
        self.workers[name] = self.spawn(name, [PREFECT, "worker", "start", "--pool", "transitions", "--name", name])

    def descendants(self, pid: int) -> list[int]:
        """Every process below `pid` (the flow runs a process worker started)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker and every process it started, as when its machine is lost."""
        process = self.workers.pop(name)
        for pid in [process.pid, *self.descendants(process.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=HANG_GUARD)

    def stop(self) -> None:
        for process in [*self.workers.values(), *([self.server] if self.server else [])]:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.workers.clear()


def stack_env(folder: Path, api_db: str, app_db: str, port: int) -> dict[str, str]:
    """The environment of the server, the registration and the workers (deploy/transitions.env's
    settings, on loopback): heartbeats every 30 s, workers polling every 2 s (10 s by default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "IMAP_", "MAILDIR"))}
    api_url = f"http://127.0.0.1:{port}/api"
    env.update({
        "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_API_DATABASE_CONNECTION_URL": api_db, "PREFECT_API_URL": api_url, "PREFECT_UI_API_URL": api_url,
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false", "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_LOGGING_CONFIG_PATH": str(ROOT / "config" / "logging.yml"),
        "TRANSITIONS_HOME": str(ROOT), "DATABASE_URL": app_db, "DATA_DIR": str(folder / "var"),
        "OUTBOX_DIR": str(folder / "outbox"), "NOTICE_CHANNEL": "file",
    })
    return env


def api(api_url: str, call: Any) -> Any:
    """`call(client)` (a coroutine) with a Prefect client on `api_url`."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def run() -> Any:
        async with get_client() as client:
            return await call(client)

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        return asyncio.run(run())
