"""The back office's applications (issue 23): the list (receipt, lead, status, versions, the door
each came by, last deposit) and one application in full: its current version section by section
as the call's annex lays it out (`models.forms.SECTIONS`), every version with who sent it and when,
the files of each version (downloadable, `staff_attachment`), its admissibility and reasons, and
where each partner's confirmation stands (`models.partners.states`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import col, select

from models import partners
from models.context import ProgrammeContext
from models.errors import NotFound
from models.forms import SECTIONS, ApplicationForm, Partner, SectionKind, form_of
from models.jury import find_application
from models.read.juror import Attachment
from models.read.paging import Listing, matching, page_of
from models.tables import (
    Application,
    ApplicationDraft,
    ApplicationFile,
    ApplicationVersion,
    MailMessage,
    MailOutcome,
    label,
)

ONLINE, MAIL, FILE = "en ligne", "par courriel", "dossier enregistré par le Cerdd"
"""The doors an application came by (issue 22), in French."""


@dataclass(frozen=True)
class ApplicationRow:
    """One application in the list."""

    receipt: str
    lead: str
    siren: str
    status: str
    """The status in French (« recevable »)."""
    versions: int
    door: str
    """How it came (`ONLINE`, `MAIL`, `FILE`; several joined with « , » when its versions differ)."""
    last_deposit: datetime


@dataclass(frozen=True)
class SectionView:
    """One section of the form as the annex titles it: a table (`headers` and `rows`) for records and
    lists, paragraphs (`text`) for a line or free text."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text: tuple[str, ...]


@dataclass(frozen=True)
class FileView:
    """A file received with a version (its bytes are served by `staff_attachment`)."""

    id: int
    filename: str
    media_type: str
    size: int
    """Bytes."""
    sha256: str


@dataclass(frozen=True)
class VersionView:
    """One version as submitted: its number, when, by whom (an address or the door's name), its
    warnings and files."""

    number: int
    submitted_at: datetime
    submitted_by: str
    warnings: tuple[str, ...]
    files: tuple[FileView, ...]


@dataclass(frozen=True)
class ApplicationScreen:
    """One application in full, for `/equipe/candidatures/{receipt}`."""

    row: ApplicationRow
    decided_at: datetime | None
    reason: str
    """Why it is not admissible (or was withdrawn), empty otherwise."""
    warnings: tuple[str, ...]
    sections: tuple[SectionView, ...]
    versions: tuple[VersionView, ...]
    partners: tuple[tuple[Partner, str], ...]
    """Each partner line with its confirmation's state in French (confirmée, déclinée, non confirmée)."""


def _doors(ctx: ProgrammeContext, ids: list[int] | None = None) -> dict[int, str]:
    """The door of every application (or of those `ids`) that came by mail or online; the others
    were recorded as files."""
    mail_query = select(MailMessage.application_id).where(
        MailMessage.programme_id == ctx.programme_id, MailMessage.outcome == MailOutcome.APPLICATION)
    draft_query = select(ApplicationDraft.application_id).where(ApplicationDraft.programme_id == ctx.programme_id)
    if ids is not None:
        mail_query = mail_query.where(col(MailMessage.application_id).in_(ids))
        draft_query = draft_query.where(col(ApplicationDraft.application_id).in_(ids))
    mailed = set(ctx.session.exec(mail_query).all())
    online = set(ctx.session.exec(draft_query).all())
    return {i: ", ".join(d for d, found in ((ONLINE, i in online), (MAIL, i in mailed)) if found)
            for i in (mailed | online) - {None} if i is not None}


def _row(application: Application, doors: dict[int, str]) -> ApplicationRow:
    return ApplicationRow(application.receipt_number, application.lead_name, application.lead_siren,
                          label(application.status), application.version, doors.get(application.id or 0, FILE),
                          application.last_submitted_at)


