"""Requests beyond the portal's concurrency wait their turn before they touch the database, over
real HTTP to uvicorn (found by bench/load.py: 50 people on a 2-worker portal were answered 503
after waiting PORTAL_POOL_TIMEOUT for a connection while the CPU sat idle).

A page's link is read by a dependency on one thread, its handler runs on another: between the two
the request holds its database connection while it waits for a thread. With more requests than
connections, the threads' requests then wait for a connection that requests waiting for a thread
hold: each waits for the other until the pool's timeout, and is answered 503. The portal admits
PORTAL_CONCURRENCY requests at once (`middleware.Admission`), so a thread and a connection are
always there for each request admitted."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from tests.guards import HANG_GUARD, join_or_fail, wait_for
from tests.portal.conftest import LENS, SECRET, Clock, _free_port, link, territory
from transitions.portal.app import create_app
from transitions.portal.server import build_server

PEOPLE = 12


def _serve(app: Any) -> tuple[str, Any, threading.Thread]:
    port = _free_port()
    server = build_server("127.0.0.1", port, app=app)
    server.install_signal_handlers = lambda: None
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: bool(server.started), "le portail ne démarre pas")
    return f"http://127.0.0.1:{port}", server, thread


async def _at_once(base: str, path: str) -> list[int]:
    clients = [httpx.AsyncClient(base_url=base, timeout=HANG_GUARD) for _ in range(PEOPLE)]
    try:
        answers = await asyncio.gather(*(client.get(path) for client in clients))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return [answer.status_code for answer in answers]


def test_more_requests_than_connections_wait_their_turn_and_none_is_refused(selected: str, clock: Clock,
                                                                            tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    _, lens = link(selected, territory(LENS))
    app = create_app(selected, SECRET, clock=clock, concurrency=1, pool_timeout=2,
                     queue=2 * PEOPLE)  # 1 thread, 3 connections; room for all to wait (PORTAL_QUEUE)
    base, server, thread = _serve(app)
    try:
        statuses = asyncio.run(_at_once(base, lens))
        statuses += asyncio.run(_at_once(base, lens))
    finally:
        server.should_exit = True
        join_or_fail([thread], "le portail ne s'arrête pas")
    assert statuses == [200] * (2 * PEOPLE)
