"""The tick's work as plain functions, without Prefect: each stage in its own transaction, then
delivery of the outbox. The Prefect flows wrap these; the replay's tests and `bench/` call them
directly to measure and check the domain alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from models.db import get_engine, session_scope
from models.schedule import STAGES, run_stage
from models.stages import StageName
from notifications.deliver import DeliveryReport, deliver_due
from notifications.render import render_notice
from notifications.routing import from_settings
from transitions.settings import Settings, get_settings


@dataclass
class TickResult:
    """What a tick did: changes per stage (in tick order) and the delivery's report."""

    changes: dict[StageName, int] = field(default_factory=dict)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def changed(self) -> dict[StageName, int]:
        """Only the stages that changed something."""
        return {name: count for name, count in self.changes.items() if count}


def run_one_stage(stage: StageName, as_of: datetime, programme: str | None = None,
                  settings: Settings | None = None) -> int:
    """Run one stage in its own transaction; returns the number of changes."""
    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        return run_stage(session, stage, as_of, programme, renderer=render_notice)


def deliver_now(as_of: datetime, settings: Settings | None = None) -> DeliveryReport:
    """Deliver every notice due at `as_of` through the channels the settings describe."""
    settings = settings or get_settings()
    channels, policy = from_settings(settings)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        return deliver_due(session, as_of=as_of, channels=channels, policy=policy)


def run_tick_plain(as_of: datetime, programme: str | None = None, settings: Settings | None = None) -> TickResult:
    """Every stage at `as_of`, in order, then delivery: the tick flow's work without Prefect."""
    result = TickResult()
    for each in STAGES:
        result.changes[each.name] = run_one_stage(each.name, as_of, programme, settings)
    result.delivery = deliver_now(as_of, settings)
    return result
