"""Signing a member of the team in for a back-office test: the account made and enrolled through the
domain (invitation, password, a real TOTP code), then the sign-in page posted with the next code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
from fastapi.testclient import TestClient

from models import staff
from models.db import session_scope
from tests.conftest import ctx_of
from tests.portal.conftest import Clock
from tests.portal.helpers import form_ending
from tests.staff_keys import SECRET, mailed_key

PASSWORD = "Ecluse-Douai-1905!"
EMAILS = {"direction": "emmanuel.bertin@cerdd.example.org", "charge_de_mission": "claire.dufour@cerdd.example.org",
          "lecture": "lecteur@dreal.example.org"}
NAMES = {"direction": "Emmanuel Bertin", "charge_de_mission": "Claire Dufour", "lecture": "Paul Lecteur"}


def enrolled(url: str, clock: Clock, role: str) -> str:
    """A member of `role` with a password and a second factor; returns their address."""
    email = EMAILS[role]
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), email, NAMES[role], role, at=clock.now, by="test",
                         base_url="http://testserver", secret=SECRET)
    key = mailed_key(url, "invitation_equipe", email)
    with session_scope(url) as session:
        ctx = ctx_of(session)
        member = staff.find_member(session, email)
        assert member.totp_secret
        staff.enrol(ctx, key, PASSWORD, PASSWORD, pyotp.TOTP(member.totp_secret).at(clock.now), at=clock.now)
    return email


def sign_in(client: TestClient, url: str, clock: Clock, email: str) -> None:
    """Sign `email` in on `client` with a fresh TOTP code (the clock moves on by a step)."""
    clock.now += timedelta(seconds=30)
    with session_scope(url) as session:
        member = staff.member_by_email(session, email)
        assert member is not None and member.totp_secret
        code = pyotp.TOTP(member.totp_secret).at(clock.now)
    form = form_ending(client.get("/equipe/connexion").text, "/equipe/connexion")
    answer = client.post(form.action, data={**form.hidden, "courriel": email, "mot_de_passe": PASSWORD, "code": code})
    assert answer.status_code == 303 and answer.headers["location"] == "/equipe/", answer.text


def signed_in(client_for, url: str, clock: Clock, role: str) -> TestClient:  # noqa: ANN001
    """A client on `url` with a member of `role` signed in (enrolled first when new)."""
    with session_scope(url) as session:
        known = staff.member_by_email(session, EMAILS[role]) is not None
    email = EMAILS[role] if known else enrolled(url, clock, role)
    client = client_for(url)
    sign_in(client, url, clock, email)
    return client


def sign_in_page(page: Any, base: str, url: str, email: str, clock: Clock) -> None:
    """Sign `email` in through the sign-in page in a browser (Playwright `page`), with the TOTP code of
    `clock`'s instant; the team's home is shown."""
    with session_scope(url) as session:
        member = staff.member_by_email(session, email)
        assert member is not None and member.totp_secret
        code = pyotp.TOTP(member.totp_secret).at(clock.now)
    page.goto(base + "/equipe/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Code à 6 chiffres").fill(code)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Espace de l'équipe"
