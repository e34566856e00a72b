"""The log of requests refused because the portal is full (`outage.BusyLog`): a flood of refusals
writes about one line a minute per cause; the refusals counted meanwhile are told with the span of
their times by the next refusal after the minute, the next health probe, or the portal's stop."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from transitions.portal.outage import BUSY_EVERY, BusyLog

NINE = time.mktime((2026, 12, 7, 9, 0, 0, 0, 0, -1))  # 09:00:00, local time


class Ticking:
    """Both clocks of a BusyLog: monotonic seconds and wall time, moved together."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return NINE + self.now - 1000.0


def busy_log(clock: Ticking) -> BusyLog:
    return BusyLog(logging.getLogger("test.busy"), clock, wall=clock.wall)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.busy"]


def test_a_flood_of_refusals_writes_a_line_a_minute_with_the_count_and_span_in_between(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticking()
    busy = busy_log(clock)
    with caplog.at_level(logging.WARNING, logger="test.busy"):
        busy.refused("file pleine")  # 09:00:00
        for _ in range(500):
            clock.now += 0.01
            busy.refused("file pleine")  # 500 more in the next 5 s
        assert lines(caplog) == ["portail saturé : file pleine, réponse 503"]
        clock.now += BUSY_EVERY - 5.0 - 0.5  # still inside the minute: counted, not said
        busy.refused("file pleine")
        assert len(lines(caplog)) == 1
        clock.now += 1.0  # 09:01:00.5
        busy.refused("file pleine")
    assert lines(caplog)[1:] == [
        "portail saturé : file pleine, réponse 503 (et 501 autres réponses 503 de 09:00:00 à 09:00:59)"]


def test_a_burst_shorter_than_a_minute_is_told_by_the_next_probe_or_the_stop(
        caplog: pytest.LogCaptureFixture) -> None:
    """The review: 500 refusals in 30 s, then nothing for hours, left one line « réponse 503 »."""
    clock = Ticking()
    busy = busy_log(clock)
    with caplog.at_level(logging.WARNING, logger="test.busy"):
        for _ in range(500):
            busy.refused("file pleine")
            clock.now += 0.06
        busy.refused("pas de connexion")
        clock.now += 6 * 3600
        busy.flush()  # the next health probe (or the stop)
        busy.flush()  # nothing more to tell
    assert lines(caplog) == ["portail saturé : file pleine, réponse 503",
                             "portail saturé : pas de connexion, réponse 503",
                             "portail saturé : file pleine, 499 autres réponses 503 de 09:00:00 à 09:00:29"]


def test_one_more_refusal_is_said_in_the_singular(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticking()
    busy = busy_log(clock)
    with caplog.at_level(logging.WARNING, logger="test.busy"):
        busy.refused("file pleine")
        busy.refused("file pleine")
        clock.now += BUSY_EVERY
        busy.refused("file pleine")
    assert lines(caplog)[1:] == ["portail saturé : file pleine, réponse 503 (et 1 autre réponse 503 à 09:00:00)"]


def test_refusals_from_many_threads_are_all_counted_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticking()
    busy = busy_log(clock)
    with caplog.at_level(logging.WARNING, logger="test.busy"):
        busy.refused("file pleine")
        threads = [threading.Thread(target=lambda: [busy.refused("file pleine") for _ in range(1000)])
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        busy.flush()
    assert lines(caplog) == ["portail saturé : file pleine, réponse 503",
                             "portail saturé : file pleine, 8000 autres réponses 503 à 09:00:00"]
