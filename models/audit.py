"""The audit log: every state change, when (programme instant), who and what, each entry chained
to the previous one of its programme by SHA-256 (`models.audit_hash`, checked by `models.audit_chain`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, func, or_, select

from models.audit_hash import ERASED as ERASED_MARK
from models.audit_hash import append, personal_values, protected, stored_json
from models.tables import AuditEntry, Programme

ERASED = "donnees.effacees"
"""The action of the entry that declares an erasure (`redact_entries`): it lists the ids erased."""


def record(
    session: Session,
    *,
    programme_id: int | None,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    summary: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (it commits with the change it records); it is
    chained to the head of its programme's chain as the transaction commits (`models.audit_hash`:
    the chain is locked only then). Its id is known once flushed (at once on PostgreSQL), its
    `seq` and hashes once committed."""
    entry = AuditEntry(
        chain=programme_id or 0,
        programme_id=programme_id,
        at=at,
        recorded_at=datetime.now(UTC),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        summary=summary,
        details=details or {},
    )
    return append(session, entry)


def entries(session: Session, programme_id: int, *, limit: int = 50, action: str | None = None,
            unattached: bool = False) -> list[AuditEntry]:
    """The latest audit entries of a programme, newest first, optionally by action prefix; with
    `unattached`, the entries recorded without a programme (chain 0: a person's data exported…) too."""
    mine = col(AuditEntry.programme_id) == programme_id
    query = select(AuditEntry).where(or_(mine, col(AuditEntry.chain) == 0) if unattached else mine)
    if action:
        query = query.where(col(AuditEntry.action).startswith(action))
    return list(session.exec(query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)).all())


def last_id(session: Session) -> int:
    """The id of the newest audit entry (0 when there is none): a bookmark for `since`."""
    newest = session.exec(select(func.max(AuditEntry.id))).one()
    return int(newest or 0)


def since(session: Session, after_id: int) -> list[tuple[AuditEntry, str]]:
    """The audit entries recorded after the bookmark `after_id`, oldest first (committed facts),
    each with its programme's slug."""
    slugs = {p.id: p.slug for p in session.exec(select(Programme)).all()}
    entries = session.exec(select(AuditEntry).where(col(AuditEntry.id) > after_id).order_by(col(AuditEntry.id)))
    return [(entry, slugs.get(entry.programme_id, "")) for entry in entries.all()]


Replacement = tuple[str, str, dict[str, Any]]
"""What stays of an audit entry's personal part once erased: (actor, summary, details)."""


def redact_entries(session: Session, replacements: dict[int, Replacement], *, programme_id: int | None,
                   at: datetime, actor: str, reason: str) -> AuditEntry:
    """Erase the personal part (actor, summary, details) of the audit entries whose ids are the keys
    of `replacements` (RGPD art. 5-1-e and 17), and record a new entry (`donnees.effacees`) that lists
    the ids and parts erased and why. Each part (`actor`, `summary`, `details.<key>`) whose value
    differs in the replacement is erased whole: its value becomes `audit_hash.ERASED` and its salt
    goes; the other parts stay as they were, provable. A part that is a fact (`details.*sha256`, see
    `audit_hash.protected`) is never erased. The entries' place in the log, instant, action and
    entity stay, and so does the chain (each keeps its part hashes and `personal_sha256`, and gets
    `redacted_at` = `at`); the new entry, chained after them, is what makes the erasure valid to
    `models.audit_chain.verify`. Entries of another chain than `programme_id`'s get a declaring entry
    in their own chain too. Unknown ids, and entries with nothing to erase, are skipped.

    Returns the new entry of `programme_id`'s chain (in the current transaction, not committed)."""
    chains: dict[int, dict[str, list[str]]] = {}
    for entry_id, replacement in sorted(replacements.items()):
        entry = session.get(AuditEntry, entry_id)
        erased = _erase_parts(entry, replacement, at) if entry is not None else []
        if entry is not None and erased:
            session.add(entry)
            chains.setdefault(entry.chain, {})[str(entry_id)] = erased
    own = programme_id or 0
    for chain, parts in sorted(chains.items()):
        if chain != own:
            _declare(session, chain or None, parts, at=at, actor=actor, reason=reason)
    return _declare(session, programme_id, chains.get(own, {}), at=at, actor=actor, reason=reason)


def _erase_parts(entry: AuditEntry, replacement: Replacement, at: datetime) -> list[str]:
    """Erase the parts of `entry` that `replacement` changes (see `redact_entries`); the parts erased."""
    now = personal_values(entry.actor, entry.summary, entry.details)
    wanted = personal_values(replacement[0], replacement[1], stored_json(dict(replacement[2])))
    parts = {part: list(pair) for part, pair in (entry.personal_parts or {}).items()}
    erased = [part for part, value in now.items()
              if value != ERASED_MARK and wanted.get(part) != value and not protected(part) and part in parts]
    for part in erased:
        now[part] = ERASED_MARK
        parts[part][1] = None
    if not erased:
        return []
    entry.actor, entry.summary = now["actor"], now["summary"]
    entry.details = {part.removeprefix("details."): value for part, value in now.items() if part.startswith("details.")}
    entry.personal_parts = parts
    entry.redacted_at = entry.redacted_at or at
    return erased


def _declare(session: Session, programme_id: int | None, parts: dict[str, list[str]], *, at: datetime,
             actor: str, reason: str) -> AuditEntry:
    return record(session, programme_id=programme_id, at=at, actor=actor, action=ERASED,
                  entity="audit", entity_id=None, summary=f"Données personnelles effacées : {reason}",
                  details={"entrees": sorted(int(key) for key in parts), "parties": parts, "motif": reason})
