"""Draining Prefect's events worker works from a command line and from inside a running event loop
(the portal's async routes), without leaving a coroutine unawaited (an English RuntimeWarning)."""

from __future__ import annotations

import asyncio
import gc
import warnings

from prefect.events.worker import EventsWorker

from flows.events import drain_events
from tests.guards import HANG_GUARD


def _drained_without_warning(run: object) -> tuple[bool, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = run() if callable(run) else False
        gc.collect()
    return bool(done), [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_drain_from_a_command_line() -> None:
    done, warned = _drained_without_warning(lambda: drain_events(timeout=HANG_GUARD))
    assert done, f"bloqué : les événements ne sont pas vidés en {HANG_GUARD:.0f} s"
    assert warned == []


def test_drain_inside_a_running_event_loop_waits_and_leaves_no_coroutine() -> None:
    async def route() -> bool:
        EventsWorker.instance()  # a live worker, as after an emit_event in the portal
        assert EventsWorker._instances  # noqa: SLF001
        return drain_events(timeout=HANG_GUARD)

    done, warned = _drained_without_warning(lambda: asyncio.run(route()))
    assert done, f"bloqué : les événements ne sont pas vidés en {HANG_GUARD:.0f} s"
    assert warned == []
    assert not EventsWorker._instances  # noqa: SLF001 — drained and stopped, not left for later
