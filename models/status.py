"""The status read model: a programme's applications, pilots' progress, next steps and notices,
as every report (terminal, Markdown, Prefect dashboard) reads them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from models.accompaniment import Progress, Step, next_steps_of, progress_of
from models.clock import format_paris
from models.context import all_ctx, load_ctx
from models.pilots import pilots
from models.schedule import next_due
from models.tables import STATE_LABELS, Application, AuditEntry, Notice, NoticeStatus, label


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
    """Every application of the programme, one row of French text per application."""
    ctx = load_ctx(session, slug)
    rows = session.exec(select(Application).where(Application.programme_id == ctx.programme_id)
                        .order_by(col(Application.id))).all()
    return [{
        "recepisse": a.receipt_number,
        "chef_de_file": a.lead_name,
        "siren": a.lead_siren,
        "nature": label(a.lead_kind),
        "version": str(a.version),
        "deposee_le": format_paris(a.last_submitted_at),
        "statut": label(a.status),
        "motif": a.decision_reason or "",
        "avertissements": " | ".join(a.warnings),
    } for a in rows]


def build_status(session: Session, as_of: datetime, slug: str | None = None) -> Status:
    """The programme's status at `as_of` (NotFound if no programme is loaded)."""
    ctx = load_ctx(session, slug)
    refused = session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "candidature.refusee")
        .order_by(col(AuditEntry.at))).all()
    by_state: Counter[tuple[str, str]] = Counter()
    for kind, state, count in session.exec(
            select(Notice.kind, Notice.status, func.count()).where(Notice.programme_id == ctx.programme_id)
            .group_by(col(Notice.kind), col(Notice.status))):
        by_state[(kind, state)] = count
    singles = session.exec(select(func.count()).select_from(Notice).where(
        Notice.programme_id == ctx.programme_id, Notice.status == NoticeStatus.SENT,
        col(Notice.digest_id).is_(None))).one()
    digests = session.exec(select(func.count(func.distinct(Notice.digest_id)))  # a digest is one message
                           .where(Notice.programme_id == ctx.programme_id)).one()
    due = next_due(session, as_of) if len(all_ctx(session)) == 1 else None
    everyone = pilots(ctx)
    return Status(
        as_of=as_of,
        programme=f"{ctx.programme.slug} — {ctx.programme.title}",
        stage=STATE_LABELS.get(ctx.programme.state, ctx.programme.state),
        applications=application_rows(session, ctx.programme.slug),
        refused_at_door=[r.summary for r in refused],
        progress=progress_of(ctx, everyone, as_of),
        steps=next_steps_of(ctx, everyone, as_of),
        notices=Counter({kind: count for (kind, state), count in by_state.items() if state == NoticeStatus.SENT}),
        messages=int(singles) + int(digests),
        pending_notices=sum(count for (_, state), count in by_state.items() if state == NoticeStatus.PENDING),
        dead_notices=sum(count for (_, state), count in by_state.items() if state == NoticeStatus.DEAD),
        next_due=due,
    )


def pilot_rows(session: Session, as_of: datetime, slug: str | None = None) -> list[dict[str, str]]:
    """One row of French text per pilot (headers in French, instants in Paris time), for tables."""
    ctx = load_ctx(session, slug)
    rows = []
    chosen = pilots(ctx)
    for pilot, figures in zip(chosen, progress_of(ctx, chosen, as_of), strict=True):
        rows.append({
            "Territoire pilote": pilot.name,
            "Statut": label(pilot.status),
            "Lancement": format_paris(pilot.kickoff_at) if pilot.kickoff_at else "—",
            "Fin prévue": format_paris(pilot.ends_at) if pilot.ends_at else "—",
            "Durée écoulée": f"{figures.elapsed_percent} %",
            "Jalons atteints": f"{figures.milestones_reached}/{figures.milestones_total}",
            "Sessions tenues": f"{figures.sessions_held}/{figures.sessions_total}",
            "Livrables non remis en retard": str(figures.tasks_overdue),
        })
    return rows
