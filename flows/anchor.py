"""The audit log's daily anchor: each chain's head written once per Paris day under the data
directory (`models.audit_anchor`), for the backups to carry off the machine, and POSTed off it when
`AUDIT_ANCHOR_URL` is set (`notifications.anchors`; what failed is sent again on the next run)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from config.settings import get_settings
from flows.common import instant_or_now, run_name
from models.audit_anchor import write_anchors
from models.db import migrate, session_scope
from models.errors import InvalidInput
from notifications.anchors import send_anchors


@flow(name="ancre-journal", flow_run_name=run_name,
      description="Écrit une fois par jour la tête du journal d'audit de chaque programme (ancres/).")
def anchor_flow(as_of: datetime | None = None) -> list[str]:
    """Write the day's anchor of every audit chain (of the Paris day of `as_of`, default: the
    scheduled instant or now) unless written already, then send every anchor not yet accepted to
    `AUDIT_ANCHOR_URL` if set; returns the files written. Raises InvalidInput (the run fails, and
    the next one sends again) when the receiver refused or could not be reached."""
    settings = get_settings()
    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        written = [str(path) for path in write_anchors(session, instant_or_now(as_of), settings.data_dir)]
    if settings.audit_anchor_url:
        secret = settings.audit_anchor_secret.get_secret_value() if settings.audit_anchor_secret else None
        outcome = send_anchors(settings.data_dir, settings.audit_anchor_url, secret)
        if outcome.failures:
            raise InvalidInput("Ancres du journal non déposées : " + " ; ".join(outcome.failures) + ".")
    return written
