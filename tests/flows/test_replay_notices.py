"""The whole 2015 replay, checked as the people receiving it would: no notice (but the receipt of
one's own submission) leaves on a weekend, a French public holiday or outside sending hours, and
every header of every message reads back, with the standard library, exactly as it was rendered."""

from __future__ import annotations

import email
import io
from collections import Counter
from datetime import date, time
from email import policy
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select

from config.settings import get_settings, reset_settings
from flows.plain import run_tick_plain
from models.addresses import header_text
from models.clock import paris
from models.db import dispose_engines, session_scope
from models.tables import Notice
from transitions.demo import run_demo

FRENCH_HOLIDAYS = {  # written out by hand from the official calendar, not computed by `holidays`
    date(2015, 1, 1), date(2015, 4, 6), date(2015, 5, 1), date(2015, 5, 8), date(2015, 5, 14),
    date(2015, 5, 25), date(2015, 7, 14), date(2015, 8, 15), date(2015, 11, 1), date(2015, 11, 11),
    date(2015, 12, 25),
    date(2016, 1, 1), date(2016, 3, 28), date(2016, 5, 1), date(2016, 5, 5), date(2016, 5, 8),
    date(2016, 5, 16), date(2016, 7, 14), date(2016, 8, 15), date(2016, 11, 1), date(2016, 11, 11),
    date(2016, 12, 25),
}


def _working(day: date) -> bool:
    return day.weekday() < 5 and day not in FRENCH_HOLIDAYS


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Notice], Path]:
    monkeypatch = pytest.MonkeyPatch()
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME"):
        monkeypatch.setenv(key, "placeholder")
    out = tmp_path_factory.mktemp("replay") / "demo"
    try:
        run_demo(out, Console(file=io.StringIO()), tick=run_tick_plain)
        with session_scope(get_settings().database_url) as session:
            notices = list(session.exec(select(Notice).order_by(Notice.id)).all())  # type: ignore[arg-type]
            session.expunge_all()
    finally:
        dispose_engines()
        monkeypatch.undo()
        reset_settings()
    return notices, out / "outbox"


def test_no_notice_of_any_kind_leaves_on_a_weekend_a_holiday_or_after_hours(
        replay: tuple[list[Notice], Path]) -> None:
    notices, _ = replay
    assert Counter(n.status for n in notices)["en_attente"] == 0
    sent = [n for n in notices if n.status == "envoye"]
    assert len(sent) > 150
    wrong = [(n.id, n.kind, paris(n.sent_at).isoformat()) for n in sent
             if n.kind != "accuse_reception" and n.sent_at is not None
             and not (_working(paris(n.sent_at).date()) and time(8) <= paris(n.sent_at).time() < time(18))]
    assert wrong == []
    kinds = {n.kind for n in sent}
    assert {"debut_phase", "jalon_atteint", "rappel_session", "rappel_livrable"} <= kinds


def test_every_header_of_every_message_reads_back_as_rendered(replay: tuple[list[Notice], Path]) -> None:
    notices, outbox = replay
    by_id = {n.message_id: n for n in notices}
    digests: dict[str, list[Notice]] = {}
    for n in notices:
        if n.digest_id:
            digests.setdefault(n.digest_id, []).append(n)
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == len(by_id) - sum(len(g) for g in digests.values()) + len(digests)
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message["Auto-Submitted"] == "auto-generated"
        (sender,) = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("Cerdd - Transitions", "transitions@cerdd.org")
        (to,) = message["To"].addresses
        identity = str(message["Message-ID"])
        if identity in digests:
            group = digests[identity]
            first = group[0]
            assert str(message["Subject"]).startswith(f"Vos {len(group)} avis du ")
            assert "  " not in str(message["Subject"])
        else:
            first = by_id[identity]
            assert str(message["Subject"]) == first.subject
        assert to.addr_spec == first.recipient_email
        assert to.display_name == header_text(first.recipient_name)
