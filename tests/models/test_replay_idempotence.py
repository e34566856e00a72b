"""The whole 2015 replay, driven by the domain functions alone, ticking twice at every instant:
the second tick must change nothing and send nothing."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import func, select

from config.settings import get_settings, reset_settings
from flows.plain import TickResult, run_tick_plain
from models.db import dispose_engines, session_scope
from models.tables import AuditEntry, Notice, Programme
from transitions.demo import run_demo

pytestmark = pytest.mark.slow  # the whole replay, ticked twice


def test_every_tick_of_the_replay_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME"):
        monkeypatch.setenv(key, "placeholder")
    second_runs: list[tuple[datetime, int, int, int]] = []

    def counts(url: str) -> tuple[int, int]:
        with session_scope(url) as session:
            return (session.exec(select(func.count()).select_from(Notice)).one(),
                    session.exec(select(func.count()).select_from(AuditEntry)).one())

    def tick_twice(instant: datetime) -> TickResult:
        url = get_settings().database_url
        first = run_tick_plain(instant)
        before = counts(url)
        second = run_tick_plain(instant)
        second_runs.append((instant, sum(second.changes.values()), second.delivery.sent, counts(url) != before))
        return first

    run_demo(tmp_path / "demo", Console(file=io.StringIO()), tick=tick_twice)
    url = get_settings().database_url
    with session_scope(url) as session:
        assert session.exec(select(Programme.state)).one() == "termine"
    dispose_engines()
    reset_settings()
    assert len(second_runs) > 70
    assert [run for run in second_runs if run[1:] != (0, 0, False)] == []
