"""Stable identifiers for messages leaving the outbox."""

from __future__ import annotations

import hashlib


def message_id(dedup_key: str) -> str:
    """A stable Message-ID: a redelivered notice carries the same one, so duplicates are detectable."""
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()[:32]
    return f"<{digest}@transitions.cerdd.org>"


def digest_key(dedup_keys: list[str]) -> str:
    """The deduplication key of a digest: derived from the sorted keys of the notices it carries,
    so the same notices always make the same digest (and the same Message-ID)."""
    joined = "|".join(sorted(dedup_keys))
    return f"recapitulatif:{hashlib.sha256(joined.encode()).hexdigest()[:24]}"
