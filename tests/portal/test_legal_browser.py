"""The legal pages in headless Chromium (Playwright), like the portal's other pages: French, no
duplicate id, axe-core finds no serious or critical violation (every violation found, whatever its
impact, is listed in the failure), and nothing scrolls sideways on a 375 px wide phone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.test_legal import LEGAL
from tests.portal.test_portal_browser import ARGS, AXE, NARROW, SCREENSHOTS, _check

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


def _violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return list(page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                              ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))"))


def test_the_legal_pages_pass_axe_and_fit_a_phone(loaded: str, serve: Any) -> None:
    base = serve(loaded)
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            wide = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True,
                                        locale="fr-FR").new_page()
            found = {}
            for path in LEGAL:
                wide.goto(base + path)
                assert wide.get_by_role("contentinfo").get_by_role("link", name="Mentions légales").count() == 1
                _check(wide, "legal" + path.replace("/", "-"))
                wide.goto(base + path)
                found[path] = _violations(wide)
            narrow = chromium.new_context(viewport={"width": NARROW, "height": 800}, locale="fr-FR").new_page()
            widths = {}
            for path in LEGAL:
                narrow.goto(base + path)
                widths[path] = narrow.evaluate("document.documentElement.scrollWidth")
                narrow.screenshot(path=str(SCREENSHOTS / f"portail-375-legal{path.replace('/', '-')}.png"),
                                  full_page=True)
        finally:
            chromium.close()
    assert {path: width for path, width in widths.items() if width > NARROW} == {}, widths
    # these pages are text and links only: not even a minor violation
    assert {path: v for path, v in found.items() if v} == {}, found
