"""The hang guards fail the test saying what hung, and let through what finishes."""

from __future__ import annotations

import threading

import pytest

from tests.guards import join_or_fail, wait_for


def test_a_thread_still_running_past_the_guard_fails_the_test_naming_it() -> None:
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="bloqueur", daemon=True)
    stuck.start()
    try:
        with pytest.raises(pytest.fail.Exception, match="bloqué : l'essai — 1 fil.* après 0 s \\(bloqueur\\)"):
            join_or_fail([stuck], "l'essai", seconds=0.05)
    finally:
        release.set()
    join_or_fail([stuck], "l'essai")  # released: joins at once


def test_a_condition_never_met_fails_the_test_naming_it() -> None:
    assert wait_for(lambda: 42, "la réponse") == 42
    with pytest.raises(pytest.fail.Exception, match="bloqué : le signal — toujours pas après 0 s"):
        wait_for(lambda: False, "le signal", seconds=0.05, every=0.01)
