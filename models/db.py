"""Engine, sessions, schema migrations and the UTC timestamp column type."""

from __future__ import annotations

import re
import select as select_module
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, Table, event, select, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidatePoolError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from models import pilot_changes

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so the value is normalised to UTC on the way in and tagged UTC on the
    way out; a naive datetime is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: every stored instant must carry a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@dataclass(frozen=True)
class PoolSize:
    """How many connections one process's engine keeps (`size`, plus `overflow` opened beyond them
    when all are busy) and how long a checkout waits for one (`timeout`, seconds) before it raises
    `sqlalchemy.exc.TimeoutError` (the portal answers it 503). SQLAlchemy's default is 5 + 10, 30 s."""

    size: int
    timeout: float
    overflow: int = 0


_engines: dict[str, Engine] = {}
_pools: dict[str, PoolSize | None] = {}


def get_engine(url: str, pool: PoolSize | None = None) -> Engine:
    """One engine per URL, with SQLite foreign keys on and a busy timeout; PostgreSQL's pooled
    connections checked before use (`_replace_if_dropped`: a server restarted or cut off costs no
    request an error).
    `pool` sizes its pool (an in-memory SQLite has none); asked with another `pool` than it was
    made with, the engine is made again (the portal does so once, at start-up) and the old one
    disposed."""
    if url in _engines and (pool is None or _pools.get(url) == pool):
        return _engines[url]
    if url in _engines:
        _engines.pop(url).dispose()
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not the absent psycopg2
    if pool is not None and parsed.database not in (None, "", ":memory:"):
        kwargs |= {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA recursive_triggers=ON")  # a REPLACE's deleted row fires its trigger
            cursor.close()

    elif engine.dialect.name == "postgresql":
        dialect = engine.dialect

        @event.listens_for(engine, "checkout")
        def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
            _replace_if_dropped(dialect, dbapi_conn, record.info)  # dropped by the server: replaced, not failed

        @event.listens_for(engine, "checkin")
        def _checkin(_dbapi_conn: Any, record: Any) -> None:
            record.info[_RETURNED] = time.monotonic()

    _engines[url], _pools[url] = engine, pool
    return engine


_RETURNED = "transitions_returned_at"
"""Where a pooled connection's record keeps when it last came back to the pool (`time.monotonic`)."""
IDLE_PING_AFTER = 1.0
"""Seconds a pooled connection may rest before it is asked « SELECT 1 » as it is handed out."""


def _replace_if_dropped(dialect: Dialect, dbapi_conn: Any, info: dict[str, Any]) -> None:
    """A pooled PostgreSQL connection, as it is handed out, is replaced if the server dropped it
    (a restart, `pg_terminate_backend`, a cut): SQLAlchemy's `pool_pre_ping` asks the server
    (« SELECT 1 ») at every checkout, a round trip per page; this asks only a connection that
    rested more than IDLE_PING_AFTER seconds (a cut nobody told the client about, by a firewall or a
    failover, leaves nothing to read on its socket) or whose socket has something to read (an idle
    connection receives nothing: this is the server's « terminating connection » message, or its
    end). Under load a connection comes back within milliseconds and is handed out again without a
    round trip; a quiet portal asks, as before. One that cannot be asked (closed) or does not answer
    is dropped with the whole pool's older connections (`InvalidatePoolError`: a restart dropped them
    all), and the pool hands out a new one (its failure, the server still down, is the caller's
    error, as with `pool_pre_ping`). A connection just opened is not asked. A page handed a connection
    in the instant its backend is being ended, before the server's message arrived, still meets the
    error (the portal's 503), as one could between `pool_pre_ping`'s ping and its query; the window is
    wider here (the socket is looked at, not asked), and closes as soon as the message arrives.

    Sources: SQLAlchemy, « Dealing with Disconnects » (pessimistic handling, checkout events);
    PostgreSQL's protocol, « Asynchronous Operations » (what an idle backend may send)."""
    returned = info.get(_RETURNED)
    if returned is None:
        return
    try:
        if time.monotonic() - returned <= IDLE_PING_AFTER:
            waiting = select_module.poll()
            waiting.register(dbapi_conn.fileno(), select_module.POLLIN | select_module.POLLPRI)
            if not waiting.poll(0):
                return
        dialect.do_ping(dbapi_conn)  # something came: a notice, or the end; the server tells which
    except Exception as error:
        raise InvalidatePoolError("connexion fermée par PostgreSQL") from error


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _pools.clear()
    _readers.clear()


def lock_for_update(session: Session, query: Any, *, skip_locked: bool = False) -> Any:
    """Make `query` hold what it reads until the transaction ends, on either database.

    PostgreSQL locks the rows (`skip_locked`: rows another transaction holds are left out) FOR NO
    KEY UPDATE: two transactions locking a row take turns, as with FOR UPDATE, but a row that only
    refers to it (a foreign key's check, FOR KEY SHARE) is still written meanwhile: a territory's
    act inserts its audit entry and notices while a tick's stage holds their programme. SQLite has
    no row locks, so a transaction that has not started yet takes the database's write
    lock before reading (BEGIN IMMEDIATE), and a second writer waits for the first to commit: call
    it first in the transaction.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return query.with_for_update(skip_locked=skip_locked, key_share=True)
    if dialect == "sqlite" and not session.in_transaction():
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    return query


def lock_row(session: Session, key_column: Any, key: object) -> None:
    """Hold the row whose primary key `key_column` (e.g. `Programme.id`) is `key` until the
    transaction ends, as `lock_for_update` holds what a query reads: PostgreSQL locks the row
    (SELECT of its key FOR NO KEY UPDATE); SQLite takes the database's write lock if the transaction
    has not started yet, and otherwise reads nothing (a query would lock nothing more)."""
    if session.get_bind().dialect.name == "sqlite" and session.in_transaction():
        return
    session.execute(lock_for_update(session, select(key_column).where(key_column == key))).one()


def insert_new_rows(session: Session, table: Table, rows: list[dict[str, Any]], *, unique: str) -> int:
    """Insert `rows` (column → value) into `table` in one statement, leaving out any whose
    `unique` column holds a value already there (a concurrent transaction's included: PostgreSQL
    waits for it to end), without an error: the transaction goes on. Returns how many were
    inserted. What the session holds is flushed first; the rows become no objects in it.

    PostgreSQL and SQLite: INSERT … ON CONFLICT (`unique`) DO NOTHING, no savepoint. Elsewhere,
    one savepoint per row.
    """
    if not rows:
        return 0
    session.flush()
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        # The keys inserted, not the row count: PostgreSQL's driver counts no executemany.
        return len(session.connection().execute(_insert_or_skip(dialect, table, unique), rows).all())
    created = 0
    for row in rows:
        try:
            with session.begin_nested():
                session.connection().execute(table.insert(), [row])
        except IntegrityError:
            continue
        created += 1
    return created


@lru_cache(maxsize=16)
def _insert_or_skip(dialect: str, table: Table, unique: str) -> Any:
    """INSERT INTO `table` … ON CONFLICT (`unique`) DO NOTHING RETURNING `unique`, built once per
    table and dialect."""
    if dialect == "postgresql":  # each dialect's module only where it runs
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement: Any = postgresql_insert(table).on_conflict_do_nothing(index_elements=[unique])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=[unique])
    return statement.returning(table.c[unique])


@contextmanager
def _committed(session: Session) -> Iterator[Session]:
    """`session` committed at the block's end, rolled back if it raises, closed either way."""
    with session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session whose changes are committed together, or not at all."""
    with _committed(Session(get_engine(url), expire_on_commit=False)) as session:
        yield session


class ReadOnlySession(Session):
    """A session that only reads (`reading_scope`): a change flushed or an ORM INSERT, UPDATE or
    DELETE run through it raises `WriteInReadingSession` before anything reaches the database."""


class WriteInReadingSession(RuntimeError):
    """A reading session was asked to write (a defect of the caller, never a user's error)."""


_READ_ONLY = "une page qui ne fait que lire a voulu écrire dans la base"


@event.listens_for(ReadOnlySession, "before_flush")
def _no_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise WriteInReadingSession(_READ_ONLY)


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _no_write(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise WriteInReadingSession(_READ_ONLY)


_readers: dict[str, tuple[Engine, Engine]] = {}
"""Per URL: its engine and the same engine's connections in AUTOCOMMIT (`reading_scope`)."""


@contextmanager
def reading_scope(url: str) -> Iterator[Session]:
    """A session for a page that only reads (a `ReadOnlySession`). On PostgreSQL its statements run
    outside any transaction (AUTOCOMMIT: no BEGIN, no COMMIT, two round trips a page saved): at
    READ COMMITTED, PostgreSQL's level here, each statement of a transaction reads its own snapshot
    anyway, so a transaction gives reads nothing but its cost. SQLite keeps its transaction (one
    snapshot for the page's reads, no round trip to save)."""
    engine = get_engine(url)
    if engine.dialect.name == "postgresql":
        made = _readers.get(url)
        if made is None or made[0] is not engine:  # the engine made again (another pool): its reader too
            made = _readers[url] = (engine, engine.execution_options(isolation_level="AUTOCOMMIT"))
        engine = made[1]
    with _committed(ReadOnlySession(engine, expire_on_commit=False)) as session:
        yield session


MIGRATION_LOCK = 20150402
"""PostgreSQL advisory lock key held while the schema is migrated (see migrations/env.py)."""


@contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    """Two processes migrating one SQLite file take turns (a lock file beside it)."""
    import fcntl

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        yield
        return
    path = Path(f"{parsed.database}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*['\"]?([0-9A-Za-z_]+|None)['\"]?", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The newest revision(s) of models/migrations, read from the files' `revision` and
    `down_revision` lines without importing Alembic (a revision no other names as its parent)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            if found.get("down_revision") not in (None, "None"):
                parents.add(found["down_revision"])
    return frozenset(revisions - parents)


def schema_revision(url: str) -> str | None:
    """The revision the database's schema is at (Alembic's `alembic_version`), None if it has none."""
    try:
        with get_engine(url).connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _at_head(url: str) -> bool:
    """Whether the schema is already at the single head of the migration files (one query)."""
    heads = head_revisions()
    return len(heads) == 1 and schema_revision(url) in heads


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision; commands started at once migrate in turn.
    When the schema is already at the single head of the migration files (one query reads its
    revision), Alembic is not even imported: every command calls this. After an upgrade, the
    triggers that stamp pilots' changes are made again where a migration dropped them, and every
    pilot is stamped (`models.pilot_changes.ensure`)."""
    if _at_head(url):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(url)
    with _sqlite_file_lock(url):
        command.upgrade(config, "head")
        with get_engine(url).begin() as connection:  # a later migration may have dropped them (SQLite's batch mode)
            if connection.dialect.name == "postgresql":  # two processes migrating at once: in turn
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            pilot_changes.ensure(connection)


_Item = TypeVar("_Item")
IN_LIST = 500
"""Values bound in one `IN (…)` list at most: well under SQLite's 32,766 host parameters and
PostgreSQL's 65,535, and short enough to keep each statement's plan cheap."""


def in_batches(values: Sequence[_Item], size: int = IN_LIST) -> Iterator[Sequence[_Item]]:
    """`values` in consecutive slices of at most `size`, for queries that bind them in an `IN` list."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
