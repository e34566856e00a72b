"""Members of the team signed in on the back office for tests: an account invited and enrolled
through the domain, then signed in over HTTP with its password and a real TOTP code."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient

from models import staff
from models.db import session_scope
from tests.conftest import ctx_of
from tests.portal.conftest import Clock
from tests.portal.helpers import form_ending
from tests.staff_keys import SECRET, mailed_key

PASSWORD = "Ecluse-Douai-1905!"
NAMES = {"direction": "Emmanuel Bertin", "charge_de_mission": "Claire Dufour", "lecture": "Paul Morel"}


def email_of(role: str) -> str:
    return f"{role.replace('_', '-')}@cerdd.example.org"


def sign_in(client: TestClient, url: str, clock: Clock, role: str) -> str:
    """The member with `role` (invited and enrolled two minutes ago if new) signed in on `client`
    now (a TOTP code of the clock's instant, newer than any used before); returns their address."""
    email = email_of(role)
    with session_scope(url) as session:
        known = staff.member_by_email(session, email)
        secret = None if known is None else known.totp_secret
    if secret is None:
        secret = _enrol(url, clock, role, email)
    page = client.get("/equipe/connexion")
    form = form_ending(page.text, "/equipe/connexion")
    signed = client.post(form.action, data={**form.hidden, "courriel": email, "mot_de_passe": PASSWORD,
                                            "code": pyotp.TOTP(secret).at(clock.now)})
    assert signed.status_code == 303 and signed.headers["location"] == "/equipe/", signed.text
    return email


def _enrol(url: str, clock: Clock, role: str, email: str) -> str:
    """Invite and enrol the member two minutes before the clock; returns their TOTP secret."""
    enrolled = clock.now - timedelta(minutes=2)
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), email, NAMES[role], role, at=enrolled, by="test",
                         base_url="http://testserver", secret=SECRET)
    with session_scope(url) as session:
        key = mailed_key(url, "invitation_equipe", email)
        member = staff.member_by_email(session, email)
        assert member is not None and member.totp_secret
        code = pyotp.TOTP(member.totp_secret).at(enrolled)
        staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, code, at=enrolled)
        return member.totp_secret
