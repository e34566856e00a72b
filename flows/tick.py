"""The tick: for an instant, run every stage that has something due, then deliver the outbox.

Scheduled every morning in production (prefect.yaml), it catches up after downtime; replayed
with explicit instants, it drives the whole programme in simulated time. Running it twice for
the same instant changes nothing and sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from flows.common import dashboard_task, deliver_task, instant_or_now, run_name, stage_task
from models.schedule import STAGES


@flow(name="tick", flow_run_name=run_name)
def tick_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Advance the programme to `as_of` (default: now) and deliver what is due."""
    instant = instant_or_now(as_of)
    changes = {stage: stage_task(stage, instant, programme) for stage in STAGES}
    delivered = deliver_task(instant)
    if any(changes.values()) or delivered["envoyes"]:
        dashboard_task(instant)
    done = {k: v for k, v in changes.items() if v}
    get_run_logger().info("tick %s : %s ; avis %s", instant.isoformat(), done or "rien à faire", delivered)
    return {**changes, **delivered}
