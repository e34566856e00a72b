"""The portal's log of an outage: one line when the database stops answering, one when it answers
again, however many pages were refused in between (issue 25: « one line per outage », no traceback).

The start is told by the 503 handler (`errors.install`), the end by the engine itself: a new
connection made after an outage means the database answers again (SQLAlchemy throws away every
pooled connection when one of them was lost, so a page during the outage connects afresh or fails).
A full disk is not an outage of the connection: it is told at most once per `DISK_FULL_EVERY`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

DISK_FULL_EVERY = 600.0
"""Seconds between two lines about a full disk (it stays full until someone frees room)."""
BUSY_EVERY = 60.0
"""Seconds between two lines about requests refused because the portal is full (`BusyLog`)."""


class BusyLog:
    """The lines that say the portal refused requests because it was full (503 with Retry-After):
    the first refusal of each cause says so at once, the next ones within `BUSY_EVERY` seconds are
    only counted, and their count is told with the span of their times (local time of day) by the
    first refusal after the minute, by the next health probe (`/sante`) or when the portal stops
    (`flush`): a flood writes about a line a minute, not one per request, and a burst is never lost
    (issue 25). Thread-safe: refusals come from the event loop (the queue is full) and from the
    handlers' threads (no connection in time)."""

    def __init__(self, log: logging.Logger, clock: Any = time.monotonic, every: float = BUSY_EVERY,
                 wall: Any = time.time) -> None:
        self._log, self._clock, self._every, self._wall = log, clock, every, wall
        self._lock = threading.Lock()
        self._told: dict[str, float] = {}
        self._unsaid: dict[str, list[float]] = {}  # cause → [count, first wall time, last wall time]

    def refused(self, why: str) -> None:
        """One request answered 503 for `why` (no path: it carries a personal link's token)."""
        with self._lock:
            now, wall, last = self._clock(), self._wall(), self._told.get(why)
            if last is not None and now - last < self._every:
                pending = self._unsaid.setdefault(why, [0, wall, wall])
                pending[0], pending[2] = pending[0] + 1, wall
                return
            self._told[why], earlier = now, self._unsaid.pop(why, None)
        self._log.warning("portail saturé : %s, réponse 503%s", why,
                          f" ({self._others(earlier, 'et ')})" if earlier else "")

    def flush(self) -> None:
        """Tell the refusals counted and not yet told, one line per cause (a health probe, the stop)."""
        with self._lock:
            pending, self._unsaid = self._unsaid, {}
        for why, counted_ in pending.items():
            self._log.warning("portail saturé : %s, %s", why, self._others(counted_, ""))

    @staticmethod
    def _others(pending: list[float], lead: str) -> str:
        count, first, last = int(pending[0]), pending[1], pending[2]
        span = (f"à {_time_of_day(first)}" if _time_of_day(first) == _time_of_day(last)
                else f"de {_time_of_day(first)} à {_time_of_day(last)}")
        return f"{lead}{count} autre{'s' if count > 1 else ''} réponse{'s' if count > 1 else ''} 503 {span}"


def _time_of_day(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))


class OutageLog:
    """Whether the database is out of reach for this portal, with the lines that say so."""

    def __init__(self, log: logging.Logger, clock: Any = time.monotonic) -> None:
        self._log = log
        self._clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None
        self._disk_told: float | None = None

    @property
    def down(self) -> bool:
        return self._since is not None

    def began(self, reason: str) -> None:
        """A page found the database out of reach: the first one since it answered says so."""
        with self._lock:
            if self._since is not None:
                return
            self._since = self._clock()
        self._log.error("base de données injoignable, les pages répondent 503 jusqu'à son retour (%s)", reason)

    def ended(self, *_: Any) -> None:
        """The database answered (a connection was made): the outage, if any, is over."""
        if self._since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._since is None:
                return
            lasted, self._since = self._clock() - self._since, None
        self._log.warning("base de données de nouveau joignable après %.0f s d'indisponibilité", lasted)

    def disk_full(self, message: str) -> None:
        """A full disk refused a page's write: said once per DISK_FULL_EVERY seconds."""
        with self._lock:
            now = self._clock()
            if self._disk_told is not None and now - self._disk_told < DISK_FULL_EVERY:
                return
            self._disk_told = now
        self._log.error("%s", message)

    def watch(self, engine: Engine) -> None:
        """End the outage at the engine's next new connection (registered once per engine)."""
        if not event.contains(engine, "connect", self.ended):
            event.listen(engine, "connect", self.ended)
