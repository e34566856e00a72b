"""Submitting an application file: read, validate, record, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from models.applications import Receipt, log_refused, submit
from models.attachments import MAX_BYTES, Piece, check_pieces
from models.context import load_ctx
from models.db import session_scope
from models.errors import Refused
from models.forms import ApplicationForm
from notifications.render import portal_linker, render_notice
from transitions.userfiles import load_model, read_confined


@dataclass(frozen=True)
class Submission:
    """A validated form and the files it names, read from disk."""

    form: ApplicationForm
    pieces: list[Piece]


def read_application(path: Path, pieces: Path | None = None) -> Submission:
    """Parse and validate an application file, then its attachments: each is read inside the
    application file's folder (or `pieces`), a regular file, no symbolic link leading out."""
    form, _ = load_model(path, ApplicationForm, "de candidature", refusal=f"Candidature {path.name} refusée")
    folder = pieces if pieces is not None else path.parent
    files: dict[str, bytes] = {}
    for item in [*form.formulaire, *form.documents_complementaires]:
        data = read_confined(folder, item.fichier, MAX_BYTES)
        if data is not None:
            files[item.fichier] = data
    return Submission(form, check_pieces(form, files))


def submit_form(url: str, submission: Submission, at: datetime, by: str | None,
                programme: str | None = None) -> Receipt:
    """Record a validated submission; a refusal (deadline) is traced in the audit log, nothing else."""
    form = submission.form
    submitted_by = by or form.responsables_operationnels[0].courriel
    try:
        with session_scope(url) as session:
            # SQLite: take the write lock before reading, so that two submissions take turns
            # (PostgreSQL: `submit` locks the programme's row).
            ctx = load_ctx(session, programme, renderer=render_notice, linker=portal_linker(), lock=True)
            return submit(ctx, form, submission.pieces, at=at, submitted_by=submitted_by)
    except Refused as exc:
        with session_scope(url) as session:
            log_refused(load_ctx(session, programme, renderer=render_notice, linker=portal_linker()), form, at=at,
                        submitted_by=submitted_by, reason=exc.message)
        raise


def submit_file(url: str, path: Path, at: datetime, by: str | None, programme: str | None = None,
                pieces: Path | None = None) -> Receipt:
    return submit_form(url, read_application(path, pieces), at, by, programme)
