"""The audit log's hash chain, read side: is a chain whole, and what is its head.

`verify` walks one chain (a programme's, or chain 0 for entries without one) in seq order and
recomputes every hash (`models.audit_hash`); the first entry that does not hold is named, with
why in French. What it detects: an entry's content changed (its hashes no longer match), an entry
deleted or moved (a gap or a jump in seq), an entry inserted (the next entry's `prev_hash` skips
it), entries swapped (an entry's `prev_hash` names one found later), an erasure of the personal
part that no later `donnees.effacees` entry of the chain declares, an erased part that holds
anything but « [effacé] » (an erasure hides, it never rewrites), an erased fact (a `*sha256`
detail). What it cannot detect alone: a rewrite of the whole chain from some entry on with
recomputed hashes, or its last entries removed; the head kept outside (`models.audit_anchor`, the
report) is for that: `matches_anchor`. Nor can it tell a declared erasure from one made by whoever
holds the database: such an erasure can only hide a part, visibly, never change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models.audit import ERASED
from models.audit_hash import ERASED as ERASED_MARK
from models.audit_hash import GENESIS, entry_sha256, part_sha256, personal_sha256, personal_values, protected
from models.tables import AuditEntry, Programme


@dataclass(frozen=True)
class Broken:
    """The first entry of a chain that does not hold."""

    entry_id: int
    seq: int
    at: datetime
    action: str
    reason: str
    """Why, in French (« contenu modifié », « entrée insérée »…)."""


@dataclass(frozen=True)
class Head:
    """The last entry of a chain: its position, hash and instant (programme time)."""

    seq: int
    entry_hash: str
    at: datetime | None


@dataclass(frozen=True)
class ChainCheck:
    """What `verify` found in one chain."""

    chain: int
    """The programme's id, 0 for entries without a programme."""
    checked: int
    """Entries checked (up to the first broken one, included)."""
    head: Head
    broken: Broken | None

    @property
    def whole(self) -> bool:
        return self.broken is None


def chain_of(programme_id: int | None) -> int:
    """The chain of a programme's entries (0: entries without a programme)."""
    return programme_id or 0


