"""The audit log's hash chain, write side: the canonical serialisation hashed, and the append that
chains a new entry to the head of its chain (one chain per programme, chain 0 for entries without
one).

Version 1 (`VERSION`), SHA-256 over sorted-key compact JSON (UTF-8), instants as UTC ISO 8601 with
microseconds and « Z »:

- The personal part is hashed part by part, so that erasing one part (RGPD art. 17) leaves the
  others provable: the parts are `actor`, `summary` and `details.<key>` for each top-level key of
  `details` (keys are the code's words, never a person's). Each part's hash is
  `SHA-256(salt || canonical({"part", "value"}))` with its own 16 random bytes of salt, kept in
  `personal_parts` ({part: [hash, salt]}) until that part is erased: then the salt goes (nothing is
  left to guess a short value against) and the value becomes `ERASED` exactly, never another text,
  so an erasure can hide a fact but not change it. `personal_sha256 = SHA-256(canonical({part:
  hash}))`. Parts whose key ends in `sha256` (the hash of a signed text, of a file) are facts, never
  erasable (`PROTECTED_SUFFIX`).
- `entry_hash = SHA-256(canonical({"v", "prev_hash", "chain", "seq", "at", "recorded_at",
  "action", "entity", "entity_id", "personal_sha256"}))`, `prev_hash` being the previous entry's
  `entry_hash` (`GENESIS` for the first).

An entry takes its place in the chain when its transaction commits, not when it is recorded
(`append`): it is written at once with its personal part sealed and a pending, negative `seq`
unique to it (PostgreSQL: minus its id, drawn from the id sequence when recorded; SQLite, whose one
writer at a time needs no more: minus a count of the session's entries), so the transaction's own
reads (its id, its rows) see it like any other row; then the session's `before_commit` hook
(`chain_pending`) flushes what else the transaction wrote, locks each chain it appends to, in chain
order (`lock_chain`: PostgreSQL `pg_advisory_xact_lock(CHAIN_LOCK, chain)`, SQLite its write lock,
which the transaction holds already), reads the chain's committed head and gives the pending
entries their seq, `prev_hash` and `entry_hash` in the order they were recorded, and the commit
follows. A chain is thus locked for the few statements before a commit, however long the
transaction ran (a tick's stage at national scale: seconds), and two writers never wait for each
other's work, only for each other's commit. Within a chain, seq order is commit order; ids are
drawn when entries are recorded, so two transactions of one chain may commit in the other order
than their ids. The unique (chain, seq) is the last guard; a pending seq is never committed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, text
from sqlmodel import Session

from models.tables import AuditEntry

VERSION = 1
"""The version of the canonical serialisation written now (`AuditEntry.hash_version`)."""
GENESIS = "0" * 64
"""The `prev_hash` of a chain's first entry."""
CHAIN_LOCK = 20150424
"""The first key of PostgreSQL's advisory lock on a chain (the second is the chain)."""
_PENDING = "audit_chain_pending"
"""The `session.info` key of the entries recorded in the current transaction, not chained yet."""
_COUNT = "audit_chain_recorded"
"""The `session.info` key of the count behind SQLite's pending seqs (see the module's docstring)."""
_HEAD = text("SELECT seq, entry_hash FROM auditentry WHERE chain = :chain AND seq > 0 ORDER BY seq DESC LIMIT 1")
_NEXT_ID = text("SELECT nextval(pg_get_serial_sequence('auditentry', 'id'))")


def utc_text(value: datetime) -> str:
    """An instant as the chain hashes it: UTC, ISO 8601, microseconds, « Z »."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: Any) -> bytes:
    """Sorted-key compact JSON, UTF-8: the bytes hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def stored_json(value: dict[str, Any]) -> dict[str, Any]:
    """`value` as the database gives it back (tuples as lists, keys as text), so that the hash taken
    when writing is the one recomputed when reading."""
    return dict(json.loads(json.dumps(value)))


ERASED = "[effacé]"
"""What an erased part of the personal part holds, exactly."""
PROTECTED_SUFFIX = "sha256"
"""A `details` key ending so names a fact (a hash of what was signed or received): never erased."""


def personal_values(actor: str, summary: str, details: dict[str, Any]) -> dict[str, Any]:
    """The personal part cut into its parts: `actor`, `summary`, `details.<key>` → value."""
    return {"actor": actor, "summary": summary, **{f"details.{key}": value for key, value in details.items()}}


