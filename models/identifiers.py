"""Stable identifiers for messages leaving the outbox."""

from __future__ import annotations

import hashlib


def message_id(dedup_key: str) -> str:
    """A stable Message-ID: a redelivered notice carries the same one, so duplicates are detectable."""
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()[:32]
    return f"<{digest}@transitions.cerdd.org>"
