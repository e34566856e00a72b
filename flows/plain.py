"""The tick's work as plain functions, without Prefect: each stage in its own transaction, then
delivery of the outbox. The Prefect flows wrap these; the replay's tests and `bench/` call them
directly to measure and check the domain alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from sqlmodel import Session

from config.settings import Settings, get_settings
from models.db import get_engine, session_scope
from models.purge import sweep_outbox
from models.schedule import (
    STAGES,
    next_due,
    plan,
    record_tick,
    run_stage,
)
from models.stages import StageName
from notifications.deliver import DeliveryReport, deliver_due
from notifications.render import portal_linker, render_notice
from notifications.routing import from_settings


@dataclass
class TickResult:
    """What a tick did: changes per stage (in tick order) and the delivery's report."""

    changes: dict[StageName, int] = field(default_factory=dict)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    programmes: list[str] = field(default_factory=list)
    held_back: list[tuple[str, datetime]] = field(default_factory=list)
    """Live programmes too far behind to be caught up by a scheduled run: (slug, last tick)."""
    due: dict[StageName, list[str]] = field(default_factory=dict)
    """The stages with something to do, and for which programmes (`models.schedule.due_stages`)."""
    seen: int | None = None
    """The newest audit entry when the tick began."""
    recorded: bool = False
    """Nothing was due, no stage nor notice: the tick was recorded with its plan, in one transaction
    (`plan_tick(…, record_idle=True)`); it runs no stage, delivers nothing and is not finished again."""

    def stage_programmes(self, stage: StageName, *, every_stage: bool = False) -> list[str]:
        """The programmes `stage` runs for, given what the earlier stages of this tick did: those
        it is due for, or every programme once an earlier stage changed something (a change, such
        as a pilot's kick-off, plans new instants that may already have come)."""
        if every_stage or any(self.changes.values()):
            return list(self.programmes)
        return list(self.due.get(stage, []))

    @property
    def changed(self) -> dict[StageName, int]:
        """Only the stages that changed something."""
        return {name: count for name, count in self.changes.items() if count}


def run_one_stage(stage: StageName, as_of: datetime, programme: str | None = None,
                  settings: Settings | None = None, only: list[str] | None = None) -> int:
    """Run one stage in its own transaction; returns the number of changes."""
    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        changes = run_stage(session, stage, as_of, programme, renderer=render_notice, linker=portal_linker(), only=only)
    if changes and stage == StageName.PURGE:  # the erased notices' files go once their erasure is committed
        with session_scope(settings.database_url) as session:
            sweep_outbox(session, settings.outbox_dir)
    return changes


def plan_tick(as_of: datetime, programme: str | None = None, settings: Settings | None = None, *,
              live_only: bool = False, record_idle: bool = False) -> TickResult:
    """Which programmes a tick at `as_of` advances (live ones only for a scheduled run), which live
    ones are held back because they are days behind, and which stages are due for them.

    With `record_idle`, a tick with nothing to do (no stage due, no notice waiting to leave) is
    recorded right here, in the transaction that found it idle, which holds the programmes' lock
    from its start (`TickResult.recorded`): an idle tick is one short transaction instead of three."""
    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        found = plan(session, as_of, programme, live_only=live_only, record_idle=record_idle, now=datetime.now(UTC))
    return TickResult(programmes=found.programmes, held_back=found.held_back, due=found.due, seen=found.seen,
                      recorded=found.recorded)


def finish_tick(result: TickResult, as_of: datetime, settings: Settings | None = None) -> None:
    """Record the instant the programmes were advanced to and, when a stage was due, re-plan their
    stored planned instants (`models.schedule.record_tick`)."""
    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        record_tick(session, as_of, result.programmes, seen=result.seen, replan=bool(result.due))


def deliver_now(as_of: datetime, settings: Settings | None = None) -> DeliveryReport:
    """Deliver every notice due at `as_of` through the channels the settings describe."""
    settings = settings or get_settings()
    channels, policy = from_settings(settings)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        return deliver_due(session, as_of=as_of, channels=channels, policy=policy)