def head(session: Session, programme_id: int | None) -> Head:
    """The head of a programme's chain (seq 0 and the genesis hash when it is empty)."""
    last = session.exec(select(AuditEntry).where(AuditEntry.chain == chain_of(programme_id))
                        .order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    return Head(last.seq, last.entry_hash, last.at) if last else Head(0, GENESIS, None)


def head_at(session: Session, programme_id: int | None, as_of: datetime) -> Head:
    """The head of a programme's chain as it stood at `as_of`: its last entry (highest seq) whose
    instant is not after `as_of`; its hash vouches for every entry before it."""
    last = session.exec(select(AuditEntry).where(AuditEntry.chain == chain_of(programme_id),
                                                 col(AuditEntry.at) <= as_of)
                        .order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    return Head(last.seq, last.entry_hash, last.at) if last else Head(0, GENESIS, None)


def heads(session: Session) -> list[tuple[str, Head]]:
    """Every chain's head with its programme's slug (« » for chain 0, listed only when not empty)."""
    found = [(p.slug, head(session, p.id)) for p in session.exec(select(Programme).order_by(col(Programme.id)))]
    orphan = head(session, None)
    return found + ([("", orphan)] if orphan.seq else [])


def verify(session: Session, programme_id: int | None) -> ChainCheck:
    """Check the chain of `programme_id` (None: chain 0) from its first entry to its head.

    Returns a `ChainCheck`: entries checked, the head found, and the first broken entry if any.
    Reads every entry of the chain once, in seq order."""
    chain = chain_of(programme_id)
    entries = list(session.exec(select(AuditEntry).where(AuditEntry.chain == chain).order_by(col(AuditEntry.seq))))
    declared = _declared_after(entries)
    previous: AuditEntry | None = None
    for index, entry in enumerate(entries):
        fault = _fault(entries, index, previous, declared)
        if fault:
            at_index, reason = fault
            named = entries[at_index]
            return ChainCheck(chain, at_index + 1, _head_of(entries), Broken(
                int(named.id or 0), named.seq, named.at, named.action, reason))
        previous = entry
    return ChainCheck(chain, len(entries), _head_of(entries), None)


def matches_anchor(session: Session, programme_id: int | None, seq: int, entry_hash: str) -> str | None:
    """Whether the chain still holds `entry_hash` at `seq` (an anchor kept outside): None if so,
    else why not, in French."""
    found = session.exec(select(AuditEntry).where(AuditEntry.chain == chain_of(programme_id),
                                                  AuditEntry.seq == seq)).first()
    if found is None:
        return f"l'entrée n° {seq} de l'ancre n'existe plus dans le journal"
    if found.entry_hash != entry_hash:
        return f"l'entrée n° {seq} n'a plus l'empreinte de l'ancre (journal réécrit)"
    return None


def _head_of(entries: list[AuditEntry]) -> Head:
    return Head(entries[-1].seq, entries[-1].entry_hash, entries[-1].at) if entries else Head(0, GENESIS, None)


def _declared_after(entries: Iterable[AuditEntry]) -> dict[int, tuple[int, set[str]]]:
    """Entry id → the highest seq of a `donnees.effacees` entry of the chain that lists it, and the
    parts those entries say were erased."""
    declared: dict[int, tuple[int, set[str]]] = {}
    for entry in entries:
        if entry.action != ERASED or not isinstance(entry.details, dict):
            continue
        listed = entry.details.get("entrees", [])
        parts = entry.details.get("parties", {})
        for entry_id in listed if isinstance(listed, list) else []:
            if isinstance(entry_id, int) and not isinstance(entry_id, bool):
                seq, known = declared.get(entry_id, (0, set()))
                named = parts.get(str(entry_id), []) if isinstance(parts, dict) else []
                declared[entry_id] = (max(seq, entry.seq),
                                      known | {p for p in named if isinstance(p, str)} if isinstance(named, list)
                                      else known)
    return declared


def _fault(entries: list[AuditEntry], index: int, previous: AuditEntry | None,
           declared: dict[int, tuple[int, set[str]]]) -> tuple[int, str] | None:
    """Why `entries[index]` does not hold after `previous` (checked): the index of the entry to
    name (this one, or the previous one when the chain shows it was inserted) and the reason."""
    entry = entries[index]
    expected = previous.seq + 1 if previous else 1
    if entry.seq != expected:
        return index, f"entrée supprimée ou déplacée (seq {expected} attendu, {entry.seq} trouvé)"
    expected_prev = previous.entry_hash if previous else GENESIS
    if entry.prev_hash != expected_prev:
        if previous is not None and entry.prev_hash == previous.prev_hash:
            return index - 1, "entrée insérée (l'entrée suivante est chaînée à celle d'avant)"
        if any(later.entry_hash == entry.prev_hash for later in entries[index + 1:]):
            return index, "entrée déplacée (elle est chaînée à une entrée placée plus loin)"
        following = entries[index + 1] if index + 1 < len(entries) else None
        if following is not None and following.prev_hash == expected_prev:
            return index, "entrée insérée (l'entrée suivante est chaînée à celle d'avant)"
        return index, "chaînage rompu (l'empreinte de l'entrée précédente ne correspond pas)"
    reason = _content_fault(entry, declared)
    return (index, reason) if reason else None


def _content_fault(entry: AuditEntry, declared: dict[int, tuple[int, set[str]]]) -> str | None:
    """Why an entry's own hashes do not hold, or None."""
    reason = _personal_fault(entry, declared)
    if reason:
        return reason
    try:
        own = entry_sha256(entry)
    except ValueError:
        return f"version d'empreinte inconnue ({entry.hash_version})"
    if own != entry.entry_hash:
        return "contenu modifié (instant, action, entité ou chaînage)"
    return None


def _personal_fault(entry: AuditEntry, declared: dict[int, tuple[int, set[str]]]) -> str | None:
    """Why the personal part does not hold: a part changed, added or removed, an erased part that
    holds anything but `ERASED`, a fact erased, an erasure no later entry declares; or None."""
    parts = entry.personal_parts if isinstance(entry.personal_parts, dict) else {}
    try:
        values = personal_values(entry.actor, entry.summary, dict(entry.details))
        if personal_sha256(parts) != entry.personal_sha256 or set(values) != set(parts):
            return "contenu modifié (qui, résumé ou détails : parties ajoutées, retirées ou empreintes changées)"
        for part, (digest, salt) in sorted(parts.items()):
            if salt is not None and part_sha256(salt, part, values[part]) != digest:
                return f"contenu modifié ({_part_label(part)})"
    except (ValueError, TypeError, AttributeError):
        return "contenu modifié (qui, résumé ou détails illisibles)"
    erased = sorted(part for part, (_, salt) in parts.items() if salt is None)
    if not erased:
        return None
    seq, named = declared.get(int(entry.id or 0), (0, set()))
    if entry.redacted_at is None or seq <= entry.seq or not set(erased) <= named:
        return "effacement non déclaré (aucune entrée « donnees.effacees » postérieure ne la mentionne)"
    for part in erased:
        if protected(part):
            return f"effacement d'un fait ({_part_label(part)} : une empreinte ne s'efface pas)"
        if values[part] != ERASED_MARK:
            return f"contenu modifié ({_part_label(part)} effacé puis réécrit)"
    return None


def _part_label(part: str) -> str:
    """« qui », « résumé », « détail charte_sha256 »: a part as verify names it."""
    return {"actor": "qui", "summary": "résumé"}.get(part, f"détail {part.removeprefix('details.')}")
