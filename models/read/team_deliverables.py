"""The back office's deliverables (issue 23): every pilot's deliverables and the requests for a
new due date waiting for the Cerdd, one deliverable's page (its files, its review, its requests),
and a file handed in, to download."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import defer
from sqlmodel import col, func, select

from models.context import ProgrammeContext
from models.deliverables import may_decide_due_date, may_review
from models.errors import NotFound
from models.pilots import pilot_row
from models.read.deliverables import state_of
from models.read.paging import Listing, pilot_page
from models.read.pilot import siren_of
from models.tables import Deliverable, DeliverableFile, DueDateRequest, DueDateRequestStatus, Pilot, label


@dataclass(frozen=True)
class DeliverableRow:
    id: int
    key: str
    title: str
    due_at: datetime
    state: str
    files: int
    waiting_requests: int


@dataclass(frozen=True)
class FileLine:
    id: int
    revision: int
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime


@dataclass(frozen=True)
class PilotDeliverables:
    pilot: str
    siren: str
    deliverables: tuple[DeliverableRow, ...]


def _requests(ctx: ProgrammeContext, deliverable: Deliverable) -> list[DueDateRequest]:
    return list(ctx.session.exec(select(DueDateRequest).where(DueDateRequest.deliverable_id == deliverable.id)
                                 .order_by(col(DueDateRequest.id))).all())


def _files(ctx: ProgrammeContext, deliverable: Deliverable) -> tuple[FileLine, ...]:
    """The files handed in, oldest first, without their bytes (loaded only to download one)."""
    rows = ctx.session.exec(select(DeliverableFile).options(defer(DeliverableFile.content))  # type: ignore[arg-type]
                            .where(DeliverableFile.deliverable_id == deliverable.id)
                            .order_by(col(DeliverableFile.revision))).all()
    return tuple(FileLine(f.id or 0, f.revision, f.filename, f.media_type, f.size, f.sha256, f.uploaded_at)
                 for f in rows)


def deliverables_screen(ctx: ProgrammeContext, now: datetime, page: int | None = None,
                        search: str = "") -> Listing[PilotDeliverables]:
    """Page `page` (PAGE_SIZE pilots, by rank; with `search`, those whose name holds it or whose SIREN
    starts with it) of the launched pilots: their deliverables by due date, with their state at `now`,
    how many files were handed in and how many requests for a new due date wait (counted for the
    whole page in two grouped queries)."""
    pager, chosen = pilot_page(ctx, page, search, where=[col(Pilot.kickoff_at).is_not(None)])
    ids = [pilot.id for pilot in chosen]
    rows = ctx.session.exec(select(Deliverable).where(col(Deliverable.pilot_id).in_(ids))
                            .order_by(col(Deliverable.due_at), col(Deliverable.id))).all()
    shown = [d.id for d in rows]
    files = dict(ctx.session.exec(select(DeliverableFile.deliverable_id, func.count())
                                  .where(col(DeliverableFile.deliverable_id).in_(shown))
                                  .group_by(col(DeliverableFile.deliverable_id))).all())
    waiting = dict(ctx.session.exec(select(DueDateRequest.deliverable_id, func.count())
                                    .where(col(DueDateRequest.deliverable_id).in_(shown),
                                           DueDateRequest.status == DueDateRequestStatus.PENDING)
                                    .group_by(col(DueDateRequest.deliverable_id))).all())
    blocks = []
    for pilot in chosen:
        mine = tuple(DeliverableRow(d.id or 0, d.key, d.title, d.due_at, state_of(d, now, pilot.withdrawn_at),
                                    files.get(d.id or 0, 0), waiting.get(d.id or 0, 0))
                     for d in rows if d.pilot_id == pilot.id)
        blocks.append(PilotDeliverables(pilot.name, siren_of(ctx, pilot), mine))
    return Listing(tuple(blocks), pager, search)


@dataclass(frozen=True)
class RequestLine:
    id: int
    requested_due: datetime
    reason: str
    requested_at: datetime
    state: str
    decide_refusal: str | None
    """None: the Cerdd may grant or refuse it now."""


@dataclass(frozen=True)
class DeliverableSheet:
    """A deliverable's page: its state, its files, whether it may be reviewed (`review_refusal`
    None), the comment of its last return, and its requests for a new due date."""

    id: int
    pilot: str
    siren: str
    key: str
    title: str
    due_at: datetime
    state: str
    delivered_at: datetime | None
    review_comment: str | None
    review_refusal: str | None
    files: tuple[FileLine, ...]
    requests: tuple[RequestLine, ...]


def deliverable_by_id(ctx: ProgrammeContext, deliverable_id: int) -> Deliverable:
    """The programme's deliverable with this row number (NotFound otherwise)."""
    return pilot_row(ctx, Deliverable, deliverable_id, f"Aucun livrable n° {deliverable_id} dans ce programme.")


def deliverable_sheet(ctx: ProgrammeContext, deliverable_id: int, now: datetime) -> DeliverableSheet:
    """The page of deliverable `deliverable_id` at `now` (NotFound for another programme's or none)."""
    row = deliverable_by_id(ctx, deliverable_id)
    pilot = ctx.session.get(Pilot, row.pilot_id)
    assert pilot is not None
    files = _files(ctx, row)
    requests = tuple(RequestLine(r.id or 0, r.requested_due, r.reason, r.requested_at, label(r.status),
                                 may_decide_due_date(ctx, r, now).reason) for r in _requests(ctx, row))
    return DeliverableSheet(row.id or 0, pilot.name, siren_of(ctx, pilot), row.key, row.title, row.due_at,
                            state_of(row, now, pilot.withdrawn_at), row.delivered_at, row.review_comment,
                            may_review(ctx, row, now).reason, files, requests)


@dataclass(frozen=True)
class FileDownload:
    filename: str
    media_type: str
    content: bytes


def deliverable_file(ctx: ProgrammeContext, deliverable_id: int, file_id: int) -> FileDownload:
    """A file handed in for deliverable `deliverable_id`, with its bytes (NotFound otherwise)."""
    deliverable = deliverable_by_id(ctx, deliverable_id)
    row = ctx.session.get(DeliverableFile, file_id)
    if row is None or row.deliverable_id != deliverable.id:
        raise NotFound(f"Aucun fichier n° {file_id} pour ce livrable.")
    return FileDownload(row.filename, row.media_type, bytes(row.content))


def request_deliverable(ctx: ProgrammeContext, request_id: int) -> int:
    """The deliverable a request for a new due date is about (NotFound for another programme's)."""
    row = ctx.session.get(DueDateRequest, request_id)
    if row is None:
        raise NotFound(f"Aucune demande de report n° {request_id}.")
    return deliverable_by_id(ctx, row.deliverable_id).id or 0
