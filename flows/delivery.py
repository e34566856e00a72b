"""Deliver the outbox between ticks, so that acknowledgements and alerts do not wait a day."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import deliver_task, instant_or_now, run_name
from notifications.deliver import DeliveryReport


@flow(name="envoi-avis", flow_run_name=run_name,
      description="Distribue les avis en attente (accusés, relances, alertes) avec reprises.")
def deliver_flow(as_of: datetime | None = None) -> DeliveryReport:
    """Send every notice due at `as_of` (default: now), with retries recorded in the outbox."""
    return deliver_task(instant_or_now(as_of))
