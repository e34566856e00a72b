"""`transitions serve` as a service of several processes: its own Prefect server, the portal with two
workers, the deployments' runner. A second `serve` on the same database refuses to start and says
who holds it; SIGTERM (on SQLite) and SIGINT (on PostgreSQL) sent to the serve process alone stop
it and every process it started, with a clean exit, the lease given back."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from models.db import session_scope
from models.tables import ServiceLease
from tests.conftest import PROJECT_ROOT
from tests.guards import wait_for
from transitions.processes import descendants
from transitions.serve import GRACE

pytestmark = pytest.mark.prefect

CLI = [sys.executable, "-c", "from transitions.cli import main; main()"]
STOP_BOUND = 2 * GRACE + 15
"""Seconds past which a stop is broken, not slow: two waves of children given GRACE each, then killed."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"DATA_DIR": str(folder / "var"), "DATABASE_URL": url, "OUTBOX_DIR": str(folder / "outbox"),
                "NOTICE_CHANNEL": "file", "DO_NOT_TRACK": "1", "PREFECT_HOME": str(folder / "prefect"),
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300", "PORTAL_SECRET": secrets.token_urlsafe(48),
                "PORTAL_PORT": str(_free_port())})
    return env


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ready(api_url: str, portal: str) -> bool:
    try:
        deployments = httpx.post(f"{api_url}/deployments/filter", json={"deployments": {"name": {"any_": ["tick"]}}},
                                 timeout=10)
        return bool(deployments.json()) and httpx.get(f"{portal}/", timeout=10).status_code == 404  # no link: 404
    except (httpx.HTTPError, ValueError):
        return False


def test_one_serve_per_database_and_a_signal_stops_it_and_all_its_children(db_url: str, tmp_path: Path) -> None:
    sig = signal.SIGTERM if db_url.startswith("sqlite") else signal.SIGINT
    env = _env(db_url, tmp_path)
    port = _free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen([*CLI, "serve", "--port", str(port), "--portal-workers", "2"], cwd=PROJECT_ROOT,
                               env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready() -> bool:
            assert process.poll() is None, log.read_text(errors="replace")
            return _ready(f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{env['PORTAL_PORT']}")

        wait_for(ready, "le service (serveur Prefect, déploiements, portail)", seconds=300, every=1)

        second = subprocess.run([*CLI, "serve", "--port", str(_free_port())], cwd=PROJECT_ROOT,
                                env={**env, "PORTAL_PORT": str(_free_port())}, capture_output=True, text=True,
                                timeout=300)
        said = " ".join((second.stdout + second.stderr).split())
        assert second.returncode == 4, said
        assert f"Un autre « transitions serve » tourne déjà sur cette base de données : la machine " \
               f"{socket.gethostname()} (processus {process.pid}), depuis le" in said
        assert "Traceback" not in said

        children = descendants(process.pid)
        assert len(children) >= 4, children  # Prefect server, portal supervisor and 2 workers, runner
        sent = time.monotonic()
        os.kill(process.pid, sig)  # to the serve process alone, as `kill` or systemd would
        try:
            code = process.wait(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve toujours en vie {STOP_BOUND:.0f} s après {sig.name}\n"
                        + log.read_text(errors="replace")[-3000:])
        left = [pid for pid in children if _alive(pid)]
        assert code == 0 and left == [], (code, left, log.read_text(errors="replace")[-3000:])
        print(f"{sig.name}: {len(children)} processus arrêtés, serve sorti en {time.monotonic() - sent:.1f} s")
    finally:
        for pid in [process.pid, *descendants(process.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait()
    with session_scope(db_url) as session:
        assert session.exec(select(ServiceLease)).all() == []  # the lease given back
    output = log.read_text(errors="replace")
    assert "Service arrêté (" in output and "bail rendu" in output
    assert "Traceback" not in output, output[-3000:]
