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

Appends to one chain are serialised inside the writer's transaction (`lock_chain`): PostgreSQL
takes `pg_advisory_xact_lock(CHAIN_LOCK, chain)`, SQLite its write lock (BEGIN IMMEDIATE when no
transaction has started, else a write that changes nothing). The head read then is cached in
`session.info` for the transaction's next entries, and forgotten when any transaction of the
session ends. The unique (chain, seq) is the last guard.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlmodel import Session

from models.tables import AuditEntry

VERSION = 1
"""The version of the canonical serialisation written now (`AuditEntry.hash_version`)."""
GENESIS = "0" * 64
"""The `prev_hash` of a chain's first entry."""
CHAIN_LOCK = 20150424
"""The first key of PostgreSQL's advisory lock on a chain (the second is the chain)."""
_HEADS = "audit_chain_heads"
"""The `session.info` key of the heads read (or written) in the current transaction: chain → (seq, hash)."""
_HEAD = text("SELECT seq, entry_hash FROM auditentry WHERE chain = :chain ORDER BY seq DESC LIMIT 1")


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


def seal(entry: AuditEntry, prev_seq: int, prev_hash: str) -> None:
    """Fill the chain's fields of `entry` (whose chain, instants and personal part are set) as the
    entry following (`prev_seq`, `prev_hash`): seq, salt, personal hash, entry hash."""
    entry.hash_version = VERSION
    entry.details = stored_json(entry.details)
    entry.seq, entry.prev_hash = prev_seq + 1, prev_hash
    parts: dict[str, Any] = {}
    for part, value in personal_values(entry.actor, entry.summary, entry.details).items():
        salt = secrets.token_hex(16)
        parts[part] = [part_sha256(salt, part, value), salt]
    entry.personal_parts = parts
    entry.personal_sha256 = personal_sha256(parts)
    entry.entry_hash = entry_sha256(entry)


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
    """Chain `entry` (its `chain` set) to the head of its chain and add it to the session."""
    heads: dict[int, tuple[int, str]] = session.info.setdefault(_HEADS, {})
    head = heads.get(entry.chain)
    if head is None:
        lock_chain(session, entry.chain)
        row = session.execute(_HEAD, {"chain": entry.chain}).first()  # autoflush: this transaction's too
        head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
    seal(entry, *head)
    session.add(entry)
    heads[entry.chain] = (entry.seq, entry.entry_hash)
    return entry


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: Any) -> None:
    """A commit, a rollback or a savepoint's end: the heads cached may be stale or gone (a flush's
    inner transaction changes nothing)."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEADS, None)
