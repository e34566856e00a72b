"""The back office's entrance over HTTP: an invitation enrolled, sign-in with a real TOTP code,
wrong and replayed codes, a recovery code once, throttling, sessions refused after sign-out, after
« partout » and once the account is disabled, a CSRF token on every form, reset links used twice
or late, and a `lecture` account refused any act (403 in French)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pyotp
from fastapi import APIRouter
from fastapi.testclient import TestClient

from models import staff
from models.db import session_scope
from models.staff_sessions import ACCOUNT_LIMIT
from models.tables import StaffSession
from tests.conftest import at, ctx_of
from tests.portal.conftest import SECRET, Clock
from tests.portal.helpers import assert_french_refusal, audits, count, form_ending, forms
from tests.staff_keys import mailed_key
from transitions.portal.app import create_app
from transitions.portal.deps import require
from transitions.portal.staff_state import StaffVisit

EMAIL = "claire.dufour@cerdd.example.org"
PASSWORD = "Ecluse-Douai-1905!"
BASE = "http://testserver"


def _mailed_key(url: str, kind: str) -> str:
    return mailed_key(url, kind)


def _add(url: str, role: str, email: str = EMAIL) -> str:
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), email, "Claire Dufour", role, at=at("2015-06-10T09:00"), by="test",
                         base_url=BASE, secret=SECRET)
    return _mailed_key(url, "invitation_equipe")


def _totp(url: str, clock: Clock, email: str = EMAIL) -> str:
    with session_scope(url) as session:
        member = staff.member_by_email(session, email)
        assert member is not None and member.totp_secret
        return pyotp.TOTP(member.totp_secret).at(clock.now)


def _enrol(client: TestClient, url: str, clock: Clock, role: str = "charge_de_mission",
           email: str = EMAIL) -> list[str]:
    key = _add(url, role, email)
    page = client.get(f"/equipe/invitation/{key}")
    assert page.status_code == 200 and "<svg" in page.text and "Activer votre compte" in page.text
    form = form_ending(page.text, f"/equipe/invitation/{key}")
    answer = client.post(form.action, data={**form.hidden, "mot_de_passe": PASSWORD, "confirmation": PASSWORD,
                                            "code": _totp(url, clock, email)})
    assert answer.status_code == 200, answer.text
    return re.findall(r"<li>([0-9a-f]{4}(?:-[0-9a-f]{4}){4})</li>", answer.text)


def _sign_in(client: TestClient, code: str, password: str = PASSWORD, email: str = EMAIL):  # noqa: ANN202
    page = client.get("/equipe/connexion")
    form = form_ending(page.text, "/equipe/connexion")
    return client.post(form.action, data={**form.hidden, "courriel": email, "mot_de_passe": password, "code": code})


def test_sign_in_with_a_real_totp_code_then_home_and_sign_out(loaded: str, client_for, clock: Clock) -> None:
    client = client_for(loaded)
    clock.now = at("2015-04-01T10:00")  # the call opens the next day
    codes = _enrol(client, loaded, clock)
    assert len(codes) == 10
    assert client.get("/equipe/").headers["location"] == "/equipe/connexion?fait=session"  # not signed in
    clock.now += timedelta(minutes=1)
    signed = _sign_in(client, _totp(loaded, clock))
    assert signed.status_code == 303 and signed.headers["location"] == "/equipe/"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age" not in cookie
    home = client.get("/equipe/")
    text = html.unescape(home.text)
    assert home.status_code == 200 and "Claire Dufour" in text and "chargé·e de mission" in text
    assert "Prochains instants prévus" in text and "2 avril 2015" in text and "saisir les présences" in text
    stolen = dict(client.cookies)
    out = form_ending(home.text, "/equipe/deconnexion")
    assert client.post(out.action, data=out.hidden).headers["location"] == "/equipe/connexion?fait=deconnecte"
    thief = client_for(loaded)
    thief.cookies.update(stolen)  # the cookie kept after sign-out no longer opens anything
    assert thief.get("/equipe/").status_code == 303
    assert_french_refusal(thief.post("/equipe/deconnexion-partout", data=out.hidden), 401, "connectez-vous")


def test_wrong_and_replayed_codes_and_recovery_codes_once(loaded: str, client_for, clock: Clock) -> None:
    client = client_for(loaded)
    codes = _enrol(client, loaded, clock)
    clock.now += timedelta(minutes=2)
    assert_french_refusal(_sign_in(client, "000000"), 401, "Adresse électronique, mot de passe ou code incorrect")
    code = _totp(loaded, clock)
    assert _sign_in(client, code).status_code == 303
    assert_french_refusal(_sign_in(client_for(loaded), code), 401, "code incorrect")  # replayed
    assert _sign_in(client_for(loaded), codes[0]).status_code == 303
    assert_french_refusal(_sign_in(client_for(loaded), codes[0]), 401, "code incorrect")
    unknown = _sign_in(client_for(loaded), _totp(loaded, clock), email="personne@cerdd.example.org")
    assert_french_refusal(unknown, 401, "Adresse électronique, mot de passe ou code incorrect")


def test_throttling_answers_429_in_french_and_is_audited(loaded: str, client_for, clock: Clock) -> None:
    client = client_for(loaded)
    _enrol(client, loaded, clock)
    clock.now += timedelta(minutes=3)
    for n in range(ACCOUNT_LIMIT):
        _sign_in(client, "111111", password=f"essai-{n}")
    blocked = _sign_in(client, _totp(loaded, clock))
    assert_french_refusal(blocked, 429, "Trop de tentatives de connexion")
    assert len(audits(loaded, "equipe.connexion_bloquee")) == 1
    assert count(loaded, StaffSession) == 0


def test_sessions_end_when_signed_out_everywhere_or_disabled(loaded: str, client_for, clock: Clock) -> None:
    first, second = client_for(loaded), client_for(loaded)
    _enrol(first, loaded, clock)
    clock.now += timedelta(minutes=1)
    _sign_in(first, _totp(loaded, clock))
    clock.now += timedelta(minutes=1)
    _sign_in(second, _totp(loaded, clock))
    home = first.get("/equipe/")
    everywhere = form_ending(home.text, "/equipe/deconnexion-partout")
    assert first.post(everywhere.action, data=everywhere.hidden).headers["location"].endswith("fait=partout")
    assert second.get("/equipe/").status_code == 303
    clock.now += timedelta(minutes=1)
    _sign_in(second, _totp(loaded, clock))
    assert second.get("/equipe/").status_code == 200
    with session_scope(loaded) as session:
        staff.disable(ctx_of(session), EMAIL, at=clock.now, by="test")
    assert second.get("/equipe/").status_code == 303  # the disabled account's session is refused at once
    clock.now += timedelta(minutes=30, seconds=1)
    assert second.get("/equipe/").status_code == 303


def test_every_form_needs_its_one_time_token(loaded: str, client_for, clock: Clock) -> None:
    client = client_for(loaded)
    key = _add(loaded, "direction")
    pages = [client.get("/equipe/connexion").text, client.get("/equipe/mot-de-passe-oublie").text,
             client.get(f"/equipe/invitation/{key}").text]
    _enrol_key(client, loaded, clock, key)
    clock.now += timedelta(minutes=1)
    _sign_in(client, _totp(loaded, clock))
    pages.append(client.get("/equipe/").text)
    with session_scope(loaded) as session:
        staff.request_reset(ctx_of(session), EMAIL, at=clock.now, base_url=BASE, secret=SECRET)
    pages.append(client.get(f"/equipe/reinitialisation/{_mailed_key(loaded, 'reinitialisation_equipe')}").text)
    every = [form for page in pages for form in forms(page)]
    assert len(every) == 6 and all(form.hidden.get("jeton") for form in every)
    for form in every:
        assert_french_refusal(client.post(form.action, data={"courriel": EMAIL}), 400, "jeton de sécurité manquant")
    out = form_ending(pages[3], "/equipe/deconnexion")
    assert client.post(out.action, data=out.hidden).status_code == 303
    assert count(loaded, StaffSession, StaffSession.revoked_at.is_not(None)) == 1  # type: ignore[union-attr]


def _enrol_key(client: TestClient, url: str, clock: Clock, key: str) -> None:
    form = form_ending(client.get(f"/equipe/invitation/{key}").text, f"/equipe/invitation/{key}")
    client.post(form.action, data={**form.hidden, "mot_de_passe": PASSWORD, "confirmation": PASSWORD,
                                   "code": _totp(url, clock)})


def test_reset_link_used_twice_or_late_is_refused(loaded: str, client_for, clock: Clock) -> None:
    client = client_for(loaded)
    codes = _enrol(client, loaded, clock)
    asked = client.get("/equipe/mot-de-passe-oublie")
    form = form_ending(asked.text, "/equipe/mot-de-passe-oublie")
    answer = client.post(form.action, data={**form.hidden, "courriel": EMAIL})
    assert "Si cette adresse est celle d'un compte actif" in html.unescape(answer.text)
    key = _mailed_key(loaded, "reinitialisation_equipe")
    page = client.get(f"/equipe/reinitialisation/{key}")
    reset = form_ending(page.text, f"/equipe/reinitialisation/{key}")
    new = "Beffroi-Arras-2015!"
    done = client.post(reset.action, data={**reset.hidden, "mot_de_passe": new, "confirmation": new, "code": codes[2]})
    assert done.headers["location"] == "/equipe/connexion?fait=mot-de-passe"
    assert_french_refusal(client.get(f"/equipe/reinitialisation/{key}"), 410, "déjà servi")
    clock.now += timedelta(minutes=20)
    again = form_ending(client.get("/equipe/mot-de-passe-oublie").text, "/equipe/mot-de-passe-oublie")
    client.post(again.action, data={**again.hidden, "courriel": EMAIL})
    late = _mailed_key(loaded, "reinitialisation_equipe")
    assert late != key
    clock.now += staff.RESET_LIFETIME
    assert_french_refusal(client.get(f"/equipe/reinitialisation/{late}"), 410, "expiré")
    assert_french_refusal(client.get("/equipe/reinitialisation/inconnu"), 404, "n'existe pas")
    clock.now += timedelta(minutes=1)
    assert _sign_in(client, _totp(loaded, clock), password=new).status_code == 303


def _page_doing(act: staff.StaffAct):  # noqa: ANN202
    declared = require(act)

    def handler(seen: StaffVisit = declared) -> str:  # a default: the annotation is a string here
        return seen.member.email

    return handler


def test_a_reading_account_gets_403_in_french_on_any_act(loaded: str, clock: Clock) -> None:
    app = create_app(loaded, SECRET, clock=clock)
    probe = APIRouter()
    for act in staff.StaffAct:  # a page per act, declared as every back-office route will be
        probe.add_api_route(f"/equipe/essai/{act.value}", _page_doing(act), methods=["GET", "POST"])
    app.include_router(probe)
    with TestClient(app, follow_redirects=False) as client:
        _enrol(client, loaded, clock, role="lecture")
        clock.now += timedelta(minutes=1)
        _sign_in(client, _totp(loaded, clock))
        assert client.get("/equipe/").status_code == 200
        for act in staff.StaffAct:
            answer = client.post(f"/equipe/essai/{act.value}")
            if act == staff.StaffAct.READ:
                assert answer.status_code == 200 and EMAIL in answer.text
            else:
                assert_french_refusal(answer, 403, "Votre rôle (lecture seule) ne permet pas cette action")


def test_a_back_office_error_page_speaks_to_the_team_not_to_a_link_holder(loaded: str, client_for) -> None:  # noqa: ANN001
    """A missing back-office page: the team's words and footer, never « demandez un nouveau lien »."""
    client = client_for(loaded)
    missing = client.get("/equipe/inexistant")
    text = html.unescape(missing.text)
    assert missing.status_code == 404 and "Cette page de l'espace de l'équipe n'existe pas" in text
    assert "Espace de l'équipe du Cerdd" in text and "demandez un nouveau lien" not in text
    elsewhere = html.unescape(client.get("/inexistant").text)
    assert "Utilisez le lien personnel reçu par courriel" in elsewhere and "demandez un nouveau lien" in elsewhere
