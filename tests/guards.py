"""Hang guards for tests: generous limits that report what hung, never a race against the clock.

Speed is measured in bench/, not asserted here. A test that waits for a thread, a process or a
server waits up to HANG_GUARD seconds (a machine whose two cores are busy elsewhere is slow, not
stuck) and, past it, fails saying what did not finish. Kept free of heavy imports: the fuzz
harness (shared with bench/fuzz.py) uses it too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

HANG_GUARD = 120.0
"""Seconds after which something a test waits for is deemed hung (not slow)."""

T = TypeVar("T")


def join_or_fail(threads: Iterable[threading.Thread], what: str, seconds: float = HANG_GUARD) -> None:
    """Join every thread within `seconds` in all; fail the test naming `what` if one is still running."""
    import pytest

    threads = list(threads)
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [thread.name for thread in threads if thread.is_alive()]
    if alive:
        pytest.fail(f"bloqué : {what} — {len(alive)} fil(s) toujours en cours après {seconds:.0f} s "
                    f"({', '.join(alive)})", pytrace=False)


def wait_for(condition: Callable[[], T], what: str, seconds: float = HANG_GUARD, every: float = 0.1) -> T:
    """Poll `condition` until it returns something true and return it; fail naming `what` after `seconds`."""
    import pytest

    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"bloqué : {what} — toujours pas après {seconds:.0f} s", pytrace=False)
        time.sleep(every)
