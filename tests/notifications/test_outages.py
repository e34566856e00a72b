"""Outages measured in time, channel failures counted once, settings that cannot work refused at
start, secrets never stored, notices that no longer make sense expired, digests that tell the truth."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import ValidationError
from sqlmodel import Session, select
from typer.testing import CliRunner

from config.settings import Settings, get_settings, reset_settings
from models.db import get_engine, session_scope
from models.notices import NoticeKind, Recipient
from models.tables import Notice
from notifications.deliver import DeliveryReport, deliver_due
from notifications.routing import Channels, from_settings
from tests.conftest import at, ctx_of
from tests.notifications.servers import HttpSink, SmtpSink, free_port, http_server, smtp_server

TUESDAY = at("2015-04-07T09:00")  # the day after Easter Monday


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()


def _deliver(url: str, as_of: datetime) -> DeliveryReport:
    with Session(get_engine(url), expire_on_commit=False) as session:
        channels, policy = from_settings(get_settings())
        return deliver_due(session, as_of=as_of, channels=channels, policy=policy)


def _notices(url: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).order_by(Notice.id)).all())  # type: ignore[arg-type]


def _queue(url: str, count: int, when: datetime = TUESDAY) -> None:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        for index in range(count):
            ctx.notify(NoticeKind.CALL_LAUNCHED, recipients=[Recipient(f"epci{index}@example.org", f"EPCI {index}")],
                       key=f"lot-{index}", context={}, at=when)


def test_a_three_day_smtp_outage_ends_with_every_notice_delivered(loaded: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _queue(loaded, 18)
    port = free_port()
    _use(monkeypatch, NOTICE_CHANNEL="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TIMEOUT="1")
    failures = 0
    with session_scope(loaded) as session:
        calendar = ctx_of(session).calendar
    for hour in range(72):  # down from Tuesday 09:00 to Friday 08:00, delivery every hour
        report = _deliver(loaded, TUESDAY + timedelta(hours=hour))
        assert report.sent == 0 and report.dead == 0 and report.failed <= 1  # one try per run, not 18
        failures += report.failed
        # a retry keeps the sending rules: a working day, within sending hours (never at night)
        assert all(calendar.may_send(n.deliver_after) for n in _notices(loaded) if n.attempts)
    assert 18 <= failures <= 72  # each notice tried at least once; the first backs off up to an hour
    assert all(n.status == "en_attente" for n in _notices(loaded))
    sink = SmtpSink()
    with smtp_server(sink, port):
        report = _deliver(loaded, TUESDAY + timedelta(hours=73))
    assert report.sent == 18 and sink.connections == 1
    assert sorted(sink.message_ids()) == sorted(n.message_id for n in _notices(loaded))
    assert not [n for n in _notices(loaded) if n.kind == "avis_abandonne"]  # nobody alarmed for an outage


def test_a_notice_still_failing_after_delivery_max_age_is_given_up_once(loaded: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _queue(loaded, 4)
    port = free_port()
    _use(monkeypatch, NOTICE_CHANNEL="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TIMEOUT="1",
         DELIVERY_MAX_AGE="P2D", NOTICE_ROUTES='{"aboutonne@cerdd.org": "file"}')
    assert _deliver(loaded, TUESDAY).dead == 0
    report = _deliver(loaded, TUESDAY + timedelta(days=2, hours=1))
    assert report.dead == 4 and report.failed == 1 and len(report.set_aside) == 4
    alerts = [n for n in _notices(loaded) if n.kind == "avis_abandonne"]
    assert len(alerts) == 1 and alerts[0].subject == "4 avis non remis" and alerts[0].status == "envoye"


def test_a_wrong_smtp_password_costs_one_login_per_run(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    logins: list[bytes] = []

    def authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        logins.append(auth_data.password)
        return AuthResult(success=False)

    _queue(loaded, 5)
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        _use(monkeypatch, NOTICE_CHANNEL="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port),
             SMTP_USER="transitions", SMTP_PASSWORD="mauvais-secret")
        report = _deliver(loaded, TUESDAY)
    finally:
        controller.stop()
    assert len(logins) == 1
    assert (report.sent, report.failed, report.deferred, report.dead) == (0, 1, 4, 0)
    assert "authentification SMTP refusée" in report.channels_down["smtp"]
    notices = _notices(loaded)
    assert all(n.status == "en_attente" and n.claimed_until is None for n in notices)
    assert sum(n.attempts for n in notices) == 1
    assert not any("mauvais-secret" in (n.last_error or "") for n in notices)


def test_a_ca_file_does_not_matter_to_plain_smtp(loaded: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import trustme

    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    _queue(loaded, 2)
    sink = SmtpSink()
    with smtp_server(sink) as port:
        _use(monkeypatch, NOTICE_CHANNEL="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_CA_FILE=str(ca_file))
        assert _deliver(loaded, TUESDAY).sent == 2


@pytest.mark.parametrize(("env", "problem"), [
    ({"SMTP_CA_FILE": "/nulle/part/ca.pem"}, "SMTP_CA_FILE : le fichier /nulle/part/ca.pem n'existe pas"),
    ({"SMTP_CA_FILE": "/etc/hostname"}, "ne contient pas de certificat d'autorité"),
    ({"NOTICE_CHANNEL": "webhook", "WEBHOOK_URL": "hooks.example.org/avis"}, "WEBHOOK_URL : l'adresse du webhook"),
    ({"NOTICE_CHANNEL": "webhook", "WEBHOOK_URL": "https://u:p@h:99999/x"}, "WEBHOOK_URL : l'adresse du webhook"),
    ({"NOTICE_ROUTES": '{"*": "webhook"}'}, "WEBHOOK_URL : le canal webhook est choisi"),
    ({"DELIVERY_MAX_AGE": "P0D"}, "DELIVERY_MAX_AGE : la durée doit être positive"),
    ({"DELIVERY_MAX_ATTEMPTS": "8"}, "DELIVERY_MAX_ATTEMPTS : ce réglage n'existe plus"),
    ({"PREFECT_LOGGING_LEVEL": "BAVARD"}, "PREFECT_LOGGING_LEVEL : niveau de journal inconnu"),
    ({"SMTP_PORT": "-1"}, "SMTP_PORT : valeur trop petite"),
    ({"SMTP_TIMEOUT": "nan"}, "SMTP_TIMEOUT : doit être un nombre fini"),
    ({"SMTP_STARTTLS": "true", "SMTP_TLS": "true"}, "SMTP_STARTTLS et SMTP_TLS s'excluent"),
    ({"NOTICE_SENDER": "Cerdd"}, "NOTICE_SENDER : l'expéditeur doit être une adresse"),
])
def test_settings_that_cannot_work_are_refused_at_start_in_french(
        db_url: str, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], problem: str) -> None:
    from transitions.cli import app

    _use(monkeypatch, **env)
    with pytest.raises(ValidationError):
        Settings()
    result = CliRunner().invoke(app, ["outbox", "deliver"], env={"COLUMNS": "250"})
    output = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Réglages invalides" in output and problem in output
    assert "u:p@" not in output


def test_webhook_credentials_are_never_stored_nor_listed(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from transitions.cli import app

    _queue(loaded, 2)
    sink = HttpSink(statuses=[503, 503])
    with http_server(sink) as url:
        secret_url = url.replace("http://", "http://transitions:mot-de-passe@") + "?token=jeton-secret&lot=1"
        _use(monkeypatch, NOTICE_CHANNEL="webhook", WEBHOOK_URL=secret_url)
        report = _deliver(loaded, TUESDAY)
    assert report.failed == 2
    errors = " ".join(n.last_error or "" for n in _notices(loaded))
    assert "a répondu 503" in errors and "mot-de-passe" not in errors and "jeton-secret" not in errors
    listing = CliRunner().invoke(app, ["outbox", "list"], env={"COLUMNS": "300"})
    assert listing.exit_code == 0 and "503" in listing.output
    assert "mot-de-passe" not in listing.output and "jeton-secret" not in listing.output
    port = free_port()  # and when it cannot even be reached
    _use(monkeypatch, WEBHOOK_URL=f"http://transitions:mot-de-passe@127.0.0.1:{port}/avis?token=jeton-secret")
    report = _deliver(loaded, TUESDAY + timedelta(days=1))
    assert "injoignable" in report.channels_down["webhook"] and "mot-de-passe" not in str(report)
    assert not any("jeton-secret" in (n.last_error or "") for n in _notices(loaded))


class Recorder:
    name = "file"

    def __init__(self) -> None:
        self.sent: list[object] = []

    def send(self, message: object) -> None:
        self.sent.append(message)

    def close(self) -> None:
        return None


def test_notices_past_their_moment_are_expired_not_sent(loaded: str) -> None:
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        ctx.notify(NoticeKind.DEADLINE_REMINDER, recipients=[Recipient("epci@example.org", "EPCI")], key="tard",
                   context={"intention": {"name": "EPCI"}, "appel": ctx.definition.call}, at=at("2015-05-05T09:00"))
    (notice,) = _notices(loaded)
    assert notice.expires_at == at("2015-05-07T12:00")  # the call's deadline
    channel = Recorder()
    with Session(get_engine(loaded), expire_on_commit=False) as session:
        report = deliver_due(session, as_of=at("2015-05-07T14:00"), channels=Channels.single(channel))
    assert (report.sent, report.expired) == (0, 1) and channel.sent == []
    assert _notices(loaded)[0].status == "expire"
    assert "1 avis expiré(s)" in report.warnings()[0]


def test_a_digest_after_an_outage_lists_each_notice_once_and_says_which_days(loaded: str) -> None:
    person = Recipient("cheffe@prestataire.example.org", "Cheffe")
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for key, when in (("a", "2015-04-08T09:00"), ("b", "2015-04-09T09:00"), ("c", "2015-04-09T09:00")):
            ctx.notify(NoticeKind.DEADLINE_REMINDER, recipients=[person], key=key,
                       context={"intention": {"name": f"EPCI {key}"}, "appel": ctx.definition.call}, at=at(when))
    channel = Recorder()
    with Session(get_engine(loaded), expire_on_commit=False) as session:
        report = deliver_due(session, as_of=at("2015-04-10T10:00"), channels=Channels.single(channel))
    assert (report.sent, report.messages) == (3, 1)
    (digest,) = channel.sent
    subject = digest.subject  # type: ignore[attr-defined]
    assert subject.startswith("Vos 3 avis du mercredi 8 avril 2015 au jeudi 9 avril 2015")
    text = digest.text  # type: ignore[attr-defined]
    assert text.count("EPCI a") == 1 and text.count("EPCI b") == 1 and text.count("EPCI c") == 1
    assert "prévu le mercredi 8 avril 2015" in text and "aujourd'hui" not in text


def test_notices_wait_for_a_working_day_within_sending_hours_but_a_receipt_does_not(loaded: str) -> None:
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for key, when in (("nouvel-an", "2016-01-01T10:00"), ("soir", "2015-04-08T19:30"),
                          ("aube", "2015-04-08T06:00"), ("dimanche", "2016-05-01T09:00"),
                          ("bureau", "2015-04-08T11:00")):
            ctx.notify(NoticeKind.CALL_LAUNCHED, recipients=[Recipient("x@example.org", "X")], key=key,
                       context={}, at=at(when))
    leaves = {n.dedup_key.split(":")[1]: n.deliver_after for n in _notices(loaded)}
    assert leaves == {"nouvel-an": at("2016-01-04T09:00"), "soir": at("2015-04-09T09:00"),
                      "aube": at("2015-04-08T09:00"), "dimanche": at("2016-05-02T09:00"),
                      "bureau": at("2015-04-08T11:00")}


def test_outbox_retry_all_puts_dead_notices_back(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from transitions.cli import app

    _queue(loaded, 3)
    with session_scope(loaded) as session:
        for notice in session.exec(select(Notice)).all():
            notice.status = "abandonne"
            session.add(notice)
    runner = CliRunner()
    none = runner.invoke(app, ["outbox", "retry", "--all", "--kind", "rappel_jury", "--at", "2015-04-08T09:00"])
    assert none.exit_code == 0 and "Aucun avis abandonné" in none.output
    result = runner.invoke(app, ["outbox", "retry", "--all", "--kind", "appel_lance", "--since", "2015-04-01",
                                 "--at", "2015-04-08T09:00"])
    assert result.exit_code == 0 and "3 avis abandonné(s) remis en envoi" in result.output
    assert all(n.status == "en_attente" and n.attempts == 0 for n in _notices(loaded))
    assert runner.invoke(app, ["outbox", "retry"]).exit_code == 2
