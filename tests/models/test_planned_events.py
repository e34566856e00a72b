"""The planned instants kept as rows (`PlannedEvent`): a tick that ran something rewrites them from
the stages' `planned` functions, and what the tick, `next_due`, the agenda and `runnable` read
from them is what planning the programme again would give."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, col, func, select

from bench.national import KICKOFF, build, epci_siren
from config.settings import get_settings, reset_settings
from flows.plain import TickResult, run_tick_plain
from models import deliverables, pilots, training, withdrawal
from models.clock import parse_instant
from models.context import all_ctx
from models.db import dispose_engines, session_scope
from models.schedule import MAX_BACKLOG, STAGES, agenda, audit_mark, due_stages, next_due, planned_by_stages, runnable
from models.stages import AGENDA, StageName
from models.tables import Notice, NoticeStatus, PlannedEvent, Programme
from tests.conftest import ctx_of
from transitions.demo import run_demo


def _rows(session: Session) -> set[tuple[str, datetime]]:
    return {(stage, at) for stage, at in session.exec(select(PlannedEvent.stage, PlannedEvent.due_at)).all()}


def _planned_after(session: Session, after: datetime) -> set[tuple[str, datetime]]:
    """What the stages' `planned` functions give now, after `after` (the reference)."""
    return {(name.value, at) for ctx in all_ctx(session) for name, at in planned_by_stages(ctx) if at > after}


def _current(session: Session) -> bool:
    programme = session.exec(select(Programme)).one()
    return programme.audit_seen is not None and programme.audit_seen >= audit_mark(session)


def _next_due_by_planning(session: Session, after: datetime) -> datetime | None:
    later = [at for _, at in _planned_after(session, after)]
    waiting = session.exec(select(func.min(col(Notice.deliver_after))).where(
        Notice.status == NoticeStatus.PENDING, Notice.deliver_after > after)).one()
    later += [waiting] if waiting is not None else []
    return min(later) if later else None


def _agenda_by_planning(session: Session, after: datetime, limit: int) -> list[tuple[datetime, str, str]]:
    found: dict[tuple[datetime, str], list[str]] = {}
    for ctx in all_ctx(session):
        for each in STAGES:
            for at in each.planned(ctx):
                names = found.setdefault((at, ctx.programme.slug), [])
                if at > after and AGENDA[each.name] not in names:
                    names.append(AGENDA[each.name])
    return [(at, slug, ", ".join(names)) for (at, slug), names in sorted(found.items()) if names][:limit]


def test_a_tick_writes_the_planned_instants_and_a_fact_replans_at_the_next_tick(db_url: str) -> None:
    build(db_url, 3, until=KICKOFF)
    first = KICKOFF + timedelta(days=1)
    with session_scope(db_url) as session:
        assert _rows(session) == set()  # never ticked: nothing stored, everything planned
        assert next_due(session, first) == _next_due_by_planning(session, first)
    run_tick_plain(first)
    with session_scope(db_url) as session:
        written = _rows(session)
        assert written == _planned_after(session, first)
        assert {stage for stage, _ in written} >= {StageName.PHASES, StageName.SESSIONS, StageName.DELIVERABLES,
                                                  StageName.CLOSING}
        assert session.exec(select(Programme.next_due_at)).one() == min(at for _, at in written)
    settled = run_tick_plain(first)  # a full tick after the kick-off's changes: nothing left to do
    assert not settled.changed
    with session_scope(db_url) as session:
        assert _current(session) and due_stages(session, first, ["national"]) == {}

    postponed_to = parse_instant("2015-10-20T18:00")
    moved_to = parse_instant("2015-10-22T14:00")
    with session_scope(db_url) as session:
        ctx = ctx_of(session)
        pilot = pilots.find_pilot(ctx, epci_siren(1))
        deliverable = deliverables.find_deliverable(ctx, pilot, "diagnostic")
        deliverables.postpone(ctx, deliverable, to=postponed_to, reason="Entretiens décalés", at=first)
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, epci_siren(2)), "formation-2")
        training.reschedule(ctx, training_session, to=moved_to, reason="Salle indisponible", at=first)
        new_series = ({(StageName.DELIVERABLES.value, p.at) for p in deliverables.series(ctx, deliverable)}
                      | {(StageName.SESSIONS.value, p.at) for p in training.series(ctx, training_session)})
    with session_scope(db_url) as session:
        assert _rows(session) == written  # recording a fact plans nothing…
        assert not new_series <= written
        assert list(due_stages(session, first, ["national"])) == list(StageName)  # …the next tick runs all
        assert next_due(session, first) == _next_due_by_planning(session, first)
    second = first + timedelta(days=2)
    run_tick_plain(second)
    with session_scope(db_url) as session:
        rewritten = _rows(session)
        assert rewritten == _planned_after(session, second)
        assert {row for row in new_series if row[1] > second} <= rewritten
        assert min(at for _, at in rewritten) > second


def test_the_tick_finds_the_due_stages_from_the_rows(db_url: str) -> None:
    build(db_url, 3, until=KICKOFF)
    run_tick_plain(KICKOFF)
    run_tick_plain(KICKOFF)
    with session_scope(db_url) as session:
        assert _current(session)
        rows = sorted((at, stage) for stage, at in _rows(session))
        after = next_due(session, KICKOFF)
        assert after == _next_due_by_planning(session, KICKOFF)
        expected = {stage for at, stage in rows if KICKOFF < at <= after}
        due = due_stages(session, after, ["national"])
        assert {name.value for name in due} == expected and due  # only the stages planned in the window
        assert due_stages(session, after - timedelta(seconds=1), ["national"]) == {}


