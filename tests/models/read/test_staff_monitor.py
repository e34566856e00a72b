"""What the back office's home says is held back, without HTTP (`models.read.staff_monitor`): the
programme's last tick, a live programme too far behind for the scheduled tick, the notices still
waiting an hour past their sending time and those given up, the oldest first."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from flows.plain import run_tick_plain
from models import staff
from models.db import session_scope
from models.delivery import mark_failed
from models.read.staff_monitor import LATE_AFTER, held_back
from models.tables import Notice, NoticeStatus
from tests.conftest import at, ctx_of
from tests.staff_keys import SECRET

NEWCOMER = "anne.martin@cerdd.example.org"


def _invite(url: str, when: str) -> None:
    """A member invited at `when`: an invitation notice that leaves at once, queued then."""
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), NEWCOMER, "Anne Martin", "lecture", at=at(when), by="test",
                         base_url="https://equipe.example.org",
                         secret=SECRET)


def test_a_notice_waiting_past_its_time_then_given_up_is_held_back(selected: str) -> None:
    with session_scope(selected) as session:
        before = held_back(ctx_of(session), at("2015-06-04T14:30"))
    assert before.last_tick is None and before.live and not before.behind
    assert before.late_count > 0 and len(before.late) == min(before.late_count, 5)  # never delivered so far
    assert [n.since for n in before.late] == sorted(n.since for n in before.late)

    run_tick_plain(at("2015-06-04T14:35"))  # everything due leaves
    _invite(selected, "2015-06-05T10:00")
    with session_scope(selected) as session:
        ticked = held_back(ctx_of(session), at("2015-06-05T10:30"))
        late = held_back(ctx_of(session), at("2015-06-05T10:00") + LATE_AFTER)
    assert ticked.last_tick == at("2015-06-04T14:35") and ticked.nothing  # half an hour: still on time
    assert late.late_count == 1 and late.dead_count == 0 and not late.nothing
    [notice] = late.late
    assert notice.recipient == NEWCOMER and notice.kind == "Invitation à l'espace de l'équipe" and notice.error == ""
    assert late.late_page == "/equipe/avis?etat=en_attente"

    with session_scope(selected) as session:
        row = session.exec(select(Notice).where(Notice.recipient_email == NEWCOMER)).one()
        mark_failed(session, [row], at=at("2015-06-05T11:05"), error="550 boîte inconnue", permanent=True,
                    max_age=timedelta(days=5), retry_in=timedelta(minutes=5))
    with session_scope(selected) as session:
        given_up = held_back(ctx_of(session), at("2015-06-05T12:00"))
        assert session.exec(select(Notice.status).where(Notice.recipient_email == NEWCOMER)).one() == NoticeStatus.DEAD
    assert given_up.late_count == 0 and given_up.dead_count == 1
    assert given_up.dead[0].error == "550 boîte inconnue" and given_up.dead_page == "/equipe/avis?etat=abandonne"


def test_a_live_programme_more_than_three_days_behind_is_held_back(selected: str) -> None:
    run_tick_plain(at("2015-06-04T14:35"))
    with session_scope(selected) as session:
        soon = held_back(ctx_of(session), at("2015-06-06T09:00"))
        weeks = held_back(ctx_of(session), at("2015-07-02T09:00"))  # charter reminders were due in between
    assert not soon.behind
    assert weeks.behind and weeks.live and not weeks.nothing
