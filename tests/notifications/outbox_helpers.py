"""Delivering the outbox and reading it back, as the notification tests do."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, select

from config.settings import get_settings
from models.db import get_engine, session_scope
from models.tables import Notice
from notifications.deliver import DeliveryReport, deliver_due
from notifications.routing import from_settings
from tests.conftest import LAUNCH


def deliver(url: str, as_of: datetime = LAUNCH, lease: timedelta | None = None) -> DeliveryReport:
    """Deliver what is due at `as_of` through the channels the settings describe."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        channels, policy = from_settings(get_settings())
        if lease is not None:
            policy = replace(policy, lease=lease)
        return deliver_due(session, as_of=as_of, channels=channels, policy=policy)


def all_notices(url: str) -> list[Notice]:
    """Every notice of the outbox, oldest first."""
    with session_scope(url) as session:
        return list(session.exec(select(Notice).order_by(Notice.id)).all())  # type: ignore[arg-type]
