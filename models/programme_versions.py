"""The definitions a programme ran under, and the last previewed change.

The first install of a programme is version 1; each later definition stored (`install_programme`
before the call is launched, `models.programme_apply.apply_change` while it runs) the next, with
who, when, why and from which file; `Programme.version` names the current one. A change is
applied only as it was last previewed (`transitions programme diff`): every preview is kept with the
file's definition hash, the version it was compared with, who made it, when, and its result
(`record_preview`, `check_preview`)."""

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


def record_preview(session: Session, programme: Programme, *, sha256: str, at: datetime, made_at: datetime,
                   actor: str, source: str, result: dict[str, Any]) -> ProgrammePreview:
    """Keep one preview of a change against the programme's current version: the definition hashed
    `sha256` read from the file `source`, replayed from `at`, made at `made_at` by `actor`, and its
    result as `--json` prints it (`models.read.programme_diff.preview_json`: its `differences` and
    `problemes` counted into the row)."""
    row = ProgrammePreview(programme_id=programme.id or 0, sha256=sha256, version=programme.version, at=at,
                           made_at=made_at, actor=actor, source=source,
                           differences=len(result.get("differences", [])), problems=len(result.get("problemes", [])),
                           result=result)
    session.add(row)
    session.flush()
    return row


def check_preview(session: Session, programme: Programme, sha256: str) -> ProgrammePreview:
    """The kept preview an apply of the definition hashed `sha256` relies on: the last one previewed
    without a broken rule, against the programme's current version (a refused preview, its rules
    broken, clears nothing: the earlier one still stands). Refused (French) when it is not that
    definition's or was made on another version."""
    row = session.exec(select(ProgrammePreview).where(ProgrammePreview.programme_id == programme.id,
                                                      ProgrammePreview.problems == 0)
                       .order_by(col(ProgrammePreview.id).desc())).first()
    if row is None or row.sha256 != sha256:
        raise Refused(f"Ce fichier n'est pas le dernier prévisualisé pour « {programme.slug} » (SHA-256 "
                      f"{sha256[:12]}…) : lancez d'abord « transitions programme diff » sur ce fichier.")
    if row.version != programme.version:
        raise Refused(f"La prévisualisation de ce fichier a été faite sur la version {row.version} du programme, "
                      f"qui est depuis passé à la version {programme.version} : relancez « transitions programme "
                      "diff ».")
    return row