def application_list(ctx: ProgrammeContext, page: int | None = None, search: str = "") -> Listing[ApplicationRow]:
    """Page `page` of the programme's applications as recorded, in the order received (PAGE_SIZE a
    page; with `search`, those whose lead's name holds it or whose SIREN starts with it)."""
    statement = select(Application).where(Application.programme_id == ctx.programme_id)
    if (found := matching(search, Application.lead_name, Application.lead_siren)) is not None:
        statement = statement.where(found)
    pager, shown = page_of(ctx.session, statement.order_by(col(Application.id)), page)
    doors = _doors(ctx, [a.id for a in shown if a.id is not None])
    return Listing(tuple(_row(a, doors) for a in shown), pager, search)


def _cell(data: Any, key: str) -> str:
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    if data is None:
        return ""
    return label(str(data)) if key.endswith("type") else str(data)


def sections_of(form: ApplicationForm) -> tuple[SectionView, ...]:
    """The form's content section by section (`SECTIONS`), every value as text."""
    data = form.model_dump(mode="json")
    views = []
    for section in SECTIONS:
        value = data.get(section.fields[0])
        headers: tuple[str, ...] = ()
        rows: tuple[tuple[str, ...], ...] = ()
        text: tuple[str, ...] = ()
        if section.kind == SectionKind.RECORD:
            headers = ("Champ", "Valeur")
            rows = tuple((c.label, _cell(value, c.key)) for c in section.columns)
        elif section.kind in (SectionKind.PEOPLE, SectionKind.PARTNERS):
            headers = tuple(c.label for c in section.columns)
            rows = tuple(tuple(_cell(item, c.key) for c in section.columns) for item in value or [])
        elif "themes" in section.fields:
            text = (f"Thèmes : {form.theme_labels() or 'aucun'}", str(data.get("pistes_de_travail") or ""))
        else:
            text = (str(value or ""),)
        views.append(SectionView(section.heading, headers, rows, text))
    return tuple(views)


def _versions(ctx: ProgrammeContext, application: Application) -> tuple[VersionView, ...]:
    versions = ctx.session.exec(select(ApplicationVersion).where(ApplicationVersion.application_id == application.id)
                                .order_by(col(ApplicationVersion.version))).all()
    files = ctx.session.exec(select(ApplicationFile).options(defer(ApplicationFile.content)).where(  # type: ignore[arg-type]
        col(ApplicationFile.version_id).in_([v.id for v in versions])).order_by(col(ApplicationFile.id))).all()
    return tuple(VersionView(v.version, v.submitted_at, v.submitted_by, tuple(v.warnings),
                             tuple(FileView(f.id or 0, f.filename, f.media_type, f.size, f.sha256)
                                   for f in files if f.version_id == v.id))
                 for v in versions)


def application_file(ctx: ProgrammeContext, reference: str) -> ApplicationScreen:
    """The application `reference` names (receipt number or SIREN) in full; NotFound (InvalidInput for
    a malformed SIREN) otherwise."""
    application = find_application(ctx, reference)
    form = form_of(ctx.session, application)
    states = tuple((p, label(state)) for p, state in partners.states(ctx, application.lead_siren, form.partenaires))
    reason = application.decision_reason or application.withdrawal_reason or ""
    return ApplicationScreen(_row(application, _doors(ctx)), application.decided_at, reason,
                            tuple(application.warnings), sections_of(form), _versions(ctx, application), states)


def staff_attachment(ctx: ProgrammeContext, reference: str, file_id: int) -> Attachment:
    """A file of any version of the application `reference` names; NotFound when it has no such file."""
    application = find_application(ctx, reference)
    row = ctx.session.get(ApplicationFile, file_id)
    version = ctx.session.get(ApplicationVersion, row.version_id) if row is not None else None
    if row is None or version is None or version.application_id != application.id:
        raise NotFound("Cette candidature n'a pas de document portant ce numéro.")
    return Attachment(row.content, row.media_type, row.filename)
