"""The whole 2015 replay, driven by the domain functions alone, ticking twice at every instant:
the second tick must change nothing and send nothing."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, func, select

from models.db import dispose_engines, get_engine, session_scope
from models.schedule import STAGES, run_stage
from models.tables import AuditEntry, Notice, Programme
from notifications.deliver import deliver_due
from transitions.demo import run_demo
from transitions.settings import get_settings, reset_settings


def test_every_tick_of_the_replay_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME"):
        monkeypatch.setenv(key, "placeholder")
    second_runs: list[tuple[datetime, int, int, int]] = []

    def counts(url: str) -> tuple[int, int]:
        with session_scope(url) as session:
            return (session.exec(select(func.count()).select_from(Notice)).one(),
                    session.exec(select(func.count()).select_from(AuditEntry)).one())

    def tick_twice(instant: datetime) -> None:
        url = get_settings().database_url
        for attempt in (1, 2):
            before = counts(url)
            changes = 0
            for stage in STAGES:
                with session_scope(url) as session:
                    changes += run_stage(session, stage, instant)
            with Session(get_engine(url), expire_on_commit=False) as session:
                sent = deliver_due(session, as_of=instant, settings=get_settings()).sent
            if attempt == 2:
                second_runs.append((instant, changes, sent, counts(url) != before))

    run_demo(tmp_path / "demo", Console(file=io.StringIO()), tick=tick_twice)
    url = get_settings().database_url
    with session_scope(url) as session:
        assert session.exec(select(Programme.state)).one() == "termine"
    dispose_engines()
    reset_settings()
    assert len(second_runs) > 70
    assert [run for run in second_runs if run[1:] != (0, 0, False)] == []
