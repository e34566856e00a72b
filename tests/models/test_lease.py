"""One service per database: the lease `transitions serve` holds (models.lease), on SQLite and
PostgreSQL, at instants the test chooses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from models.db import session_scope
from models.errors import Refused
from models.lease import TTL, Holder, acquire, release, renew
from models.tables import ServiceLease
from tests.conftest import at

FIRST = Holder("machine-a:101:aaaa", "machine-a", 101)
SECOND = Holder("machine-b:202:bbbb", "machine-b", 202)
T0 = at("2026-12-06T10:00")


def _take(url: str, holder: Holder, when=T0):  # noqa: ANN001, ANN202
    with session_scope(url) as session:
        return acquire(session, holder, at=when)


def test_a_second_holder_is_refused_naming_the_first(db_url: str) -> None:
    assert _take(db_url, FIRST).took_over is None
    with pytest.raises(Refused) as refused:
        _take(db_url, SECOND, T0 + timedelta(seconds=30))
    message = refused.value.message
    assert "machine-a (processus 101), depuis le dimanche 6 décembre 2026 à 10h00" in message
    assert "tourne déjà sur cette base de données" in message
    with session_scope(db_url) as session:
        assert [row.holder for row in session.exec(select(ServiceLease))] == [FIRST.key]


def test_a_renewed_lease_keeps_others_out_and_a_released_one_lets_them_in(db_url: str) -> None:
    _take(db_url, FIRST)
    later = T0 + TTL - timedelta(seconds=1)
    with session_scope(db_url) as session:
        assert renew(session, FIRST, at=later)
    with pytest.raises(Refused):
        _take(db_url, SECOND, T0 + TTL + timedelta(seconds=1))  # expired but for the renewal
    with session_scope(db_url) as session:
        release(session, FIRST)
    assert _take(db_url, SECOND, later).took_over is None


def test_a_crashed_holders_lease_expires_and_is_taken_over_said_so(db_url: str) -> None:
    _take(db_url, FIRST)
    taken = _take(db_url, SECOND, T0 + TTL + timedelta(seconds=1))
    assert taken.took_over is not None and "machine-a (processus 101)" in taken.took_over
    assert "ce service prend le relais" in taken.took_over
    with session_scope(db_url) as session:  # the first, back from a long pause, learns it and stops
        assert renew(session, FIRST, at=T0 + TTL + timedelta(seconds=2)) is False
        release(session, FIRST)  # gives back nothing that is not its own
        row = session.exec(select(ServiceLease)).one()
    assert (row.holder, row.since) == (SECOND.key, T0 + TTL + timedelta(seconds=1))


def test_the_same_holder_acquiring_again_keeps_its_since(db_url: str) -> None:
    _take(db_url, FIRST)
    assert _take(db_url, FIRST, T0 + timedelta(seconds=10)).since == T0
