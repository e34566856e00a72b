"""The log of requests refused because the portal is full (`outage.BusyLog`): a flood of refusals
writes one line a minute per cause, the next line saying how many were refused meanwhile."""

from __future__ import annotations

import logging
import threading

import pytest

from transitions.portal.outage import BUSY_EVERY, BusyLog


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.busy"]


def test_a_flood_of_refusals_writes_one_line_a_minute_with_the_count_in_between(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticking()
    busy = BusyLog(logging.getLogger("test.busy"), clock)
    with caplog.at_level(logging.WARNING, logger="test.busy"):
        for _ in range(500):
            busy.refused("file pleine")
            clock.now += 0.01  # 500 refusals in 5 s
        assert lines(caplog) == ["portail saturé : file pleine, réponse 503"]
        clock.now += BUSY_EVERY - 5.0 - 0.02  # just inside the minute: still counted, not said
        busy.refused("file pleine")
        assert len(lines(caplog)) == 1
        clock.now += 0.05
        busy.refused("file pleine")
        clock.now += BUSY_EVERY * 3
        busy.refused("file pleine")  # a minute later, after nothing refused in between
    assert lines(caplog)[1:] == ["portail saturé : file pleine, réponse 503 (et 500 autres depuis la ligne précédente)",
                                 "portail saturé : file pleine, réponse 503"]


def test_each_cause_has_its_own_line_and_one_more_refusal_is_said_in_the_singular(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticking()
    busy = BusyLog(logging.getLogger("test.busy"), clock)
    with caplog.at_level(logging.WARNING, logger="test.busy"):
        busy.refused("file pleine")
        busy.refused("pas de connexion")
        busy.refused("file pleine")
        clock.now += BUSY_EVERY
        busy.refused("file pleine")
    assert lines(caplog) == ["portail saturé : file pleine, réponse 503",
                             "portail saturé : pas de connexion, réponse 503",
                             "portail saturé : file pleine, réponse 503 (et 1 autre depuis la ligne précédente)"]


def test_refusals_from_many_threads_are_all_counted_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticking()
    busy = BusyLog(logging.getLogger("test.busy"), clock)
    with caplog.at_level(logging.WARNING, logger="test.busy"):
        threads = [threading.Thread(target=lambda: [busy.refused("file pleine") for _ in range(1000)])
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        clock.now += BUSY_EVERY
        busy.refused("file pleine")
    assert lines(caplog) == ["portail saturé : file pleine, réponse 503",
                             "portail saturé : file pleine, réponse 503 (et 7999 autres depuis la ligne précédente)"]
