"""Reminder series: planned on working days, and at most one sent per series at each tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.clock import WorkingCalendar
from models.programme import ReminderRule


@dataclass(frozen=True)
class Planned:
    """One reminder of a series: its rank in the series, when it goes out, whether it escalates."""

    index: int
    at: datetime
    escalate: bool = False
    overdue: bool = False


def plan(calendar: WorkingCalendar, anchor: datetime, before: list[int], after: list[int],
         escalate_after: bool = False, repeat_every: int | None = None,
         max_count: int | None = None) -> list[Planned]:
    """The reminders of a series, in time order: `before` working days before the anchor's day,
    then `after` working days after it, then every `repeat_every` working days; `max_count` caps it."""
    planned = [Planned(0, calendar.before(anchor, n)) for n in sorted(set(before), reverse=True)]
    offsets = sorted(set(after))
    if repeat_every and max_count:
        last = offsets[-1] if offsets else 0
        while len(planned) + len(offsets) < max_count:
            last += repeat_every
            offsets.append(last)
    planned += [Planned(0, calendar.after(anchor, n), escalate_after, True) for n in offsets]
    planned.sort(key=lambda p: p.at)
    if max_count is not None:
        planned = planned[:max_count]
    return [Planned(i + 1, p.at, p.escalate, p.overdue) for i, p in enumerate(planned)]


def plan_rule(calendar: WorkingCalendar, anchor: datetime, rule: ReminderRule,
              escalate_after: bool = False) -> list[Planned]:
    return plan(calendar, anchor, rule.before, rule.after, escalate_after, rule.repeat_every, rule.max_count)


def due_now(series: list[Planned], as_of: datetime) -> Planned | None:
    """The latest reminder of the series already due: after downtime, one catch-up message,
    not a burst of stale ones."""
    due = [p for p in series if p.at <= as_of]
    return due[-1] if due else None
