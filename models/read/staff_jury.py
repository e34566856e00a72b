"""The back office's jury screen (`/equipe/jury`, issue 23): the ranking with each juror's score
per criterion, ties and conflicts of interest, who has not scored, the proposal the jury's
secretary confirms or departs from, and the decision once taken (by any door)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import col, select

from models.context import ProgrammeContext
from models.decision import decided, may_decide, proposal
from models.errors import Verdict
from models.jury import conflicts, missing_scores
from models.read.paging import Pager
from models.read.report_data import JuryView, applications_at, jury_view, scores_at
from models.staff import actor_label
from models.tables import Application, ApplicationStatus, AuditEntry


@dataclass(frozen=True)
class JurorGap:
    """A juror who has applications left to score (receipt numbers)."""

    juror: str
    body: str
    receipts: tuple[str, ...]


@dataclass(frozen=True)
class DeclaredConflict:
    """A conflict of interest a juror declared: their scores on that application do not count."""

    juror: str
    receipt: str
    name: str
    reason: str
    declared_at: datetime


@dataclass(frozen=True)
class Candidate:
    """An admissible application the secretary may choose (its lead's SIREN, receipt, name)."""

    siren: str
    receipt: str
    name: str
    proposed: bool


@dataclass(frozen=True)
class TakenDecision:
    """The jury's selection as the audit log recorded it: when, by whom, what."""

    at: datetime
    actor: str
    summary: str


@dataclass(frozen=True)
class JuryScreen:
    """What the jury page shows at `now` (values only; `view` is the report's jury view)."""

    view: JuryView
    proposal: str
    """The proposal in French, one line per ranked application (`Proposal.describe`)."""
    tie: str | None
    blocked: str | None
    candidates: tuple[Candidate, ...]
    missing: tuple[JurorGap, ...]
    conflicts: tuple[DeclaredConflict, ...]
    may_decide: Verdict
    """Whether the decision form is offered (its refusal in French otherwise)."""
    decided: bool
    decision: TakenDecision | None
    pager: Pager | None = None
    """The page of the detailed ranking `view.lines` holds (PAGE_SIZE applications a page)."""
    listed: bool = True
    """The candidates are few enough (CANDIDATES_LISTED) to be ticked one by one; otherwise the
    secretary types the SIREN of those retained."""


CANDIDATES_LISTED = 40
"""Candidates the decision form lists as boxes to tick; beyond, a field for their SIREN (at 1,000
pilots, 1,250 boxes weighed 250 KB)."""


def jury_screen(ctx: ProgrammeContext, now: datetime, page: int | None = None) -> JuryScreen:
    """The jury page at the programme's present `now` (scores, conflicts and decision recorded by
    then), its detailed ranking at page `page` (out of range: the nearest)."""
    jury = ctx.definition.jury
    facts = applications_at(ctx.session, ctx, now)
    whole = jury_view(ctx, now, facts, scores_at(ctx.session, ctx, now, facts))
    pager = Pager.of(len(whole.lines), page)
    view = replace(whole, lines=whole.lines[pager.offset:pager.offset + pager.size])
    current = proposal(ctx)
    proposed = {a.id for a in current.proposed}
    candidates = tuple(Candidate(r.application.lead_siren, r.application.receipt_number, r.application.lead_name,
                                 r.application.id in proposed) for r in current.ranked
                       if r.application.status == ApplicationStatus.ADMISSIBLE)
    bodies = {m.juror: m.body for m in jury.members}
    gaps = tuple(JurorGap(juror, bodies.get(juror, ""), tuple(receipts))
                 for juror, receipts in missing_scores(ctx).items() if receipts)
    declared = []
    for row in conflicts(ctx):
        application = ctx.session.get(Application, row.application_id)
        assert application is not None
        declared.append(DeclaredConflict(row.juror, application.receipt_number, application.lead_name, row.reason,
                                         row.declared_at))
    entry = ctx.session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "jury.selection")
        .order_by(col(AuditEntry.id).desc())).first()
    decision = None if entry is None else TakenDecision(entry.at, actor_label(entry.actor), entry.summary)
    return JuryScreen(view, current.describe(jury.scale_max),
                      None if current.tie is None else current.tie.describe(jury.scale_max, jury.threshold),
                      current.blocked, candidates, gaps, tuple(declared), may_decide(ctx, now, current),
                      decided(ctx), decision, pager, len(candidates) <= CANDIDATES_LISTED)
