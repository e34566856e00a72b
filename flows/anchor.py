"""The audit log's daily anchor: each chain's head written once per Paris day under the data
directory (`models.audit_anchor`), for the backups to carry off the machine."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from config.settings import get_settings
from flows.common import instant_or_now, run_name
from models.audit_anchor import write_anchors
from models.db import migrate, session_scope


@flow(name="ancre-journal", flow_run_name=run_name,
      description="Écrit une fois par jour la tête du journal d'audit de chaque programme (ancres/).")
def anchor_flow(as_of: datetime | None = None) -> list[str]:
    """Write the day's anchor of every audit chain (of the Paris day of `as_of`, default: the
    scheduled instant or now) unless written already; returns the files written."""
    settings = get_settings()
    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        return [str(path) for path in write_anchors(session, instant_or_now(as_of), settings.data_dir)]
