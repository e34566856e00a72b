"""The back office's programme pages in headless Chromium, opened by a chargé·e de mission after a
real preview and apply (the page walker signs in as `lecture`, which these pages refuse): axe-core
finds no serious violation and at 375 px nothing scrolls sideways (wide tables scroll in their box)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import at
from tests.models.read.test_staff_programme import applied, changed_definition, previewed
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.conftest import Clock
from tests.portal.staff_login import enrolled, sign_in_page
from tests.portal.test_portal_browser import ARGS, _check
from tests.portal.test_staff_browser import _fits

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


def test_the_programme_pages_pass_axe_and_fit_a_phone(started: str, serve: Any, clock: Clock) -> None:
    definition = changed_definition(started)
    preview = previewed(started, definition)
    applied(started, definition)
    clock.now = at("2015-09-01T10:30")
    email = enrolled(started, clock, "charge_de_mission")
    clock.now += timedelta(minutes=1)
    base = serve(started)
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True, locale="fr-FR")
            page = context.new_page()
            sign_in_page(page, base, started, email, clock)
            page.get_by_role("link", name="Programme", exact=True).click()
            page.wait_for_load_state("load")
            for path, name in (("/equipe/programme", "programme"),
                               (f"/equipe/programme/apercus/{preview.id}", "programme-apercu"),
                               ("/equipe/programme/versions/2", "programme-version")):
                page.goto(base + path)
                assert page.evaluate("document.querySelectorAll('script').length") == 0, path  # the title's, escaped
                _check(page, "equipe-" + name)
                _fits(page, name)
        finally:
            chromium.close()
