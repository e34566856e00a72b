"""Running flows from the CLI and the demo: Prefect configured quiet, heartbeats off for replays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from transitions.prefect_env import configure_prefect

if TYPE_CHECKING:
    from flows.plain import TickResult


@contextmanager
def replay_settings() -> Iterator[None]:
    """Prefect settings for short, synchronous runs: without a heartbeat thread a flow run costs
    ~0.1 s instead of ~1 s (the thread is joined on exit). Long-running services keep it on."""
    configure_prefect()
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


def run_tick(as_of: datetime, programme: str | None = None) -> TickResult:
    """One tick flow run at `as_of`, on the Prefect server the environment names (or a temporary one)."""
    with replay_settings():
        from flows.tick import tick_flow

        return tick_flow(as_of=as_of, programme=programme)
