"""Running flows from the CLI and the demo: Prefect configured quiet, heartbeats off for replays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from config.prefect_env import configure_prefect

if TYPE_CHECKING:
    from flows.plain import TickResult


@contextmanager
def quiet_failures() -> Iterator[None]:
    """A flow run that fails is told once, in French, by the command (details in the error log):
    Prefect's own report of it (with its traceback) goes to the Prefect server, not the terminal."""
    import logging

    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    before = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.propagate = False
    try:
        yield
    finally:
        for logger, propagate in zip(loggers, before, strict=True):
            logger.propagate = propagate


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
    with replay_settings(), quiet_failures():
        from flows.tick import tick_flow

        return tick_flow(as_of=as_of, programme=programme)
