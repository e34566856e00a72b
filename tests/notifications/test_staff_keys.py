"""A staff member's single-use key (invitation, password reset) is never stored (issue 24, item 5):
its notice holds « [clé personnelle] » while it waits, is retried or given up, the key's row its
SHA-256; delivery derives the key from the row under the portal's secret, the same key at every
attempt. The messages go through a real SMTP server on loopback."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from email.message import EmailMessage

import pyotp
import pytest
from sqlalchemy import text
from sqlmodel import select

from config.settings import reset_settings
from flows.plain import deliver_now
from models import link_tokens, outbox, staff
from models.db import get_engine, session_scope
from models.link_tokens import KEY_PLACEHOLDER
from models.tables import Notice, NoticeStatus, StaffToken
from tests.conftest import at, ctx_of
from tests.notifications.servers import SmtpSink, smtp_server
from tests.staff_keys import columns_holding

SECRET = "Wq3Zt8Kd1Vn6Rb4Hy9Lc2Mx7Fp5Js0Ga8Ue3"
BASE = "https://transitions.example.org"
EMAIL = "anne.martin@cerdd.example.org"
PASSWORD = "Bocage-Artois-1987!"
T0 = at("2015-06-10T10:00")
MAILED = re.compile(re.escape(BASE) + r"/equipe/(invitation|reinitialisation)/([A-Za-z0-9_-]+)")


@pytest.fixture
def smtp(loaded: str, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """An SMTP sink on loopback the outbox delivers to, with the portal's secret set."""
    sink = SmtpSink()
    with smtp_server(sink) as port:
        for key, value in {"NOTICE_CHANNEL": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                           "SMTP_TIMEOUT": "5", "PORTAL_SECRET": SECRET}.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        yield sink
    reset_settings()


def _keys(messages: list[EmailMessage]) -> list[tuple[str, str]]:
    """(path, key) of every staff link in the plain-text parts of `messages`."""
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in messages]  # type: ignore[union-attr]
    return [found.groups() for body in texts for found in MAILED.finditer(body)]


def _invite(url: str) -> None:
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), EMAIL, "Anne Martin", "charge_de_mission", at=T0, by="cli:admin",
                         base_url=BASE, secret=SECRET)


def _enrol(url: str, key: str) -> list[str]:
    with session_scope(url) as session:
        member = staff.member_by_email(session, EMAIL)
        assert member is not None and member.totp_secret
        code = pyotp.TOTP(member.totp_secret).at(T0)
        return staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, code, at=T0)


def test_an_invitation_and_a_reset_key_are_mailed_and_never_stored(loaded: str, smtp: SmtpSink) -> None:
    _invite(loaded)
    with session_scope(loaded) as session:
        waiting = session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).one()
        for body in (waiting.body_text, waiting.body_html, waiting.core_text):
            assert not MAILED.search(body)  # waiting, the notice holds no key
        assert f"{BASE}/equipe/invitation/{KEY_PLACEHOLDER}" in waiting.body_text
    assert deliver_now(T0).sent == 1
    [(path, key)] = _keys(smtp.received)
    assert path == "invitation" and len(key) == 43
    assert columns_holding(loaded, key) == []  # no column of any table, the notice sent included
    codes = _enrol(loaded, key)  # the key mailed opens the invitation
    assert len(codes) == staff.RECOVERY_CODES

    asked = T0 + timedelta(hours=1)
    with session_scope(loaded) as session:
        staff.request_reset(ctx_of(session), EMAIL, at=asked, base_url=BASE, secret=SECRET)
    assert deliver_now(asked).sent == 1
    [_, (path, reset_key)] = _keys(smtp.received)
    assert path == "reinitialisation" and reset_key != key
    assert columns_holding(loaded, reset_key) == []
    with session_scope(loaded) as session:
        assert staff.reset_password(ctx_of(session), reset_key, PASSWORD + "x", PASSWORD + "x", codes[0], at=asked)


def test_a_notice_sent_again_carries_the_same_working_key(loaded: str, smtp: SmtpSink) -> None:
    _invite(loaded)
    smtp.replies.append("550 5.2.2 Boîte pleine")  # given up at once: waits for « outbox retry »
    assert deliver_now(T0).dead == 1
    with session_scope(loaded) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).one()
        assert notice.status == NoticeStatus.DEAD and KEY_PLACEHOLDER in notice.body_text
        outbox.retry(session, notice.id or 0, at=T0 + timedelta(minutes=5))
    assert deliver_now(T0 + timedelta(minutes=5)).sent == 1
    with get_engine(loaded).begin() as connection:  # a deliverer that died before recording it: sent again
        connection.execute(text("UPDATE notice SET status = 'en_attente', sent_at = NULL, claimed_until = NULL "
                                "WHERE kind = 'invitation_equipe'"))
    assert deliver_now(T0 + timedelta(minutes=10)).sent == 1
    invitations = [m for m in smtp.received if m["To"].addresses[0].addr_spec == EMAIL]
    keys = _keys(invitations)
    assert len(keys) == 2 and keys[0] == keys[1]
    assert len({m["Message-ID"] for m in invitations}) == 1  # the same message, a detectable duplicate
    assert columns_holding(loaded, keys[0][1]) == []
    assert _enrol(loaded, keys[0][1])


def test_a_forged_key_is_refused(loaded: str, smtp: SmtpSink) -> None:
    _invite(loaded)
    with session_scope(loaded) as session:
        row = session.exec(select(StaffToken)).one()
        ref = link_tokens.KeyRef(row.id or 0, "invitation_equipe", row.expires_at)
        other_kind = link_tokens.KeyRef(row.id or 0, "reinitialisation_equipe", row.expires_at)
        later = link_tokens.KeyRef(row.id or 0, "invitation_equipe", row.expires_at + timedelta(days=1))
    genuine = link_tokens.staff_key(SECRET, ref)
    forged = [secrets.token_urlsafe(32),  # a random key
              link_tokens.staff_key("Autre-secret-Zt8Kd1Vn6Rb4Hy9Lc2Mx7Fp5Js0G", ref),  # another secret
              link_tokens.staff_key(SECRET, other_kind), link_tokens.staff_key(SECRET, later),  # other inputs
              genuine[:-1] + ("A" if genuine[-1] != "A" else "B"), genuine[:16], ""]
    for key in forged:
        with session_scope(loaded) as session, pytest.raises(staff.StaffLinkUnknown):
            staff.link_member(session, key, staff.INVITATION, T0)
    with session_scope(loaded) as session, pytest.raises(staff.StaffLinkUnknown):  # the right key, the wrong door
        staff.link_member(session, genuine, staff.RESET, T0)
    assert deliver_now(T0).sent == 1
    assert _keys(smtp.received) == [("invitation", genuine)]


def test_without_the_portal_secret_the_notice_is_given_up_keyless(loaded: str, smtp: SmtpSink,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _invite(loaded)
    monkeypatch.delenv("PORTAL_SECRET")
    reset_settings()
    assert deliver_now(T0).dead == 1
    assert [m["To"].addresses[0].addr_spec for m in smtp.received] == ["aboutonne@cerdd.org"]  # the alert only
    with session_scope(loaded) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).one()
    assert "PORTAL_SECRET" in (notice.last_error or "") and KEY_PLACEHOLDER in notice.body_text
