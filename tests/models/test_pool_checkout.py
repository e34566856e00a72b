"""PostgreSQL's pooled connections are checked as they are handed out without a round trip
(`models.db._replace_if_dropped`): a live one back from a page a moment ago costs no « SELECT 1 »;
one the server dropped (`pg_terminate_backend`, as a restart does) is replaced, with every older
one, and costs no session an error; so is one cut without a word (a firewall, a failover: nothing
to read on its socket) once it rested."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

import models.db
from models.db import dispose_engines, get_engine, session_scope
from tests.needs import postgres_url


@pytest.fixture
def pg() -> Iterator[str]:
    url = postgres_url()
    dispose_engines()
    yield url
    dispose_engines()


@pytest.fixture
def pings(pg: str, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The round trips the checkout sends (the dialect's ping, counted)."""
    dialect = get_engine(pg).dialect
    sent: list[object] = []
    ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        sent.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


def _backend(url: str) -> int:
    with session_scope(url) as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, *pids: int) -> None:
    killer = create_engine(url, poolclass=NullPool)  # a connection of its own, outside the pool
    with killer.connect() as connection:
        for pid in pids:
            # waits until the backend has ended (PostgreSQL ≥ 14): its « terminating » message sent, as
            # after a restart; without the wait, a page racing with the kill may still meet it
            assert connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
    killer.dispose()


def test_a_live_pooled_connection_is_handed_out_without_a_round_trip(pg: str, pings: list[object]) -> None:
    first = _backend(pg)
    assert [_backend(pg) for _ in range(5)] == [first] * 5  # the same connection, reused
    assert pings == []


def test_a_connection_the_server_dropped_is_replaced_and_costs_no_session_an_error(
        pg: str, pings: list[object]) -> None:
    first = _backend(pg)
    _terminate(pg, first)
    second = _backend(pg)  # no error: the dropped connection was seen, asked, and replaced
    assert second != first
    assert len(pings) == 1
    assert _backend(pg) == second and len(pings) == 1  # the new one is live: asked no more


def test_a_restart_drops_every_older_connection_of_the_pool_at_once(pg: str, pings: list[object]) -> None:
    engine = get_engine(pg)
    with engine.connect() as one, engine.connect() as two:  # two pooled connections, both checked in after
        pids = [int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in (one, two)]
    _terminate(pg, *pids)
    with engine.connect() as one, engine.connect() as two:
        now = {int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in (one, two)}
    assert not now & set(pids)
    assert len(pings) == 1  # the first dropped one invalidated the pool: the second was not asked


class CuttingProxy:
    """A TCP proxy to PostgreSQL whose `cut()` silently forgets every connection it carries: the
    server side is closed (the backend ends), the client side is left open with nothing to read,
    and the client's next bytes get a TCP reset, as a NAT that dropped an idle flow answers."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[dict[str, object]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            pair: dict[str, object] = {"client": client, "upstream": upstream, "cut": False}
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, False), daemon=True).start()

    def _pump(self, pair: dict[str, object], to_server: bool) -> None:
        client, upstream = pair["client"], pair["upstream"]
        assert isinstance(client, socket.socket) and isinstance(upstream, socket.socket)
        source, sink = (client, upstream) if to_server else (upstream, client)
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if pair["cut"]:
                if to_server:  # the client spoke on a forgotten flow: RST
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client.close()
                return  # towards the client: nothing reaches it any more, not even the end
            if not data:
                sink.close()
                return
            try:
                sink.sendall(data)
            except OSError:
                return

    def cut(self) -> None:
        with self.lock:
            for pair in self.pairs:
                pair["cut"] = True
                upstream = pair["upstream"]
                assert isinstance(upstream, socket.socket)
                upstream.shutdown(socket.SHUT_RDWR)
            self.pairs.clear()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def proxied(pg: str) -> Iterator[tuple[str, CuttingProxy]]:
    real = make_url(pg)
    proxy = CuttingProxy(real.host or "127.0.0.1", real.port or 5432)
    yield real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    dispose_engines()
    proxy.close()


def test_a_connection_cut_without_a_word_is_asked_once_it_rested_and_costs_no_session_an_error(
        proxied: tuple[str, CuttingProxy], monkeypatch: pytest.MonkeyPatch) -> None:
    url, proxy = proxied  # found by the hostile review: with the socket alone, this session failed
    monkeypatch.setattr(models.db, "IDLE_PING_AFTER", 0.2)
    first = _backend(url)  # one pooled connection, resting
    proxy.cut()
    time.sleep(0.3)
    assert _backend(url) != first  # asked, found dead, replaced: as with pool_pre_ping
