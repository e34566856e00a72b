"""Signing a member of the team in for the back office's year pages (sessions, deliverables,
people): an account enrolled through its mailed invitation, then the sign-in page with a real TOTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient

from models import staff
from models.db import session_scope
from models.tables import Notice
from tests.conftest import ctx_of
from tests.portal.conftest import Clock
from tests.portal.helpers import form_ending

PASSWORD = "Ecluse-Douai-1905!"
ROLES = {"charge_de_mission": "claire.dufour@cerdd.example.org", "direction": "emmanuel.bertin@cerdd.example.org",
         "lecture": "lecteur@dreal.example.org"}
NAMES = {"charge_de_mission": "Claire Dufour", "direction": "Emmanuel Bertin", "lecture": "Paul Lecteur"}


def enrol(url: str, clock: Clock, role: str) -> str:
    """An account with `role`, its invitation answered (password and TOTP set); returns its address."""
    email = ROLES[role]
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), email, NAMES[role], role, at=clock.now, by="test",
                         base_url="http://testserver")
        notice = session.query(Notice).filter(Notice.recipient_email == email).order_by(Notice.id.desc()).first()
        assert notice is not None
        key = re.findall(r"/equipe/invitation/([A-Za-z0-9_-]+)", notice.body_text)[0]
    with session_scope(url) as session:
        member = staff.member_by_email(session, email)
        assert member is not None and member.totp_secret
        code = pyotp.TOTP(member.totp_secret).at(clock.now)
        staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, code, at=clock.now)
    return email


def sign_in(client: TestClient, url: str, clock: Clock, email: str) -> None:
    """Sign `email` in on `client` with a fresh TOTP code (the clock moved on a step first)."""
    clock.now += timedelta(seconds=31)
    with session_scope(url) as session:
        member = staff.member_by_email(session, email)
        assert member is not None and member.totp_secret
        code = pyotp.TOTP(member.totp_secret).at(clock.now)
    form = form_ending(client.get("/equipe/connexion").text, "/equipe/connexion")
    answer = client.post(form.action, data={**form.hidden, "courriel": email, "mot_de_passe": PASSWORD, "code": code})
    assert answer.status_code == 303 and answer.headers["location"] == "/equipe/", answer.text


def team(url: str, client_for, clock: Clock) -> dict[str, TestClient]:  # noqa: ANN001
    """One signed-in client per role (chargé·e de mission, direction, lecture)."""
    clients = {}
    for role in ROLES:
        email = enrol(url, clock, role)
        clients[role] = client_for(url)
        sign_in(clients[role], url, clock, email)
    return clients
