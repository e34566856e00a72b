"""Reminder series: planned on working days, and at most one sent per series at each tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.clock import WorkingCalendar


@dataclass(frozen=True)
class Planned:
    """One reminder of a series: its rank in the series, when it goes out, whether it escalates."""

    index: int
    at: datetime
    escalate: bool = False
    overdue: bool = False


def plan(calendar: WorkingCalendar, anchor: datetime, before: list[int], after: list[int],
         escalate_after: bool = False) -> list[Planned]:
    """The reminders of a series, in time order: `before` working days before the anchor's day,
    then `after` working days after it."""
    planned = [Planned(0, calendar.before(anchor, n)) for n in sorted(set(before), reverse=True)]
    planned += [Planned(0, calendar.after(anchor, n), escalate_after, True) for n in sorted(set(after))]
    planned.sort(key=lambda p: p.at)
    return [Planned(i + 1, p.at, p.escalate, p.overdue) for i, p in enumerate(planned)]


def due_now(series: list[Planned], as_of: datetime) -> Planned | None:
    """The latest reminder of the series already due: after downtime, one catch-up message,
    not a burst of stale ones."""
    due = [p for p in series if p.at <= as_of]
    return due[-1] if due else None
