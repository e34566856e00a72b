"""Reminder series: working days, repeats, caps, and one catch-up message after downtime."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from models.clock import WorkingCalendar, paris
from models.programme import CalendarDef, ReminderRule
from models.reminders import due_now, plan, plan_rule
from tests.conftest import at

CALENDAR = WorkingCalendar("FR", time(9, 0))
DUE = at("2016-05-02T09:30")  # Monday, the day after Labour Day (a Sunday in 2016)


def _days(series) -> list[str]:  # type: ignore[no-untyped-def]
    return [paris(p.at).strftime("%a %d/%m %H:%M") for p in series]


def test_before_and_after_skip_weekends_and_holidays() -> None:
    series = plan(CALENDAR, DUE, [3, 1], [1, 5], escalate_after=True)
    # Before: 27/04 (3 working days back) and 29/04; after: 03/05, then 5 working days
    # later skipping Ascension (Thursday 5 May 2016) and the weekend: 10/05.
    assert _days(series) == ["Wed 27/04 09:00", "Fri 29/04 09:00", "Tue 03/05 09:00", "Tue 10/05 09:00"]
    assert [(p.index, p.overdue, p.escalate) for p in series] == [
        (1, False, False), (2, False, False), (3, True, True), (4, True, True)]


def test_repeats_stop_at_the_maximum_count() -> None:
    rule = ReminderRule(before=[2], after=[1], repeat_every=5, max_count=4)
    series = plan_rule(CALENDAR, DUE, rule)
    assert len(series) == 4
    # Offsets 1, 6 and 11 working days after Monday 2 May 2016, skipping Ascension (5 May)
    # and Whit Monday (16 May).
    assert _days(series) == ["Thu 28/04 09:00", "Tue 03/05 09:00", "Wed 11/05 09:00", "Thu 19/05 09:00"]


def test_a_repeat_without_maximum_is_refused() -> None:
    with pytest.raises(ValidationError, match="repeat_every exige max_count"):
        ReminderRule(after=[1], repeat_every=5)


def test_send_time_must_fall_within_sending_hours() -> None:
    with pytest.raises(ValidationError, match="doit tomber dans sending_hours"):
        CalendarDef(send_at=time(7, 30), sending_hours=(time(8, 0), time(18, 0)))


def test_after_downtime_only_the_latest_due_reminder_goes_out() -> None:
    series = plan(CALENDAR, DUE, [3, 1], [1, 5])
    assert due_now(series, at("2016-04-27T08:59")) is None
    latest = due_now(series, at("2016-05-04T12:00"))  # the tick was down for a week
    assert latest is not None and latest.index == 3
