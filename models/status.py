"""The status read model: a programme's applications, pilots' progress, next steps and notices,
as every report (terminal, Markdown, Prefect dashboard) reads them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models.accompaniment import Progress, Step, next_steps, progress
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
    notices = session.exec(select(Notice).where(Notice.programme_id == ctx.programme_id)).all()
    due = next_due(session, as_of) if len(all_ctx(session)) == 1 else None
    return Status(
        as_of=as_of,
        programme=f"{ctx.programme.slug} — {ctx.programme.title}",
        stage=STATE_LABELS.get(ctx.programme.state, ctx.programme.state),
        applications=application_rows(session, ctx.programme.slug),
        refused_at_door=[r.summary for r in refused],
        progress=[progress(ctx, p, as_of) for p in pilots(ctx)],
        steps=sorted((step for p in pilots(ctx) for step in next_steps(ctx, p, as_of)), key=lambda s: s.when),
        notices=Counter(n.kind for n in notices if n.status == NoticeStatus.SENT),
        messages=sum(1 for n in notices if n.status == NoticeStatus.SENT and not n.digest_id)
        + len({n.digest_id for n in notices if n.digest_id}),
        pending_notices=sum(1 for n in notices if n.status == NoticeStatus.PENDING),
        dead_notices=sum(1 for n in notices if n.status == NoticeStatus.DEAD),
        next_due=due,
    )


def pilot_rows(session: Session, as_of: datetime, slug: str | None = None) -> list[dict[str, str]]:
    """One row of French text per pilot (headers in French, instants in Paris time), for tables."""
    ctx = load_ctx(session, slug)
    rows = []
    for pilot in pilots(ctx):
        figures = progress(ctx, pilot, as_of)
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
