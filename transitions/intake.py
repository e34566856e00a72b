"""Submitting an application file: read, validate, record, all or nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from documents.annex import read_annex
from documents.container import OLE_MAGIC
from models.applications import Receipt, log_refused, submit
from models.attachments import MAX_BYTES, MEDIA_TYPES, FileRefused, Piece, check_pieces, check_upload
from models.context import load_ctx
from models.db import session_scope
from models.errors import InvalidInput, Refused
from models.forms import ApplicationForm, section_problems
from models.text import visible
from notifications.render import portal_linker, render_notice
from transitions.userfiles import load_model, read_bytes, read_confined


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


def is_annex(path: Path) -> bool:
    """Whether the file to submit is a word-processor annex (.docx, .odt: a zip; .doc: OLE), told by
    its first bytes; anything else is read as a YAML or JSON application file."""
    try:  # opened without blocking and read only if regular: a FIFO or a device is left to the YAML reader's refusal
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            head = os.read(fd, 8) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        finally:
            os.close(fd)
    except OSError:
        return False  # the YAML reader says why, in French
    return head.startswith(b"PK\x03\x04") or head == OLE_MAGIC


def read_annex_application(path: Path, pieces: Sequence[Path]) -> Submission:
    """An application from a filled annex (`path`: .docx, .odt or .doc, itself the form's
    word-processor version) and the files given with it: the first of `pieces` is the form's PDF
    version, the others complementary documents. Every problem of the annex and of the files at once
    (InvalidInput), nothing read twice."""
    data = read_bytes(path, "de candidature", MAX_BYTES)
    problems: list[str] = []
    payload = None
    try:
        payload = read_annex(path.name, data)
    except InvalidInput as exc:
        problems.extend(exc.details or [exc.message])
    files = {path.name: data}
    entries: list[dict[str, str]] = [{"fichier": path.name, "description": "Formulaire de candidature"}]
    others: list[dict[str, str]] = []
    for index, piece in enumerate(pieces):
        try:
            content = read_bytes(piece, "joint", MAX_BYTES)
            allowed = {"pdf"} if index == 0 else set(MEDIA_TYPES)
            check_upload(piece.name, content, allowed=allowed, field=f"--piece {visible(piece.name)[:120]}")
        except FileRefused as exc:
            problems.append(exc.message.removeprefix("Fichier refusé : ").removesuffix(" Rien n'a été enregistré."))
            continue
        except InvalidInput as exc:
            problems.append(exc.message)
            continue
        files[piece.name] = content
        described = "Formulaire de candidature (PDF)" if index == 0 else "Document complémentaire"
        (entries if index == 0 else others).append({"fichier": piece.name, "description": described})
    if not pieces:
        problems.append("Pièces jointes : donnez la version PDF du formulaire avec --piece FICHIER.pdf")
    head = f"Candidature {visible(path.name)[:120]} refusée"
    if problems:
        raise InvalidInput(f"{head} : {len(problems)} problème(s). Rien n'a été enregistré.", problems)
    try:
        form = ApplicationForm.model_validate({**(payload or {}), "formulaire": entries,
                                               "documents_complementaires": others})
    except ValidationError as exc:
        details = section_problems(exc)
        raise InvalidInput(f"{head} : {len(details)} problème(s). Rien n'a été enregistré.", details) from None
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
