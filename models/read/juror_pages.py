"""A juror's two pages: the applications the jury examines, 25 a page, each with where the juror's
sheet stands on it; and one application's sheet (its content, files, partners and the juror's
scores) on a page of its own. Each reads only what it shows, through indexed queries, so a page
costs the same whether the call drew 10 applications or 1,250."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, func, select, union

from models import jury as rules
from models import partners
from models.clock import paris
from models.context import ProgrammeContext
from models.errors import NotFound
from models.forms import form_of
from models.jury import find_application, submitted_at
from models.programme import Jury
from models.read.juror import JUDGED, ApplicationLine, countdown, current_files, decision_by
from models.read.paging import PAGE_SIZE, Pager
from models.tables import (
    Application,
    ApplicationStatus,
    ConflictOfInterest,
    JuryNotApplicable,
    JuryScore,
    Pilot,
)


class SheetState(StrEnum):
    """Where a juror's sheet stands on one application."""

    TO_SCORE = "a_noter"
    PARTIAL = "a_completer"
    SCORED = "notee"
    CONFLICT = "conflit"

    @property
    def label(self) -> str:
        return {"a_noter": "à noter", "a_completer": "à compléter", "notee": "notée",
                "conflit": "conflit d'intérêts déclaré"}[self.value]


@dataclass(frozen=True)
class JurorHead:
    """What both pages show on top: the juror, the jury, whether the sheet still takes scores."""

    juror: str
    jury: Jury
    submitted_at: datetime | None
    may_score: bool
    days_left: int
    """Calendar days (Paris) from the page's instant to the jury's meeting; 0 on the day and after."""

    @property
    def countdown(self) -> str:
        """« il reste 3 jours », « il reste 1 jour », « c'est aujourd'hui »."""
        return countdown(self.days_left)


@dataclass(frozen=True)
class ListLine:
    """One application on the juror's list."""

    receipt: str
    lead_name: str
    state: SheetState
    decision: str | None
    """The jury's decision by the page's instant (retenue, non_retenue), or None."""


@dataclass(frozen=True)
class JurorList:
    """The juror's list: one page of the applications, and what is left to score."""

    head: JurorHead
    lines: tuple[ListLine, ...]
    pager: Pager
    to_complete: int
    """Admissible applications the juror has not fully scored (conflicts of interest left out); 0
    once the sheet takes no more scores."""
    selected: tuple[str, ...]
    """The territories selected by the page's instant (withdrawn ones left out), named when at most
    a page of them; `selected_count` counts them all."""
    selected_count: int


@dataclass(frozen=True)
class JurorSheet:
    """One application's sheet for the juror."""

    head: JurorHead
    line: ApplicationLine
    state: SheetState


def _head(ctx: ProgrammeContext, juror: str, now: datetime) -> JurorHead:
    jury = ctx.definition.jury
    return JurorHead(juror, jury, submitted_at(ctx, juror), bool(rules.may_score(ctx, juror, now)),
                     max(0, (paris(jury.meeting).date() - paris(now).date()).days))


def _done(juror: str, ids: list[int] | None = None) -> object:
    """The (application, criterion) the juror scored or marked « non applicable » (of `ids`)."""
    scored = select(JuryScore.application_id, JuryScore.criterion).where(JuryScore.juror == juror)
    marked = select(JuryNotApplicable.application_id, JuryNotApplicable.criterion).where(
        JuryNotApplicable.juror == juror)
    if ids is not None:
        scored = scored.where(col(JuryScore.application_id).in_(ids))
        marked = marked.where(col(JuryNotApplicable.application_id).in_(ids))
    return union(scored, marked).subquery()


def _states(ctx: ProgrammeContext, juror: str, ids: list[int]) -> dict[int, SheetState]:
    done = _done(juror, ids)
    counts = dict(ctx.session.exec(select(done.c.application_id, func.count())  # type: ignore[attr-defined]
                                   .group_by(done.c.application_id)).all())  # type: ignore[attr-defined]
    conflicted = set(ctx.session.exec(select(ConflictOfInterest.application_id).where(
        col(ConflictOfInterest.application_id).in_(ids), ConflictOfInterest.juror == juror)).all())
    total = len(ctx.definition.jury.criteria)
    return {i: SheetState.CONFLICT if i in conflicted else SheetState.TO_SCORE if not counts.get(i)
            else SheetState.PARTIAL if counts[i] < total else SheetState.SCORED for i in ids}


