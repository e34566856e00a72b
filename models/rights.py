"""A person's rights (RGPD art. 15 and 17): their erasure, which erases what no obligation keeps
and says what is kept and why (each table's `Kept` in `models.personal_data`), and the audit
entries that record an export or an erasure without copying the person's data into the log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from models import audit
from models.erasure import ERASED, Needles, anonymise_payload, erase_notice, erase_traces
from models.person_data import Found
from models.personal_data import ARCHIVES, BY_TABLE, SHOWN, erasable_for_person
from models.tables import Application, Contact, Pilot, Programme

OTHERS_NOTICES = ("avis envoyés à d'autres personnes qui la nomment : gardés, seuls ses nom, adresse et téléphone "
                  "y sont remplacés ; la copie .eml du message que ces personnes ont reçu reste jusqu'à la fin "
                  "de la conservation des avis")
OTHERS_BASIS = "RGPD art. 17 (ses seules données) ; art. 6-1-e (les avis des autres destinataires)"
ARCHIVED_ACTIONS = ("charte.", "jury.")
"""Audit entries of public acts (signatures, the jury's decision), kept for the archives."""


@dataclass(frozen=True)
class KeptRows:
    """Rows an erasure keeps: the table, how many, why and on which basis (French)."""

    table: str
    count: int
    reason: str
    basis: str


@dataclass(frozen=True)
class Erasure:
    erased: Counter[str]
    kept: list[KeptRows]


@dataclass(frozen=True)
class _Pilots:
    """The organisations, applications and SIRENs of the pilots (their data within retention)."""

    organisations: set[int]
    applications: set[int]
    sirens: set[str]

    @classmethod
    def read(cls, session: Session) -> _Pilots:
        applications = {p.application_id for p in session.exec(select(Pilot))}
        rows = [a for a in session.exec(select(Application)) if a.id in applications]
        return cls({a.organisation_id for a in rows}, applications, {a.lead_siren for a in rows})

    def own(self, row: Any) -> bool:
        """Whether `row` belongs to a pilot."""
        if isinstance(row, Contact):
            return row.organisation_id in self.organisations
        if row.__tablename__ == "applicationversion":
            return bool(row.application_id in self.applications)
        if row.__tablename__ == "portalgrant":
            return row.subject.partition(":")[2] in self.sirens
        return row.__tablename__ in ("sessionanswer", "duedaterequest", "attendance", "chartersignature")


def erase_person(session: Session, found: Found, *, at: datetime, actor: str, reason: str) -> Erasure:
    """Erase, in the caller's transaction, what `found` holds that no obligation keeps: their
    contacts, intents, partners' confirmations, drafts' addresses, mails, notices (body and
    recipient), their entries in forms not of a pilot, and the audit entries naming them (through
    `models.audit.redact_entries`, one entry per programme whose reason never names them).
    Returns what was erased (counts per category) and what was kept, with why."""
    needles: Needles = found.needles
    pilots = _Pilots.read(session)
    erased, kept = Counter[str](), Counter[tuple[str, str, str]]()
    running = any(BY_TABLE[table].kept is not None and BY_TABLE[table].kept.pilots_only  # type: ignore[union-attr]
                  and pilots.own(row) for table, rows in found.rows.items() for row in rows)
    for table, rows in found.rows.items():
        held = BY_TABLE[table]
        for row in rows:
            if not erasable_for_person(held, pilot=pilots.own(row)):
                assert held.kept is not None
                kept[(table, held.kept.reason, held.kept.basis)] += 1
                continue
            _erase_row(session, table, row, needles, stays=running)
            erased[f"{SHOWN[table].word} : lignes effacées"] += 1
            if table == "notice" and running and held.kept is not None:
                kept[(table, held.kept.reason, held.kept.basis)] += 1
    safe_reason = needles.scrub(reason)
    for programme in session.exec(select(Programme)):
        assert programme.id is not None
        replacements = erase_traces(session, programme.id, needles, erased, audit_kept=ARCHIVED_ACTIONS,
                                    stays=running, others=True)
        audit.redact_entries(session, replacements, programme_id=programme.id, at=at, actor=actor,
                             reason=f"demande d'effacement d'une personne (RGPD art. 17) : {safe_reason}")
    archived = sum(1 for e in found.audit if e.action.startswith(ARCHIVED_ACTIONS))
    if archived:
        kept[("auditentry", "entrées du journal sur un acte public (signature, décision du jury)",
              ARCHIVES.basis)] += archived
    if found.mentions:
        kept[("notice", OTHERS_NOTICES, OTHERS_BASIS)] += len(found.mentions)
    return Erasure(erased, [KeptRows(t, n, why, basis) for (t, why, basis), n in sorted(kept.items())])


def _erase_row(session: Session, table: str, row: Any, needles: Needles, *, stays: bool) -> None:
    if table in ("contact", "portalgrant", "staff_signin_failure"):
        session.delete(row)
        return
    if table == "applicationversion":
        row.payload = anonymise_payload(row.payload, only=needles)
        row.submitted_by = ERASED if row.submitted_by.lower() in needles.emails else row.submitted_by
    elif table == "applicationdraft":
        row.holders = [h for h in row.holders if h.lower() not in needles.emails]
        row.payload = anonymise_payload(row.payload, only=needles)
    elif table == "partnerconfirmation":
        row.line = needles.scrub_value({k: v for k, v in row.line.items() if k != "contact"})
        row.contact_email = "" if row.contact_email.lower() in needles.emails else row.contact_email
        row.requested_by = ERASED if row.requested_by.lower() in needles.emails else row.requested_by
    elif table == "intent":
        row.contact_name, row.contact_email = ERASED, ""
    elif table == "notice":  # a pilot's contact stays one: their address stays the notice's key
        erase_notice(row, Needles(set(), needles.names, needles.phones) if stays else needles)
    elif table == "mailmessage":
        row.sender, row.subject = "", needles.scrub(row.subject)
    session.add(row)


def record_export(session: Session, *, at: datetime, actor: str, rows: int) -> None:
    """Audit a person's export (RGPD art. 15): how many rows, never whose."""
    audit.record(session, programme_id=None, at=at, actor=actor, action="donnees.exportees", entity="personne",
                 entity_id=None, summary=f"Export des données d'une personne (RGPD art. 15) : {rows} ligne(s).")
