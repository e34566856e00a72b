"""One service per database: a lease (`ServiceLease`) that `transitions serve` takes before it
starts anything, renews while it runs and gives back when it stops.

Two `serve` on one database would each run the programme's schedule (two ticks per instant, two
deliverers, two jury decisions waiting); the second refuses, naming who holds the lease. A holder
that crashed cannot give it back: its lease expires `ttl` after its last renewal and the next
`serve` takes it over, saying whose it was. A holder whose lease was taken over while it could
not renew (the database unreachable longer than `ttl`) learns it at its next renewal and stops.

Every function takes the instant it acts at (`at`, UTC); instants compared are the holders' own
clocks, so machines sharing a database need clocks within a fraction of `ttl` (NTP).
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.clock import format_paris
from models.db import lock_for_update
from models.errors import Refused
from models.tables import ServiceLease

SERVE = "serve"
"""The lease `transitions serve` holds."""
TTL = timedelta(seconds=60)
"""How long a lease lasts after its last renewal (a crashed holder's is taken over after this)."""


@dataclass(frozen=True)
class Holder:
    """Who asks for a lease: this machine, this process, and a random part (a pid is reused)."""

    key: str
    host: str
    pid: int

    @classmethod
    def this_process(cls) -> Holder:
        host, pid = socket.gethostname()[:200], os.getpid()
        return cls(f"{host}:{pid}:{secrets.token_hex(6)}", host, pid)


@dataclass(frozen=True)
class Taken:
    """A lease acquired; `took_over` describes, in French, the expired lease it replaced (None when
    there was none)."""

    since: datetime
    took_over: str | None = None


def describe(row: ServiceLease) -> str:
    """« la machine H (processus 123), depuis le … » for a lease's holder."""
    return f"la machine {row.host} (processus {row.pid}), depuis le {format_paris(row.since)}"


def acquire(session: Session, holder: Holder, *, at: datetime, name: str = SERVE, ttl: timedelta = TTL) -> Taken:
    """Take the lease `name` for `holder` at `at` until `at + ttl`, in the session's transaction
    (call it first: the lease row is locked while read). Refused (French, naming the holder, its
    machine, process and since when, and when it would expire) when another holder's lease has not
    expired at `at`; an expired one is taken over, `Taken.took_over` saying whose it was."""
    query = select(ServiceLease).where(ServiceLease.name == name)
    row = session.execute(lock_for_update(session, query)).scalar_one_or_none()
    took_over = None
    if row is not None and row.holder != holder.key:
        if row.expires_at > at:
            raise Refused(f"Un autre « transitions serve » tourne déjà sur cette base de données : {describe(row)} "
                          f"(dernier signe de vie le {format_paris(row.heartbeat_at)}). Arrêtez-le d'abord ; "
                          f"s'il s'est arrêté brutalement, son bail expire le {format_paris(row.expires_at)} et "
                          "le service pourra alors être relancé ici.")
        took_over = (f"Le service précédent ({describe(row)}) ne donne plus signe de vie depuis le "
                     f"{format_paris(row.heartbeat_at)} : son bail a expiré, ce service prend le relais.")
        session.delete(row)
        session.flush()
    if row is None or took_over is not None:
        session.add(ServiceLease(name=name, holder=holder.key, host=holder.host, pid=holder.pid, since=at,
                                 heartbeat_at=at, expires_at=at + ttl))
        try:
            session.flush()
        except IntegrityError:  # PostgreSQL: another holder inserted it since our read found none
            raise Refused("Un autre « transitions serve » vient de démarrer sur cette base de données : "
                          "arrêtez-le d'abord.") from None
        return Taken(at, took_over)
    row.heartbeat_at, row.expires_at = at, at + ttl
    return Taken(row.since)


def renew(session: Session, holder: Holder, *, at: datetime, name: str = SERVE, ttl: timedelta = TTL) -> bool:
    """Extend `holder`'s lease to `at + ttl`. False when it holds it no more (taken over after it
    expired): the holder must then stop."""
    mine = (col(ServiceLease.name) == name, col(ServiceLease.holder) == holder.key)
    moved = session.execute(update(ServiceLease).where(*mine).values(heartbeat_at=at, expires_at=at + ttl))
    return bool(getattr(moved, "rowcount", 0))


def release(session: Session, holder: Holder, *, name: str = SERVE) -> None:
    """Give the lease back (nothing when `holder` holds it no more)."""
    session.execute(delete(ServiceLease).where(col(ServiceLease.name) == name, col(ServiceLease.holder) == holder.key))