def _to_complete(ctx: ProgrammeContext, juror: str) -> int:
    done = _done(juror)
    complete = (select(done.c.application_id).group_by(done.c.application_id)  # type: ignore[attr-defined]
                .having(func.count() >= len(ctx.definition.jury.criteria)))
    conflicted = select(ConflictOfInterest.application_id).where(ConflictOfInterest.juror == juror)
    return ctx.session.exec(select(func.count()).select_from(Application).where(
        Application.programme_id == ctx.programme_id, Application.status == ApplicationStatus.ADMISSIBLE,
        col(Application.id).not_in(complete), col(Application.id).not_in(conflicted))).one()


def _selected(ctx: ProgrammeContext, now: datetime) -> tuple[tuple[str, ...], int]:
    chosen = select(Application.lead_name).outerjoin(Pilot, col(Pilot.application_id) == Application.id).where(
        Application.programme_id == ctx.programme_id, Application.status == ApplicationStatus.SELECTED,
        col(Application.decided_at) <= now,
        col(Pilot.withdrawn_at).is_(None) | (col(Pilot.withdrawn_at) > now))  # a territory withdrawn since
    count = ctx.session.exec(select(func.count()).select_from(chosen.subquery())).one()
    names = ctx.session.exec(chosen.order_by(col(Application.id)).limit(PAGE_SIZE)).all() if count <= PAGE_SIZE else []
    return tuple(names), count


def juror_list(ctx: ProgrammeContext, juror: str, now: datetime, page: int | None = None) -> JurorList:
    """Page `page` (from 1; out of range: the nearest) of `juror`'s list at `now`."""
    judged = select(Application).where(Application.programme_id == ctx.programme_id,
                                       col(Application.status).in_(JUDGED))
    pager = Pager.of(ctx.session.exec(select(func.count()).select_from(judged.subquery())).one(), page)
    shown = ctx.session.exec(judged.order_by(col(Application.id)).offset(pager.offset).limit(pager.size)).all()
    states = _states(ctx, juror, [a.id or 0 for a in shown])
    lines = tuple(ListLine(a.receipt_number, a.lead_name, states[a.id or 0], decision_by(a, now)) for a in shown)
    selected, count = _selected(ctx, now)
    head = _head(ctx, juror, now)  # what is left to score, only while scores are taken (the page shows it then)
    return JurorList(head, lines, pager, _to_complete(ctx, juror) if head.may_score else 0, selected, count)


def juror_sheet(ctx: ProgrammeContext, juror: str, receipt: str, now: datetime) -> JurorSheet:
    """`juror`'s sheet on the application `receipt` at `now`; NotFound unless the jury examines it."""
    application = find_application(ctx, receipt)
    if application.status not in JUDGED:
        raise NotFound("Cette candidature n'est pas examinée par le jury.")
    key = application.id or 0
    state = _states(ctx, juror, [key])[key]
    scores = {s.criterion: s for s in ctx.session.exec(select(JuryScore).where(
        JuryScore.application_id == key, JuryScore.juror == juror)).all()}
    marked = frozenset(ctx.session.exec(select(JuryNotApplicable.criterion).where(
        JuryNotApplicable.application_id == key, JuryNotApplicable.juror == juror)).all())
    form = form_of(ctx.session, application)
    files = current_files(ctx, application) if rules.may_open_attachment(ctx, application, application.version) else ()
    to_complete = application.status == ApplicationStatus.ADMISSIBLE and state in (SheetState.TO_SCORE,
                                                                                     SheetState.PARTIAL)
    line = ApplicationLine(application, form, files, state == SheetState.CONFLICT,
                           {c.key: scores.get(c.key) for c in ctx.definition.jury.criteria}, marked, to_complete,
                           decision_by(application, now), f"conflit:{key}",
                           tuple(partners.states(ctx, application.lead_siren, form.partenaires)))
    return JurorSheet(_head(ctx, juror, now), line, state)
