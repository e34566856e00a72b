"""The 2015 replay, run once without Prefect, for the report, export and list tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from config.settings import reset_settings
from flows.plain import run_tick_plain
from models.db import dispose_engines
from transitions.demo import run_demo


def console_text(out: Path) -> Path:
    """Where the shared replay's console output is kept, beside (not in) its folder."""
    return out.with_name(out.name + "-console.txt")


@pytest.fixture(scope="session")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The replay's folder and database URL (about 10 s, once per test session)."""
    out = tmp_path_factory.mktemp("rejeu")
    mp = pytest.MonkeyPatch()
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME", "DATA_DIR"):
        mp.setenv(key, "placeholder")  # restored afterwards, whatever the demo sets
    console = Console(file=io.StringIO(), width=200)
    run_demo(out, console, tick=run_tick_plain)
    console_text(out).write_text(console.file.getvalue(), encoding="utf-8")  # type: ignore[attr-defined]
    dispose_engines()
    mp.undo()
    reset_settings()
    yield out, f"sqlite:///{out / 'transitions.db'}"
    dispose_engines()
