"""Failures of the machine told in French (`models.failures`), from the drivers' real errors: a
SQLite database that may not grow (SQLITE_FULL, as on a full disk), a file write refused with
ENOSPC, PostgreSQL refusing a connection, its disk-full SQLSTATE; and which of them are worth
trying again."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from models.errors import DatabaseUnreachable, DiskFull, InvalidInput
from models.failures import is_disk_full, mount_point, told, transient


def _sqlite_full(path: Path) -> OperationalError:
    """SQLite's own « database or disk is full »: the file may not grow past its pages."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x BLOB)"))
    pages = {"n": 0}

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages['n']}")

    with engine.connect() as connection:
        pages["n"] = connection.execute(text("PRAGMA page_count")).scalar_one()
    with pytest.raises(OperationalError) as raised, engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (zeroblob(1000000))"))
    engine.dispose()
    return raised.value


def test_sqlite_full_names_the_databases_folder_and_its_disk_never_database_url(tmp_path: Path) -> None:
    error = _sqlite_full(tmp_path / "transitions.db")
    assert isinstance(error.orig, sqlite3.OperationalError) and is_disk_full(error) and not transient(error)
    problem = told(error, database_url=f"sqlite:///{tmp_path / 'transitions.db'}")
    assert isinstance(problem, DiskFull)
    assert problem.message.startswith(f"Le disque qui porte {tmp_path} est plein (système de fichiers monté sur "
                                      f"{mount_point(tmp_path)})")
    assert "DATABASE_URL" not in problem.message and "injoignable" not in problem.message


def test_a_file_refused_for_want_of_room_names_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "outbox" / "avis.eml"
    problem = told(OSError(errno.ENOSPC, "No space left on device", str(target)))
    assert isinstance(problem, DiskFull) and f"Le disque qui porte {target.parent} est plein" in problem.message
    wrapped = RuntimeError("écriture")
    wrapped.__cause__ = OSError(errno.EDQUOT, "Disk quota exceeded", str(target))
    assert is_disk_full(wrapped)
    other = told(OSError(errno.EACCES, "Permission denied", str(target)))
    assert isinstance(other, InvalidInput) and "accès refusé" in other.message


def test_postgresql_out_of_reach_is_transient_and_told_as_such() -> None:
    engine = create_engine("postgresql+psycopg://personne@127.0.0.1:1/x", poolclass=NullPool)
    with pytest.raises(OperationalError) as raised:
        engine.connect()
    assert transient(raised.value) and not is_disk_full(raised.value)
    problem = told(raised.value)
    assert isinstance(problem, DatabaseUnreachable) and "Connection refused" in problem.message


def test_postgresqls_disk_full_speaks_of_the_servers_disk_and_is_not_retried() -> None:
    error = OperationalError("INSERT …", {}, psycopg.errors.DiskFull('could not extend file "base/1/2"'))
    problem = told(error, database_url="postgresql+psycopg://h/base")
    assert isinstance(problem, DiskFull) and not transient(error)
    assert problem.message.startswith("Le disque du serveur de base de données est plein")


@pytest.mark.parametrize(("driver", "worth_retrying"), [
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
    (psycopg.errors.InvalidPassword("password authentication failed"), False),
    (psycopg.errors.InvalidCatalogName('database "x" does not exist'), False),
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("no such table: pilot"), False),  # a bug would fail again
])
def test_only_what_may_pass_is_retried(driver: Exception, worth_retrying: bool) -> None:
    assert transient(OperationalError("SELECT 1", {}, driver)) is worth_retrying
    assert not transient(ValueError("a bug"))
