"""The tick: for an instant, run every stage that has something due, then deliver the outbox.

Scheduled every working hour in production (prefect.yaml), it catches up after downtime;
replayed with explicit instants, it drives the whole programme in simulated time. Running it
twice for the same instant changes nothing and sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from flows.common import dashboard_task, deliver_task, instant_or_now, run_name, stage_task
from flows.plain import TickResult
from models.clock import format_paris
from models.schedule import STAGES


@flow(name="tick", flow_run_name=run_name)
def tick_flow(as_of: datetime | None = None, programme: str | None = None) -> TickResult:
    """Advance the programme to `as_of` (default: now) and deliver what is due."""
    instant = instant_or_now(as_of)
    result = TickResult()
    for each in STAGES:
        result.changes[each.name] = stage_task(each.name, instant, programme)
    result.delivery = deliver_task(instant)
    if result.changed or result.delivery.sent:
        dashboard_task(instant)
    done = ", ".join(f"{name} ({count})" for name, count in result.changed.items()) or "rien à faire"
    logger = get_run_logger()
    logger.info("tick du %s : %s ; %d avis envoyé(s)", format_paris(instant), done, result.delivery.sent)
    for line in result.delivery.warnings():  # a channel down, notices set aside: said, not raised
        logger.warning("%s", line)
    return result