def run_tick_plain(as_of: datetime, programme: str | None = None, settings: Settings | None = None, *,
                   live_only: bool = False, every_stage: bool = False) -> TickResult:
    """Every stage due at `as_of`, in order, then delivery: the tick flow's work without Prefect.
    With `every_stage`, each stage runs whether due or not (the reference the tests compare with)."""
    result = plan_tick(as_of, programme, settings, live_only=live_only, record_idle=not every_stage)
    if result.recorded:
        return result
    for each in STAGES:
        only = result.stage_programmes(each.name, every_stage=every_stage)
        result.changes[each.name] = run_one_stage(each.name, as_of, programme, settings, only) if only else 0
    result.delivery = deliver_now(as_of, settings)
    finish_tick(result, as_of, settings)
    return result


@runtime_checkable  # a flow parameter's type: Prefect builds its schema, which needs isinstance
class ReplayScript(Protocol):
    """What a replay plays between its ticks (the shell's scripted cast, `transitions.demo_script`)."""

    def next_at(self) -> datetime | None:
        """The instant (UTC) of the script's next action, None when it has none left."""

    def play(self, instant: datetime) -> None:
        """Carry out every action due at `instant`, before the tick at that instant."""

    def ticked(self, instant: datetime, result: TickResult) -> None:
        """Called after the tick at `instant`: actions may follow from what it did (a pilot that
        started), progress may be shown."""


@dataclass(frozen=True)
class Replayed:
    """What a replay did: how many ticks ran, and the last instant (UTC; the start if none ran)."""

    ticks: int
    last: datetime


def replay_ticks(script: ReplayScript, start: datetime,
                 tick: Callable[[datetime], TickResult] = run_tick_plain,
                 settings: Settings | None = None) -> Replayed:
    """Drive the programmes from `start` (UTC) through simulated time: at each instant, the earlier
    of the next planned one (`models.schedule.next_due`) and the script's next action, play the
    script's actions, then `tick` there; until neither has anything planned. The replay flow
    (`flows/replay.py`) passes its tick task; the tests' replays (`transitions.demo.run_demo(…,
    tick=run_tick_plain)`) pass plain ticks. A script with an `until` instant (not None) stops the
    replay there: nothing after it is played, and a last tick at `until` leaves the programme as it
    stands then (`transitions demo --until`)."""
    url = (settings or get_settings()).database_url
    until: datetime | None = getattr(script, "until", None)
    current, ticks = start, 0
    while True:
        with session_scope(url) as session:
            due = next_due(session, current)
        planned = [x for x in (due, script.next_at()) if x is not None]
        if not planned or (until is not None and min(planned) > until):
            if planned and until is not None and current < until:  # the programme as it stands at `until`
                current = until
                result = tick(current)
                ticks += 1
                script.ticked(current, result)
            return Replayed(ticks, current)
        current = min(planned)
        script.play(current)
        result = tick(current)
        ticks += 1
        script.ticked(current, result)


def remind_attendance(as_of: datetime, programme: str | None = None, settings: Settings | None = None) -> int:
    """Remind the Cerdd's manager of sessions ended a day ago or more with no attendance recorded
    (`models.training.attendance_reminders`), each programme locked; returns how many sessions
    were reminded of for the first time."""
    from models.context import all_ctx
    from models.training import attendance_reminders

    settings = settings or get_settings()
    with session_scope(settings.database_url) as session:
        return sum(attendance_reminders(ctx, as_of)
                   for ctx in all_ctx(session, lock=True, renderer=render_notice, linker=portal_linker())
                   if programme in (None, ctx.programme.slug))


@dataclass(frozen=True)
class EndedSession:
    """A session that ended since its programme's last tick, as an event announces it."""

    id: int
    title: str
    pilot: str
    ends_at: datetime
    programme: str


def sessions_ended(until: datetime, programmes: list[str], settings: Settings | None = None) -> list[EndedSession]:
    """The sessions of the live programmes among `programmes` that ended after their programme's
    last tick and by `until` (call it before the tick is recorded)."""
    from models.context import all_ctx
    from models.tables import Pilot, ProgrammeMode
    from models.training import ended_between

    settings = settings or get_settings()
    found: list[EndedSession] = []
    with session_scope(settings.database_url) as session:
        for ctx in all_ctx(session):
            if ctx.programme.slug not in programmes or ctx.programme.mode != ProgrammeMode.LIVE:
                continue
            for training_session in ended_between(ctx, ctx.programme.last_tick_at, until):
                pilot = session.get(Pilot, training_session.pilot_id)
                found.append(EndedSession(training_session.id or 0, training_session.title, pilot.name if pilot else "",
                                          training_session.ends_at, ctx.programme.slug))
    return found
