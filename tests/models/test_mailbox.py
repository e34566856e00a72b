"""The call's mailbox in the domain (`models.mailbox.receive`), attacked: automatic messages
(RFC 3834) never answered, a withdrawn application taking no new version by mail."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy

import pytest
from sqlmodel import select

from models.applications import withdraw_application
from models.db import session_scope
from models.mailbox import Arrival, receive
from models.mailparse import parse_mail
from models.tables import Application, ApplicationStatus, MailOutcome, Notice
from tests.conftest import at, ctx_of, open_call
from tests.mails import ARRAS, CLAIRE, good, mail

LIMIT = 1024 * 1024


def _receive(url: str, raw: bytes, when: datetime) -> tuple[str, list[str]]:
    with session_scope(url) as session:
        row, fresh = receive(ctx_of(session), Arrival(parse_mail(raw, max_bytes=LIMIT), when), at=when)
        assert fresh
        return str(row.outcome), list(row.problems)


def _notices(url: str, kind: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == kind)).all())


def _with_headers(raw: bytes, **headers: str) -> bytes:
    message = message_from_bytes(raw, policy=policy.default)
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message.as_bytes()


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"},  # a vacation reply (RFC 3834)
    {"Auto_Submitted": "auto-generated"},  # our own notices carry this
    {"Precedence": "bulk"},
    {"Precedence": "junk"},
    {"X_Autoreply": "yes"},
])
def test_an_automatic_message_is_never_answered(loaded: str, headers: dict[str, str]) -> None:
    open_call(loaded)
    raw = _with_headers(mail("absent@cu-arras.example.org", "Réponse automatique : absent", [],
                             message_id="<auto@example.org>", when=at("2015-04-20T10:00")), **headers)
    outcome, problems = _receive(loaded, raw, at("2015-04-20T10:00"))
    assert outcome == MailOutcome.REVIEW and "automatique" in problems[0]
    assert _notices(loaded, "reponse_courriel") == []
    assert _notices(loaded, "courriel_a_revoir") == []  # no notice at all: a notice may loop back too


def test_a_bounce_is_never_answered(loaded: str) -> None:
    open_call(loaded)
    raw = (b"From: MAILER-DAEMON@mx.example.org\r\nTo: transitions@cerdd.org\r\nSubject: Undelivered\r\n"
           b"Message-ID: <bounce@mx.example.org>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
           b"--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--b--\r\n")
    outcome, _ = _receive(loaded, raw, at("2015-04-20T10:00"))
    assert outcome == MailOutcome.REVIEW
    assert _notices(loaded, "reponse_courriel") == [] and _notices(loaded, "courriel_a_revoir") == []


def test_auto_submitted_no_is_a_person_and_is_answered(loaded: str) -> None:
    open_call(loaded)
    raw = _with_headers(mail("dgs@example.org", "Sans pièce", [], message_id="<humain@example.org>",
                             when=at("2015-04-20T10:00")), Auto_Submitted="no")
    outcome, _ = _receive(loaded, raw, at("2015-04-20T10:00"))
    assert outcome == MailOutcome.ANSWERED and len(_notices(loaded, "reponse_courriel")) == 1


def test_a_withdrawn_application_takes_no_new_version_by_mail(loaded: str) -> None:
    open_call(loaded)
    first = good(ARRAS, CLAIRE, "<arras-1@cu-arras.example.org>", at("2015-04-20T10:00"))
    assert _receive(loaded, first, at("2015-04-20T10:00"))[0] == MailOutcome.APPLICATION
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        application = session.exec(select(Application)).one()
        withdraw_application(ctx, application, reason="Projet reporté", at=at("2015-04-21T10:00"), by="portail:x")
    again = good(ARRAS, CLAIRE, "<arras-2@cu-arras.example.org>", at("2015-04-22T10:00"),
                 motivations="Nous revenons sur notre retrait. " * 10)
    outcome, problems = _receive(loaded, again, at("2015-04-22T10:00"))
    assert outcome == MailOutcome.ANSWERED and "retirée" in " ".join(problems)
    with session_scope(loaded) as session:
        application = session.exec(select(Application)).one()
        assert (application.status, application.version) == (ApplicationStatus.WITHDRAWN, 1)


def test_an_application_naming_500_people_is_answered_not_a_mail_cannon(loaded: str) -> None:
    """One mail naming 500 « responsables opérationnels » (anyone's addresses) would make the
    programme send 500 acknowledgements: the form holds at most `MAX_ROWS` people per list, as
    the online form does, and the sender alone is answered."""
    open_call(loaded)
    crowd = [{"nom": f"Personne {i}", "qualite": "Agent", "courriel": f"victime{i}@example.org"} for i in range(500)]
    raw = good(ARRAS, CLAIRE, "<foule@cu-arras.example.org>", at("2015-04-20T10:00"),
               responsables_operationnels=crowd)
    outcome, problems = _receive(loaded, raw, at("2015-04-20T10:00"))
    assert outcome == MailOutcome.ANSWERED and any("responsables_operationnels" in p for p in problems)
    assert _notices(loaded, "accuse_reception") == []
    assert [n.recipient_email for n in _notices(loaded, "reponse_courriel")] == ["claire.dufour@cu-arras.example.org"]
