"""Submitting an application file: read, validate, record, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from models.applications import Receipt, log_refused, submit
from models.attachments import Piece, read_pieces
from models.context import load_ctx
from models.db import session_scope
from models.documents import parse_mapping, read_text_file
from models.errors import InvalidInput, Refused, french_errors, yaml_lines
from models.forms import ApplicationForm


@dataclass(frozen=True)
class Submission:
    """A validated form and the files it names, read from disk."""

    form: ApplicationForm
    pieces: list[Piece]


def read_application(path: Path) -> Submission:
    """Parse and validate an application file, then its attachments (paths relative to the file)."""
    text = read_text_file(path, "de candidature")
    raw = parse_mapping(text, path.name, "de candidature")
    try:
        form = ApplicationForm.model_validate(raw)
    except ValidationError as exc:
        problems = french_errors(exc, yaml_lines(text) if not path.name.endswith(".json") else None)
        raise InvalidInput(f"Candidature {path.name} refusée : {len(problems)} problème(s). "
                           "Rien n'a été enregistré.", problems) from None
    return Submission(form, read_pieces(form, path.parent))


def submit_form(url: str, submission: Submission, at: datetime, by: str | None,
                programme: str | None = None) -> Receipt:
    """Record a validated submission; a refusal (deadline) is traced in the audit log, nothing else."""
    form = submission.form
    submitted_by = by or form.responsables_operationnels[0].courriel
    try:
        with session_scope(url) as session:
            return submit(load_ctx(session, programme), form, submission.pieces, at=at, submitted_by=submitted_by)
    except Refused as exc:
        with session_scope(url) as session:
            log_refused(load_ctx(session, programme), form, at=at, submitted_by=submitted_by,
                        reason=exc.message)
        raise


def submit_file(url: str, path: Path, at: datetime, by: str | None, programme: str | None = None) -> Receipt:
    return submit_form(url, read_application(path), at, by, programme)
