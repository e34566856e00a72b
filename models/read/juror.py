"""A juror's screen: their score sheet on every application the jury examined, and the attachments
they may open."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models import jury as rules
from models import partners
from models.clock import paris
from models.context import ProgrammeContext
from models.db import IN_LIST
from models.errors import NotFound
from models.forms import ApplicationForm, Partner, form_of
from models.jury import conflicts, missing_scores, not_applicable, submitted_at
from models.links import Bearer, LinkForbidden
from models.programme import Jury
from models.tables import (
    Application,
    ApplicationFile,
    ApplicationStatus,
    ApplicationVersion,
    JuryScore,
    Pilot,
)
from models.wording import counted

JUDGED = (ApplicationStatus.ADMISSIBLE, ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED)
"""The applications a juror scored: admissible, then selected or not by the jury's decision."""
DECIDED = (ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED)


@dataclass(frozen=True)
class ApplicationLine:
    """One application on a juror's sheet, with what the juror recorded on it."""

    application: Application
    form: ApplicationForm
    files: tuple[ApplicationFile, ...]
    conflicted: bool
    scores: Mapping[str, JuryScore | None]
    """The juror's score by criterion key (None: none recorded)."""
    not_applicable: frozenset[str]
    to_complete: bool
    decision: str | None
    conflict_form: str
    partners: tuple[tuple[Partner, str], ...] = ()
    """Each partner of the current version with where its own confirmation stands (`PartnerAnswer`:
    confirmee, declinee, or demandee, which reads « non confirmé », asked or not)."""


@dataclass(frozen=True)
class JurorScreen:
    """A juror's page: the jury, their sheet, whether it still takes scores, the jury's decision."""

    juror: str
    jury: Jury
    applications: tuple[ApplicationLine, ...]
    submitted_at: datetime | None
    may_score: bool
    selected: tuple[str, ...]
    """The territories the jury selected by the page's instant, those withdrawn since left out."""
    days_left: int = 0
    """Calendar days (Paris) from the page's instant to the jury's meeting; 0 on the day and after."""

    @property
    def countdown(self) -> str:
        """« il reste 3 jours », « il reste 1 jour », « c'est aujourd'hui »."""
        return countdown(self.days_left)


@dataclass(frozen=True)
class Attachment:
    """A file of an application, as a juror downloads it."""

    content: bytes
    media_type: str
    filename: str


def countdown(days_left: int) -> str:
    """« il reste 3 jours », « il reste 1 jour », « c'est aujourd'hui » (0 days or fewer)."""
    return f"il reste {counted(days_left, 'jour')}" if days_left > 0 else "c'est aujourd'hui"


def juror_of(ctx: ProgrammeContext, bearer: Bearer) -> str:
    """The juror holding the link; LinkForbidden once they are no longer on the jury."""
    for member in ctx.definition.jury.members:
        if member.email.lower() == bearer.email:
            return member.juror
    raise LinkForbidden("Ce lien n'est plus celui d'un membre du jury.")


def decision_by(application: Application, now: datetime) -> str | None:
    """The jury's decision on the application if recorded by `now` (retenue, non_retenue)."""
    decided = application.decided_at is not None and application.decided_at <= now
    return application.status if decided and application.status in DECIDED else None


def current_files(ctx: ProgrammeContext, application: Application) -> tuple[ApplicationFile, ...]:
    """The files of the application's current version, in the order received."""
    version = ctx.session.exec(select(ApplicationVersion).where(
        ApplicationVersion.application_id == application.id,
        ApplicationVersion.version == application.version)).one()
    return tuple(ctx.session.exec(select(ApplicationFile).where(ApplicationFile.version_id == version.id)
                                  .order_by(col(ApplicationFile.id))).all())


def scorable(ctx: ProgrammeContext, ids: Collection[int] | None = None) -> list[Application]:
    """The applications a sheet scores: the admissible ones (only those of `ids`, when given: what a
    posted form names, read by their keys)."""
    query = select(Application).where(Application.programme_id == ctx.programme_id,
                                      Application.status == ApplicationStatus.ADMISSIBLE)
    if ids is not None:
        query = query.where(col(Application.id).in_(list(ids)[:IN_LIST]))
    return list(ctx.session.exec(query.order_by(col(Application.id))).all())


def juror_screen(ctx: ProgrammeContext, juror: str, now: datetime) -> JurorScreen:
    """The sheet of `juror` at `now`."""
    jury = ctx.definition.jury
    conflicted = {c.application_id for c in conflicts(ctx, juror)}
    applications = ctx.session.exec(select(Application).where(
        Application.programme_id == ctx.programme_id, col(Application.status).in_(JUDGED))
        .order_by(col(Application.id))).all()
    scores = {(s.application_id, s.criterion): s for s in ctx.session.exec(
        select(JuryScore).where(JuryScore.juror == juror)).all()}
    marked = {(application_id, criterion) for who, application_id, criterion
              in not_applicable(ctx, [a.id for a in applications]) if who == juror}
    missing = set(missing_scores(ctx).get(juror, []))
    forms = {a.id: form_of(ctx.session, a) for a in applications}
    lines = tuple(ApplicationLine(
        a, forms[a.id], current_files(ctx, a) if rules.may_open_attachment(ctx, a, a.version) else (),
        a.id in conflicted,
        {c.key: scores.get((a.id or 0, c.key)) for c in jury.criteria},
        frozenset(c.key for c in jury.criteria if (a.id, c.key) in marked),
        a.receipt_number in missing, decision_by(a, now), f"conflit:{a.id}",
        tuple(partners.states(ctx, a.lead_siren, forms[a.id].partenaires)))
        for a in applications)
    submitted = submitted_at(ctx, juror)
    withdrawn = {pilot.application_id for pilot in ctx.session.exec(select(Pilot).where(
        Pilot.programme_id == ctx.programme_id, col(Pilot.withdrawn_at) <= now)).all()}
    selected = tuple(a.lead_name for a in applications  # a territory that withdrew is no longer a pilot
                     if decision_by(a, now) == ApplicationStatus.SELECTED and a.id not in withdrawn)
    days_left = max(0, (paris(jury.meeting).date() - paris(now).date()).days)
    return JurorScreen(juror, jury, lines, submitted, bool(rules.may_score(ctx, juror, now)), selected, days_left)


def juror_attachment(ctx: ProgrammeContext, file_id: int) -> Attachment:
    """An attachment a juror may open (`jury.may_open_attachment`); NotFound otherwise."""
    row = ctx.session.get(ApplicationFile, file_id)
    version = ctx.session.get(ApplicationVersion, row.version_id) if row else None
    application = ctx.session.get(Application, version.application_id) if version else None
    if row is None:
        raise NotFound("Ce document n'existe pas.")
    rules.may_open_attachment(ctx, application, version.version if version else None).enforce()
    return Attachment(row.content, row.media_type, row.filename)