def test_runnable_holds_back_a_live_programme_days_behind_with_work_in_between(sqlite_url: str) -> None:
    build(sqlite_url, 2, until=KICKOFF)
    run_tick_plain(KICKOFF)
    run_tick_plain(KICKOFF)
    with session_scope(sqlite_url) as session:
        assert _current(session)
        first = min(at for _, at in _rows(session))
        assert first > KICKOFF + MAX_BACKLOG  # the generated programme's first instant after the kick-off
        assert runnable(session, first - timedelta(seconds=1), live_only=True) == (["national"], [])  # nothing missed
        late = first
        assert runnable(session, late, live_only=True) == ([], [("national", KICKOFF)])
        assert runnable(session, late, live_only=False) == (["national"], [])
        programme = session.exec(select(Programme)).one()
        programme.audit_seen = None  # rows not current: the same answer from planning
        session.add(programme)
        session.flush()
        assert runnable(session, late, live_only=True) == ([], [("national", KICKOFF)])


@pytest.mark.slow
def test_the_2015_replay_reads_from_the_rows_what_planning_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At every instant of the 2015 replay, ticked until nothing changes: the rows are the planned
    instants after the tick, and `next_due` and the agenda at several instants after it read from
    them the same answer as planning the programme again."""
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME"):
        monkeypatch.setenv(key, "placeholder")
    checked: list[datetime] = []

    def tick_and_compare(instant: datetime) -> TickResult:
        url = get_settings().database_url
        result = run_tick_plain(instant)
        for _ in range(3):  # a tick that changed facts: the next one at the same instant settles them
            with session_scope(url) as session:
                if _current(session):
                    break
            run_tick_plain(instant)
        with session_scope(url) as session:
            assert _current(session)
            assert _rows(session) == _planned_after(session, instant), instant
            for after in (instant, instant + timedelta(hours=1), instant + timedelta(days=3),
                          instant + timedelta(days=30)):
                assert next_due(session, after) == _next_due_by_planning(session, after), (instant, after)
                # A replay's own agenda (not only live ones'): its mode left as it is, since a stage's plan may
                # depend on it (the purge plans nothing for a replay).
                assert [(d.at, d.programme, d.what) for d in agenda(session, after, limit=5, live_only=False)] == \
                    _agenda_by_planning(session, after, 5), (instant, after)
            session.rollback()
        checked.append(instant)
        return result

    run_demo(tmp_path / "demo", Console(file=io.StringIO()), tick=tick_and_compare)
    dispose_engines()
    reset_settings()
    assert len(checked) > 70


def test_an_existing_database_fills_its_rows_at_its_next_tick(loaded: str) -> None:
    """Migration 0010 forgets what the last tick saw: the next tick runs every stage and writes the rows."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from models.db import MIGRATIONS_DIR, get_engine

    launch = parse_instant("2015-04-02T09:00")
    run_tick_plain(launch)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(loaded)
    command.downgrade(config, "0009")
    with get_engine(loaded).begin() as connection:  # as a tick of the code before 0010 left it
        connection.execute(text("UPDATE programme SET audit_seen = (SELECT max(id) FROM auditentry)"))
    command.upgrade(config, "head")
    with session_scope(loaded) as session:
        assert _rows(session) == set() and not _current(session)
        assert list(due_stages(session, launch, ["cerdd-2015"])) == list(StageName)
        assert next_due(session, launch) == _next_due_by_planning(session, launch)
    run_tick_plain(launch)
    with session_scope(loaded) as session:
        assert _current(session) and _rows(session) == _planned_after(session, launch) != set()


def _tick_with_a_fact_in_between(url: str, fact: bool) -> datetime:
    """A tick whose stages run while another process records a fact (or not): planned from `plan_tick`,
    the fact committed, then the stages and `finish_tick`. Returns the tick's instant."""
    from flows.plain import finish_tick, plan_tick, run_one_stage

    settled = parse_instant("2015-06-05T10:00")
    run_tick_plain(settled)
    with session_scope(url) as session:
        assert _current(session)
        instant = session.exec(select(func.min(PlannedEvent.due_at))).one()
    assert instant is not None
    result = plan_tick(instant, record_idle=True)
    assert result.due and not result.recorded  # a stage runs: the rows were current when it began
    if fact:
        with session_scope(url) as session:  # `transitions withdraw` in another process
            ctx = ctx_of(session)
            for pilot in pilots.pilots(ctx):  # no charter awaits signatures any more
                withdrawal.withdraw(ctx, pilot, reason="Élections", at=instant)
    for each in STAGES:
        only = result.stage_programmes(each.name, every_stage=False)
        if only:
            run_one_stage(each.name, instant, only=only)
    finish_tick(result, instant)
    return instant


@pytest.mark.parametrize("fact", [False, True])
def test_a_tick_keeps_its_rows_only_when_no_fact_was_recorded_meanwhile(selected: str, fact: bool) -> None:
    """`record_tick` keeps the rows of a programme whose facts did not change during the tick (what
    `write_plan` would write), and plans them again when a fact was recorded while its stages ran."""
    instant = _tick_with_a_fact_in_between(selected, fact)
    with session_scope(selected) as session:
        assert _rows(session) == _planned_after(session, instant)
