"""Notices that leave at once (`models.notices.IMMEDIATE`: a draft's link, an acknowledgement, a new
link, an invitation) sent right after the act that queued them, instead of at the next delivery run
(`envoi-avis`, hourly): one background thread per portal process delivers what is due at the act's
instant, through the outbox's usual claim (leases: a delivery run at the same time takes other
notices, never the same), so the page's « un lien vous a été envoyé » is true a few seconds later."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlmodel import Session

from config.settings import get_settings
from models import failures
from models.db import get_engine
from models.links import LinkSettings
from notifications.deliver import deliver_due
from notifications.routing import from_settings

log = logging.getLogger("transitions.portail")


class ImmediateDelivery:
    """Called with an act's instant (UTC) once the act is committed; returns at once. The thread
    delivers every notice due at the latest instant it was given, then waits to be called again;
    a failure is logged (the notices stay in the outbox for the next delivery run)."""

    def __init__(self, database_url: str, secret: str | None = None) -> None:
        self._url = database_url
        self._secret = secret  # the portal's: the notices' links are signed again with it as they leave
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._as_of: datetime | None = None
        self._thread: threading.Thread | None = None

    def __call__(self, as_of: datetime) -> None:
        with self._lock:
            self._as_of = as_of if self._as_of is None else max(self._as_of, as_of)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="avis-immediats", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                as_of, self._as_of = self._as_of, None
            if as_of is None:
                continue
            try:
                with Session(get_engine(self._url), expire_on_commit=False) as session:
                    settings = get_settings()
                    channels, policy = from_settings(settings)
                    signing = None if self._secret is None else LinkSettings(
                        self._secret, settings.portal_base_url, settings.portal_link_days)
                    deliver_due(session, as_of=as_of, channels=channels, policy=policy, signing=signing)
            except Exception as exc:  # the notices stay queued: the next delivery run sends them
                outage = failures.told(exc, database_url=self._url) if failures.is_database_failure(exc) else None
                log.warning("avis immédiats non distribués : ils partiront à la prochaine distribution%s",
                            f" ({outage.message})" if outage else "", exc_info=outage is None)