def part_sha256(salt_hex: str, part: str, value: Any) -> str:
    """SHA-256 (hex) of a part's salt followed by the canonical {part, value}."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical({"part": part, "value": value})).hexdigest()


def personal_sha256(parts: dict[str, Any]) -> str:
    """SHA-256 (hex) of the parts' hashes (`personal_parts`: part → [hash, salt or None])."""
    return hashlib.sha256(canonical({part: pair[0] for part, pair in parts.items()})).hexdigest()


def protected(part: str) -> bool:
    """A part that is a fact, never erased (see `PROTECTED_SUFFIX`)."""
    return part.startswith("details.") and part.endswith(PROTECTED_SUFFIX)


def entry_sha256(entry: AuditEntry) -> str:
    """SHA-256 (hex) of an entry's chained fields (version `entry.hash_version`, only 1 so far)."""
    if entry.hash_version != 1:
        raise ValueError(f"unknown audit hash version {entry.hash_version}")
    return hashlib.sha256(canonical({
        "v": 1, "prev_hash": entry.prev_hash, "chain": entry.chain, "seq": entry.seq,
        "at": utc_text(entry.at), "recorded_at": utc_text(entry.recorded_at), "action": entry.action,
        "entity": entry.entity, "entity_id": entry.entity_id, "personal_sha256": entry.personal_sha256,
    })).hexdigest()


def seal_personal(entry: AuditEntry) -> None:
    """Hash the personal part of `entry` part by part, each part with its own salt (see the
    module's docstring): what does not depend on the entry's place in its chain."""
    entry.hash_version = VERSION
    entry.details = stored_json(entry.details)
    parts: dict[str, Any] = {}
    for part, value in personal_values(entry.actor, entry.summary, entry.details).items():
        salt = secrets.token_hex(16)
        parts[part] = [part_sha256(salt, part, value), salt]
    entry.personal_parts = parts
    entry.personal_sha256 = personal_sha256(parts)


def link(entry: AuditEntry, prev_seq: int, prev_hash: str) -> None:
    """Place `entry` (its personal part sealed) after (`prev_seq`, `prev_hash`): seq, previous
    hash, entry hash."""
    entry.seq, entry.prev_hash = prev_seq + 1, prev_hash
    entry.entry_hash = entry_sha256(entry)


def seal(entry: AuditEntry, prev_seq: int, prev_hash: str) -> None:
    """Fill the chain's fields of `entry` (whose chain, instants and personal part are set) as the
    entry following (`prev_seq`, `prev_hash`): salts, personal hash, seq, entry hash."""
    seal_personal(entry)
    link(entry, prev_seq, prev_hash)


def lock_chain(session: Session, chain: int) -> None:
    """Hold the right to append to `chain` until the transaction ends (see the module's docstring)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :chain)"), {"key": CHAIN_LOCK, "chain": chain})
    elif dialect == "sqlite":
        if not session.in_transaction():
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        else:  # a write that changes nothing takes the write lock (a later one would anyway)
            session.execute(text("UPDATE auditentry SET seq = seq WHERE 0 = 1"))


def append(session: Session, entry: AuditEntry) -> AuditEntry:
    """Add `entry` (its `chain` set) to the session, its personal part sealed and its place in the
    chain pending until the transaction commits (`chain_pending`); on PostgreSQL its id is known at
    once, on SQLite once flushed."""
    seal_personal(entry)
    if session.get_bind().dialect.name == "postgresql":
        entry.id = int(session.execute(_NEXT_ID).scalar_one())
        entry.seq = -entry.id
    else:
        entry.seq = session.info[_COUNT] = session.info.get(_COUNT, 0) - 1
    session.add(entry)
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def pending(session: Session) -> list[AuditEntry]:
    """The entries recorded in the session's transaction and not chained yet, in recording order
    (those a rolled back savepoint took away left out)."""
    return [entry for entry in session.info.get(_PENDING, ()) if inspect(entry).persistent or inspect(entry).pending]


@event.listens_for(Session, "before_commit")
def chain_pending(session: Session) -> None:
    """Chain the transaction's pending entries as it commits (see the module's docstring): its
    other writes flushed first, so that no chain is locked while they wait for rows another
    transaction holds; then each chain locked in turn, in chain order (no two writers wait for each
    other), its head read and the entries placed after it. A savepoint's release waits for the
    commit of its transaction."""
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return
    session.flush()
    entries = pending(session)
    for chain in sorted({entry.chain for entry in entries}):
        lock_chain(session, chain)
        row = session.execute(_HEAD, {"chain": chain}).first()
        head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
        for entry in entries:
            if entry.chain == chain:
                link(entry, *head)
                head = (entry.seq, entry.entry_hash)
    session.flush()
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: Any) -> None:
    """The transaction committed or rolled back: its pending entries are chained or gone (a flush's
    inner transaction and a savepoint change nothing)."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
