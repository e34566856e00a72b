"""The portal in tests: an app on the test database with a clock set in 2015, and personal links."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from config.settings import reset_settings
from models.db import session_scope
from models.links import Bearer, consultancy_bearer, issue_link, juror_bearer, pilot_bearer
from tests.conftest import at, ctx_of, start_arras
from tests.guards import HANG_GUARD, join_or_fail, wait_for
from transitions.portal.app import create_app
from transitions.portal.server import build_server
from transitions.portal.urls import home_path

SECRET = "Tq8v2Lm9Xr4Wz7Kp1Nc6Hb3Jd5Fs0Gy8Ue2"
ARRAS = "200033579"
LENS = "200040947"


@dataclass
class Clock:
    """The portal's instant, moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def link(url: str, bearer_of: object, when: str = "2015-06-05T09:00", days: int = 120) -> tuple[Bearer, str]:
    """Issue a personal link (revoking older ones); returns the bearer and its page path."""
    with session_scope(url) as session:
        ctx = ctx_of(session)
        bearer = bearer_of(ctx) if callable(bearer_of) else bearer_of
        assert isinstance(bearer, Bearer)
        token = issue_link(ctx, bearer, secret=SECRET, at=at(when), days=days)
    return bearer, home_path(bearer, token)


def territory(siren: str = ARRAS, party: str = "territoire"):  # noqa: ANN201
    return lambda ctx: pilot_bearer(ctx, siren, party)


def juror(email: str = "jury-dreal@example.org"):  # noqa: ANN201
    return lambda ctx: juror_bearer(ctx, email)


def consultancy():  # noqa: ANN201
    return lambda ctx: consultancy_bearer()


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2015-06-10T10:00"))


@pytest.fixture
def client_for(clock: Clock):  # noqa: ANN201
    """A TestClient on the portal over a given database URL."""
    clients: list[TestClient] = []

    def make(url: str) -> TestClient:
        client = TestClient(create_app(url, SECRET, clock=clock), follow_redirects=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[Any]:
    """Start the portal for a database with uvicorn in a thread; yields a function giving its base URL."""
    import threading

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    servers: list[Any] = []

    def start(url: str, app: Any = None) -> str:
        """`app`: a portal made by the test (by default `create_app(url, SECRET, clock=clock)`)."""
        port = _free_port()
        server = build_server("127.0.0.1", port, app=app or create_app(url, SECRET, clock=clock))
        server.install_signal_handlers = lambda: None
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        base = f"http://127.0.0.1:{port}"

        def listening() -> bool:
            assert thread.is_alive(), "le portail s'est arrêté au démarrage (voir la sortie ci-dessus)"
            return bool(server.started)

        wait_for(listening, "le portail ne démarre pas")
        assert httpx.get(f"{base}/sante", timeout=HANG_GUARD).status_code == 200
        return base

    yield start
    for server, _ in servers:
        server.should_exit = True
    join_or_fail([thread for _, thread in servers], "le portail ne s'arrête pas")


@pytest.fixture
def started(selected: str, clock: Clock) -> str:
    start_arras(selected)
    clock.now = at("2015-07-02T10:00")
    return selected


@pytest.fixture
def scoring(closed: str, clock: Clock) -> str:
    clock.now = at("2015-06-01T10:00")
    return closed
