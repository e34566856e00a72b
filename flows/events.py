"""Domain facts announced as Prefect events, after their transaction committed.

Every audit entry (application submitted, admissibility decided, score recorded, pilots selected,
charter signed, pilot started, attendance recorded, deliverable handed in…) becomes an event
`transitions.<action>` about its resource (`transitions.<entity>.<id>`), occurring at the
programme instant it records. Deployment triggers react to them (prefect.yaml: the kick-off runs
when a charter signature arrives). Events are best-effort: the tick reconciles whatever one missed.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from config.settings import get_settings
from models import audit
from models.db import session_scope
from models.tables import AuditEntry

if TYPE_CHECKING:  # flows.plain pulls the renderer and the channels: not for every command line
    from flows.plain import EndedSession

log = logging.getLogger("transitions.evenements")


def event_of(entry: AuditEntry, programme: str) -> dict[str, object]:
    """The Prefect event for one audit entry of the programme `programme` (its slug), as keyword
    arguments of `emit_event`."""
    return {
        "event": f"transitions.{entry.action}",
        "resource": {"prefect.resource.id": f"transitions.{entry.entity}.{entry.entity_id or 0}",
                     "prefect.resource.name": entry.summary[:200],
                     "transitions.programme": programme},
        "occurred": entry.at,
        "payload": {"acteur": entry.actor, "resume": entry.summary, "instant": entry.at.isoformat()},
    }


def bookmark() -> int:
    """The newest committed fact now: publish what comes after it with `publish_since`."""
    with session_scope(get_settings().database_url) as session:
        return audit.last_id(session)


def publish_since(after_id: int, *, only_with_server: bool = False) -> int:
    """Emit one event per fact committed after the bookmark; returns how many were emitted.

    With `only_with_server`, nothing is emitted unless a Prefect server is configured
    (PREFECT_API_URL): a command line should not start a temporary server just to announce facts.
    """
    if only_with_server and not os.environ.get("PREFECT_API_URL"):
        return 0
    with session_scope(get_settings().database_url) as session:
        facts = audit.since(session, after_id)
    if not facts:
        return 0
    from prefect.events import emit_event

    emitted = 0
    for entry, slug in facts:
        try:
            if emit_event(**event_of(entry, slug)) is not None:  # type: ignore[arg-type]
                emitted += 1
        except Exception:  # best-effort: the tick reconciles; never fail the change that happened
            log.warning("événement non émis pour l'entrée d'audit %s", entry.id, exc_info=True)
    if only_with_server and emitted:  # a command line exits next: send the events before it does
        drain_events(timeout=10)
    return emitted


def drain_events(timeout: float = 10) -> bool:
    """Wait (at most `timeout` seconds) until Prefect's events worker has sent what was emitted;
    returns whether it finished. Works from a plain command line and from inside a running event
    loop (the portal's routes): Prefect's `EventsWorker.drain_all` returns a coroutine there,
    which nobody would await, so the drain then runs in a worker thread without a loop."""
    import asyncio
    import threading

    from prefect.events.worker import EventsWorker

    # Prefect's queue logs « Still processing items… » in English while it drains: not for users.
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)
    outcome: list[bool] = []

    def drain() -> None:
        try:
            result = EventsWorker.drain_all(timeout=timeout)
            if asyncio.iscoroutine(result):  # not expected without a running loop; never leave it unawaited
                result.close()
                raise RuntimeError("drain_all returned a coroutine outside an event loop")
            outcome.append(not result[1])
        except Exception:
            log.warning("événements peut-être non transmis au serveur Prefect", exc_info=True)
            outcome.append(False)

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: drain here
        drain()
    else:
        worker = threading.Thread(target=drain, name="transitions-drain-events", daemon=True)
        worker.start()
        worker.join(timeout + 1)
    return bool(outcome and outcome[0])


SESSION_ENDED = "transitions.session.terminee"
"""Announced by the tick for each session of a live programme whose end it passed: the start of the
`rappel-presences` trigger's wait for `transitions.session.emargement` on the same session."""


def ended_session_event(training_session: EndedSession) -> dict[str, object]:
    """The event for a session that ended, about the same resource as its attendance records."""
    return {
        "event": SESSION_ENDED,
        "resource": {"prefect.resource.id": f"transitions.training_session.{training_session.id}",
                     "prefect.resource.name": f"{training_session.pilot} : {training_session.title}"[:200],
                     "transitions.programme": training_session.programme},
        "occurred": training_session.ends_at,
        "payload": {"instant": training_session.ends_at.isoformat(), "pilote": training_session.pilot,
                    "session": training_session.title},
    }


def publish_ended_sessions(ended: list[EndedSession]) -> int:
    """Emit one `transitions.session.terminee` event per session (best-effort); returns how many."""
    if not ended:
        return 0
    from prefect.events import emit_event

    emitted = 0
    for training_session in ended:
        try:
            if emit_event(**ended_session_event(training_session)) is not None:  # type: ignore[arg-type]
                emitted += 1
        except Exception:  # best-effort: the reminder is also reachable by running the deployment
            log.warning("événement de fin de session non émis (session %s)", training_session.id, exc_info=True)
    return emitted
