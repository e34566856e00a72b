"""No input can hijack, jam or lose a notice: hostile names, poisoned notices, killed digests,
against a real SMTP server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.headerregistry import Address

import pytest
from typer.testing import CliRunner

from config.settings import reset_settings
from models import delivery
from models.addresses import header_text
from models.db import session_scope
from models.notices import NoticeKind, Recipient
from notifications import deliver as deliver_module
from tests.conftest import at, ctx_of
from tests.notifications.outbox_helpers import all_notices as _notices
from tests.notifications.outbox_helpers import deliver as _deliver
from tests.notifications.servers import SmtpSink, smtp_server

LAUNCH = at("2015-04-02T09:00")  # a Thursday
HOSTILE = {
    "dupont@ccpl.example.org": 'Dupont "Doc" <someone@elsewhere.example.org>',
    "jm.lefebvre@arras.example.org": "Lefebvre, Jean-Marc",
    "martin@lens.example.org": "Martin\r\nBcc: evil@elsewhere.example.org",
    "claire@flandre.example.org": "Claire-Bénédicte de La Tour-d'Auvergne-Lauraguais, "
                                  "cheffe de projet « Transitions économiques » (Communauté de communes)",
}


def _smtp(monkeypatch: pytest.MonkeyPatch, port: int, **extra: str) -> None:
    for key, value in {"NOTICE_CHANNEL": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                       "SMTP_TIMEOUT": "2", **extra}.items():
        monkeypatch.setenv(key, value)
    reset_settings()


def _queue(url: str, people: dict[str, str], kind: NoticeKind = NoticeKind.CALL_LAUNCHED,
           when: datetime = LAUNCH, prefix: str = "lot") -> None:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        context = {"intention": {"name": "EPCI"}, "appel": ctx.definition.call} \
            if kind == NoticeKind.DEADLINE_REMINDER else {}
        for index, (email, name) in enumerate(people.items()):
            ctx.notify(kind, recipients=[Recipient(email, name)], key=f"{prefix}-{index}", context=context, at=when)


def test_hostile_names_give_one_recipient_each_the_stored_one(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _queue(loaded, HOSTILE)
    sink = SmtpSink()
    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        report = _deliver(loaded)
    assert report.sent == len(HOSTILE) and report.dead == 0
    assert sorted(rcpt for _, rcpt in sink.envelopes) == sorted([email] for email in HOSTILE)
    assert {mail_from for mail_from, _ in sink.envelopes} == {"transitions@cerdd.org"}
    for message in sink.received:
        (to,) = message["To"].addresses
        assert isinstance(to, Address) and to.addr_spec in HOSTILE
        assert to.display_name == header_text(HOSTILE[to.addr_spec])  # the name, on one line
        assert "elsewhere" not in message["To"].addresses[0].addr_spec
        assert message["Bcc"] is None and message["Cc"] is None
        assert message["Auto-Submitted"] == "auto-generated"
        assert str(message["Subject"]) == next(n.subject for n in _notices(loaded)
                                               if n.recipient_email == to.addr_spec)
    assert {n.recipient_email for n in _notices(loaded) if n.status == "envoye"} == set(HOSTILE)


def test_a_poisoned_notice_is_dead_lettered_while_the_rest_of_its_batch_arrives(
        loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    people = {f"epci{i}@example.org": f"EPCI n°{i}" for i in range(120)}
    poisoned = {"josé@example.org": "José", "dupont@example.org\r\nBcc: evil@elsewhere.example.org": "Dupont",
                "piege@example.org": "Piège"}
    _queue(loaded, {**dict(list(people.items())[:60]), **poisoned, **dict(list(people.items())[60:])})
    real = deliver_module.single_message

    def explode_for_one(notice, sent_at=None, settings=None):  # type: ignore[no-untyped-def]
        if notice.recipient_email == "piege@example.org":
            raise RuntimeError("gabarit corrompu")
        return real(notice, sent_at, settings)

    monkeypatch.setattr(deliver_module, "single_message", explode_for_one)
    monkeypatch.setenv("DELIVERY_BATCH_SIZE", "50")
    sink = SmtpSink()
    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        report = _deliver(loaded)
    assert report.dead == 3 and len(report.set_aside) == 3
    notices = _notices(loaded)
    dead = {n.recipient_email: n.last_error or "" for n in notices if n.status == "abandonne"}
    assert set(dead) == set(poisoned)
    assert "accentués" in dead["josé@example.org"] and "gabarit corrompu" in dead["piege@example.org"]
    assert "contrôle" in dead["dupont@example.org\r\nBcc: evil@elsewhere.example.org"]
    delivered = sorted(rcpt[0] for _, rcpt in sink.envelopes)
    alerts = [n for n in notices if n.kind == "avis_abandonne"]
    assert len(alerts) == 1 and alerts[0].status == "envoye"  # one alert for the run, not three
    assert delivered == sorted([*people, "aboutonne@cerdd.org"])
    assert "3 avis non remis" == alerts[0].subject
    for notice in notices:
        if notice.status == "abandonne":
            assert f"transitions outbox retry {notice.id}" in alerts[0].body_text


def test_outbox_deliver_sets_the_poison_aside_and_exits_0(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from transitions.cli import app

    _queue(loaded, {"josé@example.org": "José", "ok@example.org": "OK"})
    result = CliRunner().invoke(app, ["outbox", "deliver", "--at", "2015-04-02T09:00"], env={"COLUMNS": "250"})
    output = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "1 avis mis de côté (abandonnés)" in output and "josé@example.org" in output
    assert "2 avis envoyé(s)" in output  # the good one and the manager's alert


def test_a_digest_killed_between_send_and_record_is_received_under_one_message_id(
        loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    person = {"cheffe@prestataire.example.org": "Cheffe"}
    _queue(loaded, person, NoticeKind.DEADLINE_REMINDER, prefix="a")
    _queue(loaded, person, NoticeKind.DEADLINE_REMINDER, prefix="b")
    sink = SmtpSink()
    real_record_sent = delivery.record_sent

    def die(*args: object, **kwargs: object) -> None:
        raise SystemExit("processus tué entre l'envoi et l'enregistrement")

    with smtp_server(sink) as port:
        _smtp(monkeypatch, port)
        monkeypatch.setattr(delivery, "record_sent", die)
        with pytest.raises(SystemExit):
            _deliver(loaded, lease=timedelta(0))
        assert len(sink.received) == 1
        # Meanwhile another reminder to the same person becomes due: it must not change the digest.
        _queue(loaded, person, NoticeKind.DEADLINE_REMINDER, when=LAUNCH + timedelta(hours=1), prefix="c")
        monkeypatch.setattr(delivery, "record_sent", real_record_sent)
        report = _deliver(loaded, LAUNCH + timedelta(hours=1))
    assert report.sent == 3 and report.messages == 2
    ids = sink.message_ids()
    first = ids[0]
    assert ids.count(first) == 2 and len(ids) == 3  # the digest twice, same Message-ID; the newcomer alone
    digest_copies = [m for m in sink.received if str(m["Message-ID"]) == first]
    assert digest_copies[0].get_body(("plain",)).get_content() == digest_copies[1].get_body(("plain",)).get_content()
    assert str(digest_copies[0]["X-Transitions-Notices"]) == str(digest_copies[1]["X-Transitions-Notices"])
    reminders = [n for n in _notices(loaded) if n.kind == "rappel_date_limite"]
    assert all(n.status == "envoye" for n in reminders)
    assert sorted(n.digest_id or "" for n in reminders).count(first) == 2
