"""The status read model: a programme's applications, pilots' progress, next steps and notices,
as every report (terminal, Markdown, Prefect dashboard) reads them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from models.accompaniment import Progress, progress_of
from models.clock import format_paris
from models.context import all_ctx, load_ctx
from models.pilots import pilots
from models.read.report_data import ApplicationFact, applications_at, stage_at
from models.read.steps import Step, next_steps_of
from models.schedule import next_due
from models.tables import STATE_LABELS, Application, AuditEntry, Notice, NoticeStatus, Pilot, Programme, label


@dataclass
class Status:
    """A programme's state at an instant, as reports and the dashboard show it."""

    as_of: datetime
    programme: str
    stage: str
    applications: list[dict[str, str]]
    refused_at_door: list[str]
    progress: list[Progress]
    notices: Counter[str]
    messages: int
    pending_notices: int
    dead_notices: int
    next_due: datetime | None
    steps: list[Step]


def application_rows(session: Session, slug: str | None = None) -> list[dict[str, str]]:
    """Every application of the programme as it stands, one row of French text per application."""
    ctx = load_ctx(session, slug)
    rows = session.exec(select(Application).where(Application.programme_id == ctx.programme_id)
                        .order_by(col(Application.id))).all()
    return [_application_row(ApplicationFact(
        id=a.id or 0, receipt=a.receipt_number, siren=a.lead_siren, name=a.lead_name, kind=a.lead_kind,
        version=a.version, first_submitted_at=a.first_submitted_at, last_submitted_at=a.last_submitted_at,
        status=a.status, decided_at=None, reason=a.decision_reason or "", warnings=list(a.warnings))) for a in rows]


def build_status(session: Session, as_of: datetime, slug: str | None = None) -> Status:
    """The programme's status as it stood at `as_of` (NotFound if no programme is loaded): its state
    then, the applications submitted by then with their decision then, the pilots selected by then,
    the notices queued by then and their fate then (sent, waiting, given up), and the next instant
    with work after `as_of` (planned, for the present; for an instant before the last tick, the
    next one at which the programme did act or a queued notice was due)."""
    ctx = load_ctx(session, slug)
    pid = ctx.programme_id
    refused = session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == pid, AuditEntry.action == "candidature.refusee", AuditEntry.at <= as_of)
        .order_by(col(AuditEntry.at))).all()
    queued = session.exec(select(Notice.kind, Notice.status, Notice.sent_at, Notice.digest_id).where(
        Notice.programme_id == pid, Notice.created_at <= as_of)).all()
    sent = [(kind, digest) for kind, _, sent_at, digest in queued if sent_at is not None and sent_at <= as_of]
    dead = sum(1 for _, state, _, _ in queued if state == NoticeStatus.DEAD)
    waiting = sum(1 for _, state, sent_at, _ in queued  # pending then: not yet sent, nor given up or expired
                  if (sent_at is None or sent_at > as_of) and state in (NoticeStatus.PENDING, NoticeStatus.SENT))
    chosen = [pilot for pilot in pilots(ctx) if pilot.selected_at <= as_of]
    return Status(
        as_of=as_of,
        programme=f"{ctx.programme.slug} — {ctx.programme.title}",
        stage=STATE_LABELS.get(stage_at(ctx.programme, as_of), ctx.programme.state),
        applications=[_application_row(fact) for fact in applications_at(session, ctx, as_of)],
        refused_at_door=[r.summary for r in refused],
        progress=progress_of(ctx, chosen, as_of),
        steps=next_steps_of(ctx, chosen, as_of),
        notices=Counter(kind for kind, _ in sent),
        messages=sum(1 for _, digest in sent if digest is None) + len({digest for _, digest in sent if digest}),
        pending_notices=waiting,
        dead_notices=dead,
        next_due=_next_due_at(session, ctx.programme, as_of) if len(all_ctx(session)) == 1 else None,
    )


def _application_row(fact: ApplicationFact) -> dict[str, str]:
    return {
        "recepisse": fact.receipt,
        "chef_de_file": fact.name,
        "siren": fact.siren,
        "nature": label(fact.kind),
        "version": str(fact.version),
        "deposee_le": format_paris(fact.last_submitted_at),
        "statut": label(fact.status),
        "motif": fact.reason,
        "avertissements": " | ".join(fact.warnings),
    }


def _next_due_at(session: Session, programme: Programme, as_of: datetime) -> datetime | None:
    """`models.schedule.next_due` for the present; before the last tick, the planned instants are
    those of today's facts, so the answer is history: the first instant after `as_of` at which
    the programme acted on its own (an audit entry by « système ») or a notice queued by then
    was due to leave."""
    if programme.last_tick_at is None or as_of >= programme.last_tick_at:
        return next_due(session, as_of)
    acted = session.exec(select(func.min(col(AuditEntry.at))).where(
        AuditEntry.programme_id == programme.id, AuditEntry.actor == "système", AuditEntry.at > as_of)).one()
    leaving = session.exec(select(func.min(col(Notice.deliver_after))).where(
        Notice.programme_id == programme.id, Notice.created_at <= as_of, Notice.deliver_after > as_of)).one()
    found = [x for x in (acted, leaving) if x is not None]
    return min(found) if found else None


def pilot_rows(session: Session, as_of: datetime, slug: str | None = None,
               chosen: list[Pilot] | None = None) -> list[dict[str, str]]:
    """One row of French text per pilot selected by `as_of` (only of `chosen` when given; headers in
    French, instants in Paris time), for tables."""
    ctx = load_ctx(session, slug)
    rows = []
    chosen = [pilot for pilot in (pilots(ctx) if chosen is None else chosen) if pilot.selected_at <= as_of]
    for pilot, figures in zip(chosen, progress_of(ctx, chosen, as_of), strict=True):
        rows.append({
            "Territoire pilote": pilot.name,
            "Statut": label(pilot.status),
            "Lancement": format_paris(pilot.kickoff_at) if pilot.kickoff_at else "—",
            "Fin prévue": format_paris(pilot.ends_at) if pilot.ends_at else "—",
            "Durée écoulée": f"{figures.elapsed_percent} %",
            "Jalons atteints": f"{figures.milestones_reached}/{figures.milestones_total}",
            "Sessions tenues": f"{figures.sessions_held}/{figures.sessions_total}",
            "Livrables non remis en retard": str(figures.deliverables_overdue),
        })
    return rows
