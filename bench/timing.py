"""Measuring two sides of a ratio in turn (A, B, A, B…): the one sampling loop `bench/run.py`,
`bench/outbox.py` and `bench/replay.py` share, so that every published ratio is sampled alike."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Measure:
    """Medians of one side of a ratio, sampled in turn with the other side(s) (A, B, A, B…): wall
    and CPU seconds (user + system; this process's threads in process, the child and the children
    it waited for as a subprocess), the 1-minute load average read before each sample, and for a
    subprocess its peak resident memory (MiB, its descendants summed)."""

    wall: float
    cpu: float
    loads: list[float]
    samples: int
    peak: float | None = None


def load1() -> float:
    """The 1-minute load average (NaN where the system does not tell it)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def in_turn(actions: dict[str, Callable[[], Any]], rounds: int,
            setups: dict[str, Callable[[], Any]] | None = None) -> dict[str, Measure]:
    """Each action run once per round, in turn (A, B, A, B…), at least 3 rounds, so that load
    drifts hit all alike; `setups[name]` (not measured) runs before each run of `name`. Medians of
    wall and CPU seconds (`time.process_time`: this process), with the load read before each run."""
    walls: dict[str, list[float]] = {name: [] for name in actions}
    cpus: dict[str, list[float]] = {name: [] for name in actions}
    loads: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(max(rounds, 3)):
        for name, action in actions.items():
            if setups and name in setups:
                setups[name]()
            loads[name].append(load1())
            cpu, start = time.process_time(), time.perf_counter()
            action()
            walls[name].append(time.perf_counter() - start)
            cpus[name].append(time.process_time() - cpu)
    return {name: Measure(statistics.median(walls[name]), statistics.median(cpus[name]), loads[name],
                          len(walls[name])) for name in actions}
