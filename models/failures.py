"""Failures of the machine rather than of the input, told in French by every door (the command
line, the portal, the flows, the outbox's file channel): the database out of reach, a full disk,
another refusal of the system. One home: the CLI's `translate`, the portal's 503 page and the
flows' retry condition all ask here.

- `told(exc, database_url=…)`: the refusal to show (`DiskFull`, `DatabaseUnreachable`,
  `InvalidInput` for another OSError), or None for anything else (a bug stays a bug).
- `transient(exc)`: whether trying again later may succeed (the database stopped, restarting,
  cut off, busy): what the flows retry with backoff. A full disk, a refused password or an unknown
  database are not transient: trying again in a minute changes nothing.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from models.errors import DatabaseUnreachable, DiskFull, InvalidInput, TransitionsError
from models.text import visible
from models.wording import os_reason

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
POSTGRES_DISK_FULL = "53100"
REFUSED_ACCESS = ("28", "3D")
"""SQLSTATE classes of a connection refused for good: authorization (wrong password, no such
role), no such database. Not an outage: the settings are wrong."""
TRANSIENT_STATES = ("08", "57P01", "57P02", "57P03", "53300", "40001", "40P01")
"""SQLSTATEs worth trying again: connection exceptions, the server shutting down or starting up
(admin/crash shutdown, cannot connect now), too many connections, serialization failures and
deadlocks."""
SQLITE_TRANSIENT = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN"})


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it (`raise … from`, then the driver's own error), at most 8 deep."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 8:
        found.append(current)
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapper: the driver's error
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return found


def _driver_error(exc: BaseException) -> BaseException | None:
    return next((e.orig for e in _chain(exc) if isinstance(e, DBAPIError) and isinstance(e.orig, BaseException)), None)


def _sqlstate(error: BaseException | None) -> str:
    return str(getattr(error, "sqlstate", None) or "")


def is_disk_full(exc: BaseException) -> bool:
    """A disk has no room left, for a file (ENOSPC, EDQUOT), SQLite (SQLITE_FULL) or PostgreSQL (53100)."""
    for error in _chain(exc):
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            return True
        if getattr(error, "sqlite_errorname", None) == "SQLITE_FULL" or _sqlstate(error) == POSTGRES_DISK_FULL:
            return True
    return False


def is_database_failure(exc: BaseException) -> bool:
    """The database did not do what was asked for a reason of its own: unreachable, lost, refusing
    the connection, out of room (SQLAlchemy's OperationalError and InterfaceError)."""
    return any(isinstance(e, OperationalError | InterfaceError) for e in _chain(exc))


def transient(exc: BaseException) -> bool:
    """Trying again later may succeed: the database stopped, restarting, cut off or busy."""
    if not is_database_failure(exc) or is_disk_full(exc):
        return False
    if any(isinstance(e, DBAPIError) and e.connection_invalidated for e in _chain(exc)):
        return True
    driver = _driver_error(exc)
    state = _sqlstate(driver)
    if state:
        return state.startswith(TRANSIENT_STATES) and not state.startswith(REFUSED_ACCESS)
    if isinstance(driver, sqlite3.Error):  # a file: busy or unopenable may pass, a missing table will not
        return getattr(driver, "sqlite_errorname", None) in SQLITE_TRANSIENT or "locked" in str(driver)
    return True  # no SQLSTATE from psycopg: the connection itself failed (refused, reset, timed out)


def database_folder(database_url: str | None) -> Path | None:
    """The folder of a SQLite database file (None for a server's database)."""
    if not database_url:
        return None
    try:
        parsed = make_url(database_url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve().parent


def mount_point(folder: Path) -> Path:
    """The mount point of the file system holding `folder` (or its nearest existing parent)."""
    path = Path(os.path.abspath(folder))
    while not path.exists() and path != path.parent:
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def disk_full(folder: Path | None) -> DiskFull:
    """« Le disque qui porte <folder> est plein », with its mount point (None: a folder unknown)."""
    if folder is None:
        return DiskFull("Un disque de cette machine est plein : rien n'a été écrit. Libérez de la place, puis "
                        "recommencez.")
    shown = visible(str(folder))[:200]
    mount = visible(str(mount_point(folder)))[:200]
    return DiskFull(f"Le disque qui porte {shown} est plein (système de fichiers monté sur {mount}) : rien n'a été "
                    "écrit. Libérez de la place sur ce disque, puis recommencez.")


def server_disk_full(detail: str) -> DiskFull:
    """The database server's disk is full (PostgreSQL's SQLSTATE 53100): its folders are not ours to name."""
    return DiskFull("Le disque du serveur de base de données est plein : rien n'a été enregistré de l'opération en "
                    f"cours. Libérez de la place sur ce serveur, puis recommencez (détail technique : "
                    f"{visible(detail)[:200]}).")


def _folder_of(exc: BaseException) -> Path | None:
    for error in _chain(exc):
        if isinstance(error, OSError) and error.filename:
            return Path(os.fsdecode(error.filename)).parent
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def detail(exc: BaseException) -> str:
    """The driver's own words on one line (for a log: no statement, no parameters)."""
    driver = _driver_error(exc)
    return visible(_first_line(driver if driver is not None else exc))[:300]


def told(exc: BaseException, *, database_url: str | None = None) -> TransitionsError | None:
    """The French refusal for a failure of the machine, or None when `exc` is none (a bug, a
    refusal of the domain). `database_url` names the folder of a SQLite database whose disk is full."""
    if is_disk_full(exc):
        driver = _driver_error(exc)
        if driver is not None and _sqlstate(driver) == POSTGRES_DISK_FULL:
            return server_disk_full(_first_line(driver))
        return disk_full(_folder_of(exc) or (database_folder(database_url) if driver is not None else None))
    if is_database_failure(exc):
        return DatabaseUnreachable(f"La base de données est injoignable ou refuse l'accès ; réessayez plus tard ou "
                                   f"vérifiez DATABASE_URL (détail technique : {detail(exc)}).")
    if isinstance(exc, OSError) and exc.errno is not None:
        return InvalidInput(f"Le système refuse l'opération : {os_reason(exc)}"
                            + (f" ({visible(str(exc.filename))[:200]})." if exc.filename else "."))
    return None
