"""A pilot's charter signature certificate: the full text the parties signed, its SHA-256, and each
signature (who, for which party, when, by which door and link or account, the SHA-256 it recorded,
the id of its audit entry, so that anyone can check it against the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.charter import channel_label, party_name, party_of, sign_by, signatures
from models.charter_text import draft_text, frozen, sha256_of
from models.context import ProgrammeContext
from models.read.pilot import siren_of
from models.tables import AuditEntry, CharterSignature, Pilot


@dataclass(frozen=True)
class CertifiedSignature:
    """One signature as the certificate states it."""

    party: str
    party_name: str
    """« le territoire », « le Cerdd », « le prestataire »."""
    on_behalf: str
    """« du territoire », « du Cerdd », « du prestataire » (« au nom du Cerdd »)."""
    signatory: str
    role: str
    signed_at: datetime
    channel: str
    """The door it came by, in French: « portail », « ligne de commande », « compte équipe »."""
    via: str
    """The link (subject, version) or account used; never a token. Empty when unknown (a signature
    recorded before the certificate existed)."""
    holder: str
    """The link's holder's address (empty: a link of the party as a whole, or no link)."""
    text_sha256: str
    """The SHA-256 of the text this signature signed (empty when unknown, see `via`)."""
    audit_entry_id: int | None
    audit_seq: int | None
    """The audit entry's position in its programme's hash chain (`models.audit_chain`)."""
    audit_hash: str
    """The audit entry's chained SHA-256 (`AuditEntry.entry_hash`; empty when the entry is unknown)."""
    same_text: bool
    """Whether it signed the certificate's text (`Certificate.sha256`)."""

    @property
    def used(self) -> str:
        """The link or account used, as the certificate says it (« lien personnel territoire:…,
        version 2, tenu par … »); empty when unknown."""
        if self.holder:
            return f"{self.via}, tenu par {self.holder}"
        return f"{self.via} (lien de la partie)" if self.via.startswith("lien") else self.via


@dataclass(frozen=True)
class Certificate:
    """A pilot's charter certificate at an instant (`made_at`)."""

    programme_title: str
    pilot_name: str
    siren: str
    title: str
    text: str
    sha256: str
    frozen_at: datetime | None
    """When the first signature froze the text; None: no one has signed, the text is a draft."""
    sign_by: datetime
    """The signing deadline (the Cerdd may have extended it); not part of the signed text."""
    signatures: tuple[CertifiedSignature, ...]
    """In the order they were given."""
    missing: tuple[str, ...]
    """The parties that have not signed yet (« le prestataire »…)."""
    made_at: datetime

    @property
    def complete(self) -> bool:
        """Every party signed, each the certificate's text."""
        return not self.missing and all(s.same_text for s in self.signatures)


def charter_certificate(ctx: ProgrammeContext, pilot: Pilot, now: datetime) -> Certificate:
    """The certificate of the pilot's charter at `now`."""
    kept = frozen(ctx, pilot)
    text = kept.text if kept is not None else draft_text(ctx, pilot)
    digest = kept.sha256 if kept is not None else sha256_of(text)
    signed = signatures(ctx, pilot)
    parties = ctx.definition.accompaniment.charter.parties
    rows = sorted(signed.values(), key=lambda row: (row.signed_at, parties.index(row.party)
                                                     if row.party in parties else len(parties)))
    return Certificate(
        programme_title=ctx.definition.title, pilot_name=pilot.name, siren=siren_of(ctx, pilot),
        title=ctx.definition.accompaniment.charter.title, text=text, sha256=digest,
        frozen_at=kept.frozen_at if kept is not None else None, sign_by=sign_by(ctx, pilot),
        signatures=tuple(_certified(ctx, row, digest) for row in rows),
        missing=tuple(party_name(p) for p in parties if p not in signed), made_at=now)


def _certified(ctx: ProgrammeContext, row: CharterSignature, digest: str) -> CertifiedSignature:
    entry = ctx.session.get(AuditEntry, row.audit_entry_id) if row.audit_entry_id else None
    return CertifiedSignature(
        party=row.party, party_name=party_name(row.party), on_behalf=party_of(row.party), signatory=row.signatory,
        role=row.role, signed_at=row.signed_at, channel=channel_label(row.channel), via=row.via, holder=row.via_person,
        text_sha256=row.text_sha256, audit_entry_id=row.audit_entry_id,
        audit_seq=entry.seq if entry is not None else None, audit_hash=entry.entry_hash if entry is not None else "",
        same_text=row.text_sha256 == digest)
