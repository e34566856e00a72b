"""Every message of the 2015 replay is dated (`Date:`) with the instant it left, not the instant
its notice was planned: none but acknowledgements (which leave at once, any day) bears a weekend
or a French public holiday."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from rich.console import Console

from config.settings import reset_settings
from flows.plain import run_tick_plain
from models.clock import WorkingCalendar, paris
from models.db import dispose_engines
from models.notices import IMMEDIATE
from transitions.demo import run_demo

pytestmark = pytest.mark.slow  # the whole replay

IMMEDIATE_KINDS = {kind.value for kind in IMMEDIATE}


def test_no_demo_message_is_dated_on_a_day_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME"):
        monkeypatch.setenv(key, "placeholder")
    run_demo(tmp_path / "demo", Console(file=io.StringIO()), tick=run_tick_plain)
    dispose_engines()
    reset_settings()
    calendar = WorkingCalendar("FR")
    dated: list[tuple[str, str]] = []
    off: list[tuple[str, str, str]] = []
    for path in sorted((tmp_path / "demo" / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        kind = str(message["X-Transitions-Kind"])
        day = paris(parsedate_to_datetime(str(message["Date"]))).date()
        dated.append((path.name, kind))
        if kind not in IMMEDIATE_KINDS and not calendar.is_working_day(day):
            off.append((path.name, kind, day.isoformat()))
    assert len(dated) > 100 and any(kind in IMMEDIATE_KINDS for _, kind in dated)
    assert off == []
