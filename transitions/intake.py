"""Submitting an application file: read, validate, record, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from models.applications import Receipt, log_refused, submit
from models.attachments import Piece, read_pieces
from models.context import load_ctx
from models.db import session_scope
from models.errors import Refused
from models.forms import ApplicationForm
from notifications.render import render_notice
from transitions.userfiles import load_model


@dataclass(frozen=True)
class Submission:
    """A validated form and the files it names, read from disk."""

    form: ApplicationForm
    pieces: list[Piece]


def read_application(path: Path) -> Submission:
    """Parse and validate an application file, then its attachments (paths relative to the file)."""
    form, _ = load_model(path, ApplicationForm, "de candidature", refusal=f"Candidature {path.name} refusée")
    return Submission(form, read_pieces(form, path.parent))


def submit_form(url: str, submission: Submission, at: datetime, by: str | None,
                programme: str | None = None) -> Receipt:
    """Record a validated submission; a refusal (deadline) is traced in the audit log, nothing else."""
    form = submission.form
    submitted_by = by or form.responsables_operationnels[0].courriel
    try:
        with session_scope(url) as session:
            ctx = load_ctx(session, programme, renderer=render_notice)
            return submit(ctx, form, submission.pieces, at=at, submitted_by=submitted_by)
    except Refused as exc:
        with session_scope(url) as session:
            log_refused(load_ctx(session, programme, renderer=render_notice), form, at=at, submitted_by=submitted_by,
                        reason=exc.message)
        raise


def submit_file(url: str, path: Path, at: datetime, by: str | None, programme: str | None = None) -> Receipt:
    return submit_form(url, read_application(path), at, by, programme)
