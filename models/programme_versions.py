"""The definitions a programme ran under, and the last previewed change.

The first install of a programme is version 1; each later definition stored (`install_programme`
before the call is launched, `models.programme_apply.apply_change` while it runs) the next, with
who, when, why and from which file; `Programme.version` names the current one. A change is
applied only as it was last previewed (`transitions programme diff`): the preview stores the file's
definition hash and the version it was compared with (`record_preview`, `check_preview`)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.errors import Refused
from models.tables import Programme, ProgrammePreview, ProgrammeVersion


def canonical_sha256(definition: dict[str, Any]) -> str:
    """SHA-256 (hex) of a definition's canonical JSON: keys sorted, no spaces, UTF-8."""
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record_version(session: Session, programme: Programme, *, source: str, at: datetime, actor: str,
                   reason: str) -> ProgrammeVersion:
    """Store the programme's current definition (`programme.definition`) as its next version and
    point the programme at it; returns the version row."""
    latest = session.exec(select(ProgrammeVersion.number).where(ProgrammeVersion.programme_id == programme.id)
                          .order_by(col(ProgrammeVersion.number).desc())).first()
    number = 1 if latest is None else latest + 1
    row = ProgrammeVersion(programme_id=programme.id or 0, number=number, definition=programme.definition,
                           sha256=canonical_sha256(programme.definition), source=source, applied_at=at,
                           actor=actor, reason=reason)
    session.add(row)
    programme.version = number
    session.add(programme)
    session.flush()
    return row


def versions(session: Session, programme: Programme) -> list[ProgrammeVersion]:
    """Every stored version of the programme, oldest first."""
    return list(session.exec(select(ProgrammeVersion).where(ProgrammeVersion.programme_id == programme.id)
                             .order_by(col(ProgrammeVersion.number))).all())


def record_preview(session: Session, programme: Programme, sha256: str, at: datetime) -> None:
    """Remember that the definition hashed `sha256` was previewed against the current version."""
    row = session.get(ProgrammePreview, programme.id)
    if row is None:
        row = ProgrammePreview(programme_id=programme.id or 0, sha256=sha256, version=programme.version,
                               previewed_at=at)
    else:
        row.sha256, row.version, row.previewed_at = sha256, programme.version, at
    session.add(row)


def check_preview(session: Session, programme: Programme, sha256: str) -> None:
    """Refused (French) unless the definition hashed `sha256` is the last one previewed, against
    the programme's current version."""
    row = session.get(ProgrammePreview, programme.id)
    if row is None or row.sha256 != sha256:
        raise Refused(f"Ce fichier n'est pas le dernier prévisualisé pour « {programme.slug} » (SHA-256 "
                      f"{sha256[:12]}…) : lancez d'abord « transitions programme diff » sur ce fichier.")
    if row.version != programme.version:
        raise Refused(f"La prévisualisation de ce fichier a été faite sur la version {row.version} du programme, "
                      f"qui est depuis passé à la version {programme.version} : relancez « transitions programme "
                      "diff ».")
