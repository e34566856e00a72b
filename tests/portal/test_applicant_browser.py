"""The online application in headless Chromium (issue 22, « Done when »): the call's page, start,
save, come back by the mailed link (read from the outbox), upload, verify, deposit before the
deadline (receipt), a late deposit refused at 12:00:00 Paris time; axe-core finds no serious
violation, and at 375 px nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from models.db import session_scope
from models.tables import ApplicationVersion
from tests.conftest import at, open_call
from tests.draft_data import ARRAS, arras_fields
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.conftest import Clock
from tests.portal.test_applicant import mailed_path
from tests.portal.test_portal_browser import ARGS, NARROW, SCREENSHOTS, _check

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


def _fits(page: Any, name: str) -> None:
    page.set_viewport_size({"width": NARROW, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(SCREENSHOTS / f"candidature-375-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    assert width <= NARROW, (name, width)


def test_apply_online_in_chromium(loaded: str, serve: Any, clock: Clock) -> None:
    from tests.conftest import EXAMPLES

    open_call(loaded)
    clock.now = at("2015-05-04T11:00")
    base = serve(loaded)
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True, locale="fr-FR")
            page = context.new_page()
            page.goto(base + "/appel/cerdd-2015")
            assert "il reste 3 jours" in page.locator("#dates").inner_text()
            _check(page, "appel")
            _fits(page, "appel")
            page.get_by_role("link", name="Candidater en ligne").click()
            page.get_by_label("SIREN de l'EPCI chef de file (9 chiffres)").fill("200 033 579")
            page.get_by_label("Votre adresse électronique").fill("claire@cu-arras.example.org")
            page.get_by_role("button", name="Recevoir le lien de ma candidature").click()
            page.wait_for_load_state("load")
            assert "Un lien vous a été envoyé" in page.locator("[role=status]").inner_text()
            _check(page, "commencer")
            # come back by the mailed link: fill a few sections and save
            path = mailed_path(loaded)
            page.goto(base + path)
            fields, themes = arras_fields()
            for name in ("chef-adresse", "responsables_operationnels-0-nom", "motivations"):
                page.locator(f"[name='{name}']").fill(fields[name])
            page.get_by_role("button", name="Enregistrer").click()
            page.wait_for_load_state("load")
            assert "Votre candidature est enregistrée" in page.locator("[role=status]").inner_text()
            page.goto(base + path)  # the link again, a new visit
            assert page.locator("[name='motivations']").input_value().startswith(fields["motivations"][:40])
            for name, value in fields.items():  # the rows the page offers (saved ones and two empty)
                box = page.locator(f"[name='{name}']")
                if box.count():
                    box.select_option(value) if name.endswith("-type") else box.fill(value)
            for theme in themes:
                page.locator(f"#theme-{theme}").check()
            page.get_by_role("button", name="Vérifier").click()
            page.wait_for_load_state("load")
            assert "version PDF" in page.locator("#verification").inner_text()  # the files are missing
            _check(page, "brouillon-verifie")
            _fits(page, "brouillon")
            for name in ("formulaire-cu-arras.docx", "formulaire-cu-arras.pdf"):
                page.locator("#fichier").set_input_files(str(EXAMPLES / "pieces" / name))
                page.get_by_role("button", name="Joindre la pièce").click()
                page.wait_for_load_state("load")
            page.get_by_role("button", name="Vérifier").click()
            page.wait_for_load_state("load")
            assert "Aucun problème" in page.locator("#verification").inner_text()
            page.get_by_role("button", name="Déposer la candidature").click()
            page.wait_for_load_state("load")
            assert "CERDD-2015-0001" in page.locator(".recepisse").inner_text()
            _check(page, "depose")
            # the page shown before noon, the button pressed at noon: refused, nothing recorded
            clock.now = at("2015-05-07T11:59")
            page.goto(base + path)
            clock.now = at("2015-05-07T12:00:00")
            page.get_by_role("button", name="Déposer la candidature").click()
            page.wait_for_load_state("load")
            assert "jeudi 7 mai 2015 à 12h00" in page.locator(".erreur").inner_text()
            _check(page, "depot-tardif")
        finally:
            chromium.close()
    with session_scope(loaded) as session:
        assert len(session.exec(select(ApplicationVersion)).all()) == 1
    assert ARRAS in path
