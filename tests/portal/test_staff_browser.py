"""The back office's entrance in headless Chromium: a chargé·e de mission answers the mailed
invitation (password, TOTP from pyotp), keeps the recovery codes, signs in with password and code,
sees the home page and signs out; axe-core finds no serious violation on any of these pages, and
at 375 px nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from models import staff
from models.db import session_scope
from tests.conftest import at, ctx_of
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.conftest import Clock
from tests.portal.test_portal_browser import ARGS, NARROW, SCREENSHOTS, _check
from tests.staff_keys import SECRET, mailed_link

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]

EMAIL = "claire.dufour@cerdd.example.org"
PASSWORD = "Ecluse-Douai-1905!"


def _fits(page: Any, name: str) -> None:
    page.set_viewport_size({"width": NARROW, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(SCREENSHOTS / f"equipe-375-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    assert width <= NARROW, (name, width)


def _code(url: str, clock: Clock) -> str:
    with session_scope(url) as session:
        member = staff.member_by_email(session, EMAIL)
        assert member is not None and member.totp_secret
        return pyotp.TOTP(member.totp_secret).at(clock.now)


def test_a_project_officer_signs_in_with_password_and_totp(loaded: str, serve: Any, clock: Clock) -> None:
    clock.now = at("2015-04-01T10:00")
    base = serve(loaded)
    with session_scope(loaded) as session:
        staff.add_member(ctx_of(session), EMAIL, "Claire Dufour", "charge_de_mission", at=clock.now, by="test",
                         base_url=base, secret=SECRET)
    invitation = mailed_link(loaded)
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True, locale="fr-FR")
            page = context.new_page()
            page.goto(invitation)
            assert page.locator("h1").inner_text() == "Activer votre compte"
            assert page.locator(".qr svg").count() == 1
            _check(page, "equipe-invitation")
            _fits(page, "invitation")
            page.get_by_label("Mot de passe (au moins 12 caractères").fill(PASSWORD)
            page.get_by_label("Le même mot de passe, une seconde fois").fill(PASSWORD)
            page.get_by_label("Code à 6 chiffres affiché par l'application").fill(_code(loaded, clock))
            page.get_by_role("button", name="Activer mon compte").click()
            page.wait_for_load_state("load")
            assert page.locator("ol.codes li").count() == 10
            _check(page, "equipe-codes")
            page.get_by_role("link", name="Se connecter").click()
            page.wait_for_load_state("load")
            _check(page, "equipe-connexion")
            _fits(page, "connexion")
            clock.now = at("2015-04-01T10:01")
            page.get_by_label("Adresse électronique").fill(EMAIL)
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_label("Code à 6 chiffres").fill(_code(loaded, clock))
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text() == "Espace de l'équipe"
            assert "Claire Dufour" in page.content() and page.locator("table tbody tr").count() >= 1
            _check(page, "equipe-accueil")
            _fits(page, "accueil")
            page.get_by_role("button", name="Se déconnecter", exact=True).click()
            page.wait_for_load_state("load")
            assert "Vous êtes déconnecté·e." in page.locator("[role=status]").inner_text()
            page.goto(base + "/equipe/")
            assert page.locator("h1").inner_text() == "Connexion à l'espace de l'équipe"
        finally:
            chromium.close()
