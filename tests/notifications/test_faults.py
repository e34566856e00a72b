"""Delivery against real servers on loopback, and what happens when they fail.

After every fault, each notice ends delivered or dead-lettered: never lost, never silently doubled.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from config.settings import get_settings, reset_settings
from models import delivery
from models.call import launch_call
from models.db import session_scope
from models.notices import NoticeKind, Recipient
from notifications import deliver as deliver_module
from notifications.deliver import DeliveryReport
from notifications.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature
from tests.conftest import at, ctx_of, open_call
from tests.guards import join_or_fail
from tests.notifications.outbox_helpers import all_notices as _notices
from tests.notifications.outbox_helpers import deliver as _deliver
from tests.notifications.servers import HttpSink, SmtpSink, free_port, http_server, silent_server, smtp_server

LAUNCH = at("2015-04-02T09:00")
LATER = LAUNCH + timedelta(days=1)  # Friday 3 April 2015, a working day


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()


def _smtp(monkeypatch: pytest.MonkeyPatch, port: int, timeout: str = "2") -> None:
    _use(monkeypatch, NOTICE_CHANNEL="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TIMEOUT=timeout)


def test_smtp_delivers_a_batch_over_one_connection(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = SmtpSink()
    open_call(loaded)
    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        report = _deliver(loaded)
    assert report.sent == 3 and sink.connections == 1
    assert sorted(sink.message_ids()) == sorted(n.message_id for n in _notices(loaded))
    message = sink.received[0]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "Appel à candidature ouvert" in str(message["Subject"])


def test_refused_connection_is_retried_until_the_server_is_back(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_call(loaded)
    port = free_port()
    _smtp(monkeypatch, port)
    report = _deliver(loaded)
    assert (report.sent, report.failed, report.deferred, report.dead) == (0, 1, 2, 0)  # one try, not three
    assert "smtp" in report.channels_down
    assert all(n.status == "en_attente" and "injoignable" in (n.last_error or "") for n in _notices(loaded))
    assert sorted(n.attempts for n in _notices(loaded)) == [0, 0, 1]
    sink = SmtpSink()
    with smtp_server(sink, port):
        assert _deliver(loaded, LATER).sent == 3
    assert all(n.status == "envoye" for n in _notices(loaded))
    assert len(set(sink.message_ids())) == 3


def test_smtp_4xx_is_retried_and_5xx_is_dead_lettered(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_call(loaded)
    sink = SmtpSink(replies=["451 4.3.0 Reessayez plus tard", "550 5.1.1 Boite inconnue"])
    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        first = _deliver(loaded)
        assert (first.sent, first.failed, first.dead) == (2, 2, 1)  # 1 sent + the manager's alert
        second = _deliver(loaded, LATER)
        assert second.sent == 1
    notices = _notices(loaded)
    statuses = Counter(n.status for n in notices)
    assert statuses == {"envoye": 3, "abandonne": 1}
    dead = next(n for n in notices if n.status == "abandonne")
    assert "550" in (dead.last_error or "")
    alert = next(n for n in notices if n.kind == "avis_abandonne")
    assert alert.recipient_email == "aboutonne@cerdd.org" and alert.status == "envoye"
    assert len(sink.message_ids()) == len(set(sink.message_ids())) == 3


def test_a_hung_smtp_server_times_out_and_nothing_is_lost(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_call(loaded)
    with silent_server() as port:
        _smtp(monkeypatch, port, timeout="0.3")
        report = _deliver(loaded)
    assert (report.sent, report.failed, report.deferred) == (0, 1, 2)  # one timeout, not three
    assert all(n.status == "en_attente" and n.claimed_until is None for n in _notices(loaded))


def test_a_crash_between_sending_and_recording_resends_with_the_same_message_id(
        loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_call(loaded)
    sink = SmtpSink()
    real_record_sent = delivery.record_sent

    def die(*args: object, **kwargs: object) -> None:
        raise SystemExit("processus tué entre l'envoi et l'enregistrement")

    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        monkeypatch.setattr(delivery, "record_sent", die)
        with pytest.raises(SystemExit):
            _deliver(loaded, lease=timedelta(0))
        # Accepted by the server, never recorded (the three outcomes are written in one commit).
        assert len(sink.received) == 3 and all(n.status == "en_attente" for n in _notices(loaded))
        monkeypatch.setattr(delivery, "record_sent", real_record_sent)
        assert _deliver(loaded, LATER).sent == 3
    ids = sink.message_ids()
    assert len(ids) == 6 and len(set(ids)) == 3  # each one detectable duplicate, same Message-ID
    assert all(n.status == "envoye" for n in _notices(loaded))


@pytest.mark.parametrize("bound", [{"RECORD_WITHIN": 0.0}, {"RECORD_WITHIN": 3600.0, "RECORD_EVERY": 1}],
                         ids=["par-seconde", "par-message"])
def test_a_crash_resends_only_what_was_not_recorded_yet(loaded: str, monkeypatch: pytest.MonkeyPatch,
                                                        bound: dict[str, float]) -> None:
    open_call(loaded)
    sink = SmtpSink()
    real_record_sent = delivery.record_sent
    records: list[int] = []

    def die_at_the_second(*args: object, **kwargs: object) -> None:
        records.append(1)
        if len(records) >= 2:  # killed: nothing is recorded any more
            raise SystemExit("processus tué entre l'envoi et l'enregistrement")
        real_record_sent(*args, **kwargs)  # type: ignore[arg-type]

    for name, value in bound.items():  # a commit after each message, by time or by count
        monkeypatch.setattr(deliver_module, name, value)
    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        monkeypatch.setattr(delivery, "record_sent", die_at_the_second)
        with pytest.raises(SystemExit):
            _deliver(loaded, lease=timedelta(0))
        first, second = sink.message_ids()
        assert Counter(n.status for n in _notices(loaded)) == {"envoye": 1, "en_attente": 2}
        monkeypatch.setattr(delivery, "record_sent", real_record_sent)
        assert _deliver(loaded, LATER).sent == 2
    ids = sink.message_ids()
    assert len(ids) == 4 and ids.count(second) == 2 and ids.count(first) == 1  # only the unrecorded one again
    assert all(n.status == "envoye" for n in _notices(loaded))


def test_a_refused_message_among_accepted_ones_is_never_recorded_as_sent(
        loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_call(loaded)

    @dataclass
    class RefusesTheSecond(SmtpSink):
        seen: int = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.seen += 1
            if self.seen == 2:
                return "550 5.1.1 Boite inconnue"
            return await super().handle_DATA(server, session, envelope)

    sink = RefusesTheSecond()
    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        report = _deliver(loaded)
    assert (report.sent, report.dead) == (3, 1)  # two of the three, then the manager's alert
    notices = _notices(loaded)
    refused = [n for n in notices if n.status == "abandonne"]
    assert len(refused) == 1 and refused[0].sent_at is None and "550" in (refused[0].last_error or "")
    assert refused[0].message_id not in sink.message_ids()
    assert sorted(n.message_id for n in notices if n.status == "envoye") == sorted(sink.message_ids())


def test_webhook_is_signed_and_carries_an_idempotency_key(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_call(loaded)
    sink = HttpSink()
    with http_server(sink) as url:
        _use(monkeypatch, NOTICE_CHANNEL="webhook", WEBHOOK_URL=url, WEBHOOK_SECRET="s3cret-partage")
        assert _deliver(loaded).sent == 3
    notices = {n.message_id: n for n in _notices(loaded)}
    for headers, body in sink.requests:
        assert headers[SIGNATURE_HEADER] == signature("s3cret-partage", body)
        assert headers[IDEMPOTENCY_HEADER] in notices
    assert {b["kind"] for b in sink.bodies()} == {"appel_lance"}


def test_webhook_5xx_and_timeouts_are_retried_4xx_is_dead(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_call(loaded)
    sink = HttpSink(statuses=[503, 400])
    with http_server(sink) as url:
        _use(monkeypatch, NOTICE_CHANNEL="webhook", WEBHOOK_URL=url, WEBHOOK_TIMEOUT="0.5",
             NOTICE_ROUTES='{"aboutonne@cerdd.org": "file"}', OUTBOX_DIR=str(get_settings().outbox_dir))
        first = _deliver(loaded)
        assert (first.failed, first.dead) == (2, 1)
        sink.hold()  # answers nothing until released: the 0.5 s timeout fires whatever the load
        assert _deliver(loaded, LATER).failed == 1  # timed out: still waiting
        sink.release()
        assert _deliver(loaded, LATER + timedelta(days=1)).sent == 1
    statuses = Counter(n.status for n in _notices(loaded))
    assert statuses == {"envoye": 3, "abandonne": 1}


def test_two_deliverers_at_once_send_each_notice_once(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for index in range(120):
            ctx.notify(NoticeKind.CALL_LAUNCHED,
                    recipients=[Recipient(f"epci{index}@example.org", f"EPCI {index}")], key=f"lot-{index}",
                    context={}, at=LAUNCH)
    sink = SmtpSink()
    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        monkeypatch.setenv("DELIVERY_BATCH_SIZE", "10")
        reset_settings()
        reports: list[DeliveryReport] = []
        threads = [threading.Thread(target=lambda: reports.append(_deliver(loaded))) for _ in range(2)]
        for thread in threads:
            thread.start()
        join_or_fail(threads, "deux envois simultanés")
    ids = sink.message_ids()
    assert len(ids) == 120 and len(set(ids)) == 120
    assert sum(r.sent for r in reports) == 120 and all(r.sent > 0 for r in reports)
    assert all(n.status == "envoye" for n in _notices(loaded))


def test_starttls_and_login_with_a_secret_that_never_shows(loaded: str, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ssl

    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"mot-de-passe-secret")

    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=server_context,
                            require_starttls=True, authenticator=authenticate, auth_require_tls=True)
    controller.start()
    try:
        open_call(loaded)
        _use(monkeypatch, NOTICE_CHANNEL="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="true",
             SMTP_USER="transitions", SMTP_PASSWORD="mot-de-passe-secret", SMTP_CA_FILE=str(ca_file))
        assert _deliver(loaded).sent == 3
        _use(monkeypatch, SMTP_PASSWORD="mauvais-secret", SMTP_TIMEOUT="1")
        with session_scope(loaded) as session:
            launch_call(ctx_of(session), LATER)  # nothing new: already launched
            ctx_of(session).notify(NoticeKind.CALL_LAUNCHED, recipients=[Recipient("x@example.org", "X")], key="auth",
                    context={}, at=LATER)
        report = _deliver(loaded, LATER)
    finally:
        controller.stop()
    assert report.failed == 1
    assert logins[0] == (b"transitions", b"mot-de-passe-secret")
    failed = next(n for n in _notices(loaded) if n.status == "en_attente")  # kept for a retry
    assert failed.last_error and "mauvais-secret" not in failed.last_error
    assert "mauvais-secret" not in repr(get_settings())
    assert len(sink.received) == 3
