"""The back office's programme pages (issue 26): the current version, every version with who
applied it, when, why and from which file, the previews kept by `transitions programme diff`,
newest first and paged; one preview read back from its JSON, with the command that applies it;
one version's definition against the previous one as a unified diff of their YAML dumps."""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import yaml
from sqlalchemy.orm import defer
from sqlmodel import col, select

from models.clock import paris
from models.context import ProgrammeContext
from models.errors import NotFound
from models.read.paging import Pager, page_of
from models.read.programme_diff import Preview, preview_from_json
from models.tables import ProgrammePreview, ProgrammeVersion
from models.text import visible


@dataclass(frozen=True)
class VersionLine:
    """One version of the programme's definition: its number, when it was applied (UTC), by whom,
    why, from which file, its SHA-256."""

    number: int
    applied_at: datetime
    actor: str
    reason: str
    source: str
    sha256: str


@dataclass(frozen=True)
class PreviewLine:
    """One kept preview: its id, when it was made (UTC) and by whom, the instant it replayed from,
    the file, its SHA-256, the version it was compared with, what it found."""

    id: int
    made_at: datetime
    actor: str
    at: datetime
    source: str
    sha256: str
    version: int
    differences: int
    problems: int


@dataclass(frozen=True)
class ProgrammeScreen:
    """`/equipe/programme`: the current version, every version (newest first), a page of previews."""

    slug: str
    current: int
    versions: tuple[VersionLine, ...]
    previews: tuple[PreviewLine, ...]
    pager: Pager


Applicable = Literal["oui", "regles", "version", "remplace"]
"""Whether `apply` takes a preview's file now: yes; no, rules broken; no, made against an older
version; no, another file was previewed since."""


@dataclass(frozen=True)
class PreviewScreen:
    """`/equipe/programme/apercus/N`: the kept preview, read back, and how to apply it."""

    line: PreviewLine
    preview: Preview
    current: int
    applicable: Applicable
    command: str
    """`transitions programme apply FILE --reason "…" --at T`, the file's name quoted for a shell."""


DiffKind = Literal["entete", "bloc", "ajout", "retrait", "contexte"]


@dataclass(frozen=True)
class VersionScreen:
    """`/equipe/programme/versions/N`: the version and its definition's unified diff against the
    previous one (version 1: against nothing), line by line with each line's kind."""

    version: VersionLine
    previous: int | None
    lines: tuple[tuple[DiffKind, str], ...]


def programme_screen(ctx: ProgrammeContext, page: int | None = None) -> ProgrammeScreen:
    """The programme's versions (all, newest first: a programme changes a few times a year) and page
    `page` of its previews (25 a page, newest first); definitions and results are not loaded."""
    versions = ctx.session.exec(select(ProgrammeVersion).options(defer(ProgrammeVersion.definition))  # type: ignore[arg-type]
                                .where(ProgrammeVersion.programme_id == ctx.programme_id)
                                .order_by(col(ProgrammeVersion.number).desc())).all()
    pager, rows = page_of(ctx.session, select(ProgrammePreview).options(defer(ProgrammePreview.result))  # type: ignore[arg-type]
                          .where(ProgrammePreview.programme_id == ctx.programme_id)
                          .order_by(col(ProgrammePreview.id).desc()), page)
    return ProgrammeScreen(ctx.programme.slug, ctx.programme.version, tuple(_version(row) for row in versions),
                           tuple(_preview(row) for row in rows), pager)


def _version(row: ProgrammeVersion) -> VersionLine:
    return VersionLine(row.number, row.applied_at, row.actor, row.reason, row.source, row.sha256)


def _preview(row: ProgrammePreview) -> PreviewLine:
    return PreviewLine(row.id or 0, row.made_at, row.actor, row.at, row.source, row.sha256, row.version,
                       row.differences, row.problems)


def preview_screen(ctx: ProgrammeContext, preview_id: int) -> PreviewScreen:
    """The programme's preview `preview_id`, its result read back (NotFound, in French, when the
    programme has no such preview, or when its stored result cannot be read)."""
    row = ctx.session.get(ProgrammePreview, preview_id)
    if row is None or row.programme_id != ctx.programme_id:
        raise NotFound(f"Aucun aperçu n° {preview_id} de changement de ce programme.")
    try:
        preview = preview_from_json(row.result, id=row.id)
    except (KeyError, ValueError, TypeError):
        raise NotFound(f"L'aperçu n° {preview_id} est illisible : relancez « transitions programme diff ».") from None
    return PreviewScreen(_preview(row), preview, ctx.programme.version, _applicable(ctx, row), _command(row))


def _applicable(ctx: ProgrammeContext, row: ProgrammePreview) -> Applicable:
    """What `models.programme_versions.check_preview` would answer for this preview's file now."""
    if row.problems:
        return "regles"
    if row.version != ctx.programme.version:
        return "version"
    latest = ctx.session.exec(select(ProgrammePreview.id).where(ProgrammePreview.programme_id == ctx.programme_id,
                                                                ProgrammePreview.problems == 0)
                              .order_by(col(ProgrammePreview.id).desc())).first()
    return "oui" if latest == row.id else "remplace"


def _command(row: ProgrammePreview) -> str:
    name = visible(row.source) or "FICHIER"
    return (f"transitions programme apply {shlex.quote(name)} --reason \"…\" "
            f"--at {paris(row.at).strftime('%Y-%m-%dT%H:%M')}")


def version_screen(ctx: ProgrammeContext, number: int) -> VersionScreen:
    """Version `number` of the programme and its definition's diff against the previous version
    (NotFound, in French, when there is no such version)."""
    rows = ctx.session.exec(select(ProgrammeVersion).where(ProgrammeVersion.programme_id == ctx.programme_id,
                                                           col(ProgrammeVersion.number).in_([number - 1, number]))
                            .order_by(col(ProgrammeVersion.number))).all()
    found = {row.number: row for row in rows}
    row = found.get(number)
    if row is None:
        raise NotFound(f"Ce programme n'a pas de version n° {number}.")
    before = found.get(number - 1)
    lines = difflib.unified_diff(_dump(before.definition) if before else [], _dump(row.definition),
                                 fromfile=f"version {number - 1}" if before else "(rien)",
                                 tofile=f"version {number}", lineterm="")
    return VersionScreen(_version(row), before.number if before else None, tuple((_kind(line), line) for line in lines))


def _dump(definition: dict[str, Any]) -> list[str]:
    """A definition as YAML lines, in the file's order of keys."""
    text: str = yaml.safe_dump(definition, allow_unicode=True, sort_keys=False, width=100)
    return text.splitlines()


def _kind(line: str) -> DiffKind:
    if line.startswith(("---", "+++")):
        return "entete"
    if line.startswith("@@"):
        return "bloc"
    return {"+": "ajout", "-": "retrait"}.get(line[:1], "contexte")  # type: ignore[return-value]
