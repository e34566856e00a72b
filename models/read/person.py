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

from models.clock import format_duration, format_paris
from models.context import all_ctx
from models.person_data import Found, find_person
from models.personal_data import BY_TABLE, SHOWN, Follows
from models.processing import ARCHIVES, retention_texts
from models.staff_retention import ACCOUNTS_KEPT, SESSIONS_KEPT, SIGN_INS_KEPT
from models.tables import ApplicationFile, DraftFile

LEFT_OUT = frozenset({"content", "password_hash", "totp_secret", "body_html"})
"""Columns not copied: file contents (listed with their SHA-256), secrets, the HTML twin of a text."""


@dataclass(frozen=True)
class RowView:
    """One row: its table, the section's French title, every column (`values`, for the JSON), the
    columns a person reads with French labels and French values (`shown`), how long such rows are
    kept (`retention`) and why an erasure keeps it (`kept`, empty: erased on request)."""

    table: str
    title: str
    values: tuple[tuple[str, str], ...]
    kept: str
    shown: tuple[tuple[str, str], ...] = ()
    retention: str = ""


@dataclass(frozen=True)
class Mention:
    """A notice to someone else naming the person: when, its subject (an erasure replaces only
    the person's identifiers in it)."""

    id: int
    sent: str
    subject: str


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
    mentions: tuple[Mention, ...] = ()

    def as_json(self) -> dict[str, Any]:
        def row(view: RowView) -> dict[str, Any]:
            return {"table": view.table, "valeurs": dict(view.values), "conservation": view.kept,
                    "duree_de_conservation": view.retention}

        return {"adresse": self.address, "noms": list(self.names), "lignes": [row(r) for r in self.rows],
                "fichiers": [vars(f) for f in self.files], "journal": [row(r) for r in self.audit],
                "avis_a_d_autres_personnes": [vars(m) for m in self.mentions]}


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _french(value: Any) -> str:
    """A value as a person reads it: instants in Paris time, Oui/Non, JSON indented, « — » for none."""
    if isinstance(value, datetime):
        return format_paris(value)
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, dict | list):
        return "\n".join(_lines(value, 0)) or "—"
    return "—" if value is None or value == "" else str(value)


def _lines(value: Any, depth: int) -> list[str]:
    """A form's JSON value as indented « clé : valeur » lines (no braces, keys' « _ » as spaces)."""
    pad, lines = "  " * depth, []
    items = value.items() if isinstance(value, dict) else ((f"{n}.", v) for n, v in enumerate(value, start=1))
    for key, item in items:
        label = str(key).replace("_", " ")
        if isinstance(item, dict | list) and item:
            lines += [f"{pad}{label}", *_lines(item, depth + 1)]
        else:
            lines.append(f"{pad}{label} : {_french(item)}")
    return lines


def retentions(session: Session) -> dict[Follows, str]:
    """How long each kind of row is kept, in French, from the programmes' `retention:` (RGPD art. 5-1-e)."""
    definitions = [ctx.definition for ctx in all_ctx(session)]
    texts = retention_texts(definitions)
    first = definitions[0].retention if definitions else None
    drafts = format_duration(first.drafts_not_deposited) if first else "12 mois"
    mails = format_duration(first.mailbox_refused) if first else "24 mois"
    return {Follows.APPLICATION: f"candidature non retenue : {texts['applications_not_selected']} ; territoire "
                                 f"pilote : {texts['pilots']}",
            Follows.PILOT: texts["pilots"], Follows.NOTICE: f"texte de l'avis : {texts['notices']}",
            Follows.DRAFT: f"{drafts} après son dernier enregistrement s'il n'est pas déposé",
            Follows.MAILBOX: f"{mails} après sa lecture s'il n'est devenu aucune candidature (sinon, comme elle)",
            Follows.AUDIT: ARCHIVES, Follows.PROGRAMME: "tant que le programme est installé",
            Follows.STAFF: f"compte : le temps des fonctions, puis {format_duration(ACCOUNTS_KEPT)} après sa "
                           f"désactivation ; session : {format_duration(SESSIONS_KEPT)} après sa fin ; connexion "
                           f"refusée : {format_duration(SIGN_INS_KEPT)}"}


def _view(row: Any, kept_for: dict[Follows, str]) -> RowView:
    table = row.__tablename__
    held, shown = BY_TABLE.get(table), SHOWN.get(table)
    dumped = row.model_dump()
    values = tuple((name, _text(value)) for name, value in dumped.items() if name not in LEFT_OUT)
    kept = "" if held is None or held.kept is None else f"{held.kept.reason} ({held.kept.basis})"
    labelled = tuple((label, _french(dumped.get(name))) for name, label in (shown.labels if shown else {}).items())
    return RowView(table, shown.title if shown else table, values, kept, labelled,
                   kept_for.get(held.follows, "") if held else "")


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
    kept_for = retentions(session)
    order = list(SHOWN)
    tables = sorted(found.rows, key=lambda t: order.index(t) if t in order else len(order))
    rows = [_view(row, kept_for) for table in tables for row in found.rows[table]]
    mentions = tuple(Mention(n.id or 0, format_paris(n.sent_at) if n.sent_at else "non envoyé", n.subject)
                     for n in found.mentions)
    return PersonExport(found.address, tuple(sorted(found.needles.names)), tuple(rows),
                        tuple(_files(session, found)), tuple(_view(entry, kept_for) for entry in found.audit),
                        mentions)
