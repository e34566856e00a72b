"""A page's reading session (`models.db.reading_scope`): on PostgreSQL outside any transaction (no
BEGIN, no COMMIT), its connection given back to the pool as it was taken; on either database, a
write through it is refused before it reaches the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from models.context import load_ctx
from models.db import WriteInReadingSession, reading_scope, session_scope
from models.tables import Programme


def _title(url: str) -> str:
    with session_scope(url) as session:
        return session.exec(select(Programme.title)).one()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_a_page_reads_outside_any_transaction(loaded: str) -> None:
    with reading_scope(loaded) as session:
        load_ctx(session)
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        assert dbapi.autocommit is True
        assert dbapi.info.transaction_status.name == "IDLE"  # nothing begun: no COMMIT to send either
    with session_scope(loaded) as session:  # the same pooled connection, as other sessions expect it
        session.execute(text("SELECT 1"))
        again = session.connection().connection.dbapi_connection
        assert again is dbapi
        assert again.autocommit is False and again.info.transaction_status.name == "INTRANS"


def test_a_change_flushed_in_a_reading_session_is_refused_and_nothing_written(loaded: str) -> None:
    before = _title(loaded)
    with pytest.raises(WriteInReadingSession), reading_scope(loaded) as session:
        load_ctx(session).programme.title = "Écrit par une page"
        session.flush()
    assert _title(loaded) == before


def test_a_bulk_update_in_a_reading_session_is_refused_and_nothing_written(loaded: str) -> None:
    before = _title(loaded)
    with pytest.raises(WriteInReadingSession), reading_scope(loaded) as session:
        session.execute(update(Programme).values(title="Écrit par une page"))
    assert _title(loaded) == before


def test_a_reading_session_reads_what_was_committed_before_it(loaded: str) -> None:
    with session_scope(loaded) as session:
        load_ctx(session).programme.title = "Titre du jour"
    with reading_scope(loaded) as session:
        assert load_ctx(session).programme.title == "Titre du jour"
