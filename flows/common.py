"""Prefect tasks shared by the flows: run one domain stage, deliver the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import task
from sqlmodel import Session

from models.clock import utc
from models.db import get_engine, session_scope
from models.schedule import run_stage
from notifications.deliver import deliver_due
from transitions.settings import get_settings


def instant_or_now(as_of: datetime | None) -> datetime:
    """The flow's instant in UTC: given (naive means Paris time), or the current time."""
    return utc(as_of) if as_of is not None else datetime.now(UTC)


@task(name="etape", task_run_name="{stage}")
def stage_task(stage: str, as_of: datetime, programme: str | None = None) -> int:
    """Run one stage of the programme in its own transaction; returns the number of changes."""
    with session_scope(get_settings().database_url) as session:
        return run_stage(session, stage, as_of, programme)


@task(name="envoi-des-avis")
def deliver_task(as_of: datetime) -> dict[str, int]:
    """Deliver every notice due at `as_of`; each outcome is recorded as it happens."""
    settings = get_settings()
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        report = deliver_due(session, as_of=as_of, settings=settings)
    return {"envoyes": report.sent, "echecs": report.failed, "abandonnes": report.dead,
            **{f"type:{kind}": count for kind, count in report.by_kind.items()}}
