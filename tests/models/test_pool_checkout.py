"""PostgreSQL's pooled connections are checked as they are handed out without a round trip
(`models.db._replace_if_dropped`): a live one costs no « SELECT 1 »; one the server dropped
(`pg_terminate_backend`, as a restart does) is replaced, with every older one, and costs no
session an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

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
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
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
