"""`transitions status --at T` tells the programme as it stood at T, like the report does: its
state, the applications and pilots then, the notices sent by then, and what came next."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.context import load_ctx
from models.db import session_scope
from models.read.report_data import report_data
from models.read.status import build_status
from tests.conftest import at


@pytest.mark.parametrize("instant", ["2015-04-10T10:00", "2015-06-04T15:00", "2015-09-21T12:00", "2016-07-20T12:00"])
def test_status_and_report_agree_at_any_instant(replayed: tuple[Path, str], instant: str) -> None:
    _, url = replayed
    when = at(instant)
    with session_scope(url) as session:
        status = build_status(session, when)
        report = report_data(load_ctx(session), when)
    assert status.stage == report.stage_label
    assert [row["recepisse"] for row in status.applications] == [a.receipt for a in report.applications]
    assert [row["statut"] for row in status.applications] == [a.status_label for a in report.applications]
    assert sorted(p.pilot for p in status.progress) == sorted(v.name for v in report.pilots)
    assert sum(status.notices.values()) == sum(1 for n in report.notices if n.status == "envoye")


def test_status_before_the_last_tick_is_history(replayed: tuple[Path, str]) -> None:
    _, url = replayed
    with session_scope(url) as session:
        early = build_status(session, at("2015-04-10T10:00"))
        now = build_status(session, at("2016-07-20T12:00"))
    assert early.stage == "appel à candidature ouvert" and not early.progress
    assert early.next_due is not None and early.next_due <= at("2015-05-07T12:00")  # a reminder, or the deadline
    assert sum(early.notices.values()) < sum(now.notices.values())
    assert now.stage == "programme terminé"
