"""`transitions portal --workers 2`: two processes on one port, over real HTTP. What must hold for
a person lives in the database, so it holds across processes: a form token spent on one worker
is refused on the other, a replaced link is replaced on both, and « Recevoir un nouveau lien » is
throttled across both. Each request is sent on a connection the test has seen accepted by the
worker it wants (read from /proc: which process holds the server's end of the connection)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from models.db import session_scope
from models.links import issue_link, pilot_bearer
from models.tables import AuditEntry, Notice
from tests.conftest import PROJECT_ROOT, ctx_of
from tests.guards import HANG_GUARD, wait_for
from tests.portal.conftest import ARRAS, SECRET
from transitions.portal.urls import home_path
from transitions.processes import descendants

FORM = re.compile(r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="jeton" value="([^"]+)">')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _holder_of(client_port: int, server_port: int, candidates: set[int]) -> int | None:
    """The process among `candidates` holding the server's end of the connection from `client_port`."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)) == (server_port, client_port):
            inode = fields[9]
    for pid in candidates:
        try:
            if any(os.readlink(fd) == f"socket:[{inode}]" for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
        except OSError:
            continue
    return None


class Workers:
    """The portal's supervisor process on `port`, and a way to reach each of its workers."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def connection_to(self, wanted: int | None) -> tuple[int, http.client.HTTPConnection]:
        """A kept-alive connection accepted by the worker `wanted` (any worker: None), and its pid."""
        for _ in range(200):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HANG_GUARD)
            connection.request("GET", "/sante")
            assert connection.getresponse().read() is not None
            assert connection.sock is not None
            pid = _holder_of(connection.sock.getsockname()[1], self.port, descendants(self.process.pid))
            if pid is not None and wanted in (None, pid):
                return pid, connection
            connection.close()
        raise AssertionError(f"aucune connexion acceptée par le processus {wanted}")

    def pids(self) -> set[int]:
        return {self.connection_to(None)[0] for _ in range(40)}

    def request(self, worker: int, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        from urllib.parse import urlencode

        _, connection = self.connection_to(worker)
        body = urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode("utf-8")
        connection.close()
        return answer.status, text


@pytest.fixture
def workers(selected: str, tmp_path: Path) -> Iterator[Workers]:
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
           "DATABASE_URL": selected, "PORTAL_SECRET": SECRET, "DATA_DIR": str(tmp_path / "var"),
           "OUTBOX_DIR": str(tmp_path / "outbox"), "NOTICE_CHANNEL": "file"}
    log = tmp_path / "portail.log"
    process = subprocess.Popen([sys.executable, "-c", "from transitions.cli import main; main()", "portal",
                                "--port", str(port), "--workers", "2"], cwd=PROJECT_ROOT, env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    running = Workers(process, port, log)

    def two_workers() -> bool:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            return len(running.pids()) == 2
        except OSError:
            return False

    try:
        wait_for(two_workers, "les deux processus du portail", every=0.5)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _person_links(url: str, contact: int = 0) -> tuple[str, str, str]:
    """A territory contact's link, then a newer one replacing it (issued now: links are checked in
    real time); and the contact's address."""
    from models.pilots import find_pilot
    from models.recipients import territory_contacts

    now = datetime.now(UTC)
    paths = []
    with session_scope(url) as session:
        ctx = ctx_of(session)
        person = territory_contacts(ctx, find_pilot(ctx, ARRAS))[contact].email.lower()
        bearer = pilot_bearer(ctx, ARRAS, "territoire", person)
        for _ in range(2):
            paths.append(home_path(bearer, issue_link(ctx, bearer, secret=SECRET, at=now, days=10)))
    return paths[0], paths[1], person


def _renewals(url: str) -> list[Any]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == "nouveau_lien")).all())


def test_tokens_link_versions_and_throttles_hold_across_two_worker_processes(selected: str, workers: Workers,
                                                                             db_url: str) -> None:
    first, second = sorted(workers.pids())
    old, new, person = _person_links(selected)
    for worker in (first, second):  # the link's version lives in the database: replaced on both
        assert workers.request(worker, "GET", old)[0] == 410
        assert workers.request(worker, "GET", new)[0] == 200

    status, page = workers.request(first, "GET", old)
    form = FORM.search(page)
    assert form, page
    assert workers.request(first, "POST", form.group(1), {"jeton": form.group(2)})[0] == 200
    assert [n.recipient_email.lower() for n in _renewals(selected)] == [person]
    replayed, text = workers.request(second, "POST", form.group(1), {"jeton": form.group(2)})
    assert replayed == 409 and "déjà été envoyé" in text  # spent on the first process, refused on the other

    again = FORM.search(workers.request(second, "GET", old)[1])
    assert again
    assert workers.request(second, "POST", again.group(1), {"jeton": again.group(2)})[0] == 200
    assert len(_renewals(selected)) == 1  # within 15 minutes of the first: throttled on the other process too

    said = workers.log.read_text(errors="replace")
    assert "Traceback" not in said
    if db_url.startswith("sqlite"):
        assert "les écritures (formulaires, nouveaux liens) passent une à une" in " ".join(said.split())


@pytest.mark.parametrize("command", [["portal", "--workers", "2"], ["serve", "--portal-workers", "2"]])
def test_several_processes_on_a_database_in_memory_are_refused_in_french(command: list[str],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from config.settings import reset_settings
    from transitions.cli import app

    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    reset_settings()
    try:
        result = CliRunner().invoke(app, command, env={"COLUMNS": "400"})
    finally:
        reset_settings()
    assert result.exit_code == 2, result.output
    assert "une base SQLite en mémoire n'est pas partagée entre processus" in result.output


def test_two_simultaneous_renewals_on_two_processes_send_one_link(selected: str, workers: Workers) -> None:
    """« Recevoir un nouveau lien » clicked at the same moment on two processes (two forms, two
    tokens): one link mailed, the other request throttled (the grant's row is locked while read)."""
    import threading

    from tests.guards import join_or_fail

    pids = sorted(workers.pids())
    for contact in (0, 1):
        old, _, person = _person_links(selected, contact)
        forms = [FORM.search(workers.request(pid, "GET", old)[1]) for pid in pids]
        gate = threading.Barrier(2)
        statuses: list[int] = []

        def click(pid: int, form: Any, gate: threading.Barrier = gate, statuses: list[int] = statuses) -> None:
            _, connection = workers.connection_to(pid)
            gate.wait()
            connection.request("POST", form.group(1), body=f"jeton={form.group(2)}",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            statuses.append(connection.getresponse().status)
            connection.close()

        clicks = [threading.Thread(target=click, args=(pid, form)) for pid, form in zip(pids, forms, strict=True)]
        for thread in clicks:
            thread.start()
        join_or_fail(clicks, "deux demandes de nouveau lien simultanées")
        assert statuses == [200, 200]
        assert [n.recipient_email.lower() for n in _renewals(selected)].count(person) == 1
        with session_scope(selected) as session:
            renewed = session.exec(select(AuditEntry).where(AuditEntry.action == "lien.renvoye")).all()
        assert [entry.details.get("personne") for entry in renewed].count(person) == 1
