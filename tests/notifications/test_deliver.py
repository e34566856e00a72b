"""Outbox delivery: outcomes recorded per notice, retries later, dead letters, expired leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from models import delivery
from models.call import launch_call
from models.db import get_engine, session_scope
from models.tables import Notice
from notifications.channels import DeliveryError
from notifications.deliver import DeliveryReport, deliver_due
from notifications.routing import Channels
from tests.conftest import at, ctx_of, open_call

LAUNCH = at("2015-04-02T09:00")


class Flaky:
    """A channel that fails the first `failures` hand-overs, then accepts."""

    name = "flaky"

    def __init__(self, failures: int, permanent: bool = False) -> None:
        self.failures, self.permanent = failures, permanent
        self.sent: list[str] = []

    def send(self, notice: Notice) -> None:
        if self.failures:
            self.failures -= 1
            raise DeliveryError("421 service indisponible", permanent=self.permanent)
        self.sent.append(notice.message_id)

    def close(self) -> None:
        return None




def _deliver(url: str, channel: Flaky, as_of: datetime) -> DeliveryReport:
    with Session(get_engine(url), expire_on_commit=False) as session:
        return deliver_due(session, as_of=as_of, channels=Channels.single(channel))


def test_temporary_failure_is_retried_later_then_sent(loaded: str) -> None:
    open_call(loaded)
    channel = Flaky(failures=3)
    report = _deliver(loaded, channel, LAUNCH)
    assert (report.sent, report.failed, report.dead) == (0, 3, 0)
    with session_scope(loaded) as session:
        pending = session.exec(select(Notice)).all()
    assert all(n.status == "en_attente" and n.attempts == 1 and n.deliver_after > LAUNCH for n in pending)
    assert _deliver(loaded, channel, LAUNCH).sent == 0  # not before its retry time
    later = _deliver(loaded, channel, LAUNCH + timedelta(hours=1))
    assert later.sent == 3 and len(set(channel.sent)) == 3


def test_permanent_failure_is_dead_lettered_at_once(loaded: str) -> None:
    open_call(loaded)
    report = _deliver(loaded, Flaky(failures=1, permanent=True), LAUNCH)
    assert (report.sent, report.dead) == (3, 1)  # the two others, and the alert to the manager
    with session_scope(loaded) as session:
        dead = session.exec(select(Notice).where(Notice.status == "abandonne")).one()
        alert = session.exec(select(Notice).where(Notice.kind == "avis_abandonne")).one()
    assert dead.last_error == "421 service indisponible"
    assert (alert.recipient_email, alert.status) == ("aboutonne@cerdd.org", "envoye")
    assert f"transitions outbox retry {dead.id}" in alert.body_text


def test_a_deliverer_that_died_mid_batch_is_relieved_when_its_lease_expires(loaded: str) -> None:
    open_call(loaded)
    now = datetime.now(UTC)
    with Session(get_engine(loaded), expire_on_commit=False) as session:
        claimed = delivery.claim(session, as_of=LAUNCH, now=now, limit=10, lease=timedelta(minutes=5))
        assert len(claimed) == 3
        # The deliverer "dies" here: nothing recorded. Another one finds nothing while the lease holds.
        assert delivery.claim(session, as_of=LAUNCH, now=now + timedelta(minutes=1), limit=10,
                            lease=timedelta(minutes=5)) == []
        again = delivery.claim(session, as_of=LAUNCH, now=now + timedelta(minutes=6), limit=10,
                             lease=timedelta(minutes=5))
    assert [n.message_id for n in again] == [n.message_id for n in claimed]  # same Message-ID


def test_reminders_to_one_person_on_one_day_travel_as_one_digest(loaded: str) -> None:
    from models.notices import NoticeKind, Recipient

    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        person = Recipient("cheffe@prestataire.example.org", "Cheffe")
        for key in ("a", "b"):
            ctx.notify(NoticeKind.DEADLINE_REMINDER,
                    recipients=[person], key=key,
                    context={"intention": {"name": f"EPCI {key}"}, "appel": ctx.definition.call}, at=LAUNCH)
        launch_call(ctx, LAUNCH)  # not digestible: goes alone
    channel = Flaky(failures=0)
    report = _deliver(loaded, channel, LAUNCH)
    assert (report.sent, report.messages) == (5, 4)  # 3 launch notices + 1 digest carrying 2 reminders
    with session_scope(loaded) as session:
        reminders = session.exec(select(Notice).where(Notice.kind == "rappel_date_limite")).all()
    digest_ids = {n.digest_id for n in reminders}
    assert len(digest_ids) == 1 and digest_ids <= set(channel.sent)
    assert all(n.status == "envoye" for n in reminders)
