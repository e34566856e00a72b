"""What is held about one person, as their export shows it (RGPD art. 15): rows by table (every
column but file contents), files with their SHA-256, the notices sent to them and the audit entries
naming them, in plain frozen values ready for JSON and for the French HTML page."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.person_data import Found, find_person
from models.personal_data import BY_TABLE
from models.tables import ApplicationFile, DraftFile

TABLE_LABELS = {
    "contact": "Contacts des organisations", "applicationversion": "Versions de candidature",
    "applicationdraft": "Brouillons de candidature", "partnerconfirmation": "Confirmations de partenaires",
    "intent": "Intentions de candidater", "sessionanswer": "Réponses aux invitations",
    "duedaterequest": "Demandes de report d'échéance", "notice": "Avis envoyés", "portalgrant": "Liens personnels",
    "mailmessage": "Courriels reçus", "staff_member": "Compte de l'équipe", "staff_signin_failure":
    "Connexions refusées", "programme": "Définition du programme", "chartersignature": "Signatures de charte",
    "attendance": "Présences aux sessions", "juryscore": "Notes de juré", "jurysubmission": "Grilles de juré remises",
    "auditentry": "Journal des actes",
}
"""The French titles of the tables, as the export shows them."""

LEFT_OUT = frozenset({"content", "password_hash", "totp_secret", "body_html"})
"""Columns not copied: file contents (listed with their SHA-256), secrets, the HTML twin of a text."""


@dataclass(frozen=True)
class RowView:
    table: str
    title: str
    values: tuple[tuple[str, str], ...]
    kept: str
    """Why an erasure keeps such a row (empty: erased on request)."""


@dataclass(frozen=True)
class FileView:
    table: str
    id: int
    filename: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PersonExport:
    address: str
    names: tuple[str, ...]
    rows: tuple[RowView, ...]
    files: tuple[FileView, ...]
    audit: tuple[RowView, ...]

    def as_json(self) -> dict[str, Any]:
        def row(view: RowView) -> dict[str, Any]:
            return {"table": view.table, "valeurs": dict(view.values), "conservation": view.kept}

        return {"adresse": self.address, "noms": list(self.names), "lignes": [row(r) for r in self.rows],
                "fichiers": [vars(f) for f in self.files], "journal": [row(r) for r in self.audit]}


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _view(row: Any) -> RowView:
    table = row.__tablename__
    held = BY_TABLE.get(table)
    values = tuple((name, _text(value)) for name, value in row.model_dump().items() if name not in LEFT_OUT)
    kept = "" if held is None or held.kept is None else f"{held.kept.reason} ({held.kept.basis})"
    return RowView(table, TABLE_LABELS.get(table, table), values, kept)


def _files(session: Session, found: Found) -> list[FileView]:
    versions = [v.id for v in found.rows.get("applicationversion", [])]
    drafts = [d.id for d in found.rows.get("applicationdraft", [])]
    files: list[FileView] = []
    for file in session.exec(select(ApplicationFile).where(col(ApplicationFile.version_id).in_(versions))):
        files.append(FileView("applicationfile", file.id or 0, file.filename, file.size,
                              hashlib.sha256(file.content).hexdigest() if file.content else ""))
    for draft_file in session.exec(select(DraftFile).where(col(DraftFile.draft_id).in_(drafts))):
        files.append(FileView("draftfile", draft_file.id or 0, draft_file.filename, draft_file.size,
                              hashlib.sha256(draft_file.content).hexdigest() if draft_file.content else ""))
    return files


def person_export(session: Session, address: str) -> PersonExport:
    """Everything held about the person whose address is `address`. Raises InvalidInput for an
    unreadable address, UnknownPerson when nothing is held (`models.person_data.find_person`)."""
    found = find_person(session, address)
    rows = [_view(row) for table in sorted(found.rows) for row in found.rows[table]]
    return PersonExport(found.address, tuple(sorted(found.needles.names)), tuple(rows),
                        tuple(_files(session, found)), tuple(_view(entry) for entry in found.audit))
