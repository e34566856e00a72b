"""The audit log: every state change, when (programme instant), who and what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from models.tables import AuditEntry


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
    """Add an audit entry to the current transaction (it commits with the change it records)."""
    entry = AuditEntry(
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
    session.add(entry)
    return entry
