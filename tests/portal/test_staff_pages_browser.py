"""Every page of the back office in headless Chromium, whoever added it: each GET route under
/equipe/ (enumerated from the app) opened by a signed-in member on the 2015 programme replayed to
September (path parameters filled from its rows: a pilot, its application, a file, a session, a
deliverable, a notice); axe-core finds no serious violation and nothing scrolls sideways at 375 px.
Routes whose parameters cannot be filled are skipped and listed; downloads are checked as files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from config.settings import reset_settings
from flows.plain import run_tick_plain
from models.db import dispose_engines
from models.staff import StaffAct
from tests.conftest import at
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.conftest import SECRET, Clock
from tests.portal.staff_login import enrolled, sign_in_page
from tests.portal.staff_routes import declared_acts, filled, known_values, staff_routes
from tests.portal.test_portal_browser import ARGS, NARROW, SCREENSHOTS, _check
from transitions.demo import run_demo
from transitions.portal.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]
UNTIL = "2015-09-01T00:00"


@pytest.fixture
def replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The 2015 demo replayed (without Prefect) to 1 September 2015: pilots under way."""
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME", "DATA_DIR", "MAILDIR"):
        monkeypatch.setenv(key, "placeholder")  # restored afterwards, whatever the demo sets
    for key in ("PORTAL_SECRET", "PORTAL_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    out = tmp_path / "demo"
    try:
        run_demo(out, Console(file=io.StringIO(), width=200), tick=run_tick_plain, until=at(UNTIL), secret=SECRET)
    finally:
        dispose_engines()
        reset_settings()
    url = f"sqlite:///{out / 'transitions.db'}"
    _keep_a_preview(url)
    return url


def _keep_a_preview(url: str) -> None:
    """A kept preview of an unchanged file, so that `/equipe/programme/apercus/{preview_id}` has a
    value (its content is `tests/portal/test_staff_programme_browser.py`'s, after a real `diff`)."""
    from models.db import session_scope
    from models.programme_change import ChangePlan
    from models.programme_versions import record_preview
    from models.read.programme_diff import Preview, preview_json
    from tests.conftest import ctx_of

    with session_scope(url) as session:
        programme = ctx_of(session).programme
        empty = Preview(programme.slug, "0" * 64, programme.version, at(UNTIL), ChangePlan(at(UNTIL)))
        record_preview(session, programme, sha256=empty.sha256, at=empty.at, made_at=empty.at, actor="test",
                       source="inchange.yaml", result=preview_json(empty))


def _sign_in(page: Any, base: str, url: str, clock: Clock, email: str) -> None:
    clock.now = clock.now.replace(second=30)
    sign_in_page(page, base, url, email, clock)


def test_every_back_office_page_passes_axe_and_fits_a_phone(replayed: str, serve: Any, clock: Clock) -> None:
    clock.now = at(UNTIL)
    email = enrolled(replayed, clock, "lecture")
    base = serve(replayed)
    values = known_values(replayed) | {"kind": "applications", "file_format": "csv", "certificate_format": "pdf"}
    routes = staff_routes(create_app(replayed, SECRET, clock=clock), "GET")
    # A page that is the first step of an act (the withdrawal's confirmation) is refused to lecture: 403.
    acting = {route.path for route in routes if declared_acts(route) - {StaffAct.READ}}
    paths = {route.path: filled(route.path, values) for route in routes}
    skipped = sorted(path for path, done in paths.items() if done is None)
    print("Pages non parcourues (paramètres inconnus) :", ", ".join(skipped) or "aucune")
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 900}, locale="fr-FR", bypass_csp=True)
            page = context.new_page()
            _sign_in(page, base, replayed, clock, email)
            seen: set[str] = set()
            for template, path in paths.items():
                if path is None or template == "/equipe/connexion":
                    continue
                answer = page.request.get(base + path)
                if template in acting:
                    assert answer.status == 403 and "Votre rôle" in answer.text(), (path, answer.status)
                    continue
                assert answer.status == 200, (path, answer.status)
                if not answer.headers["content-type"].startswith("text/html") or "attachment" in answer.headers.get(
                        "content-disposition", ""):
                    assert "attachment" in answer.headers.get("content-disposition", ""), path
                    continue
                page.goto(base + path)
                name = "equipe" + path.replace("/equipe", "").replace("/", "-").rstrip("-")
                _check(page, name)
                page.set_viewport_size({"width": NARROW, "height": 800})
                width = page.evaluate("document.documentElement.scrollWidth")
                page.screenshot(path=str(SCREENSHOTS / f"{name}-375.png"), full_page=True)
                page.set_viewport_size({"width": 1100, "height": 900})
                assert width <= NARROW, (path, width)
                seen.add(template)
            assert {"/equipe/", "/equipe/candidatures", "/equipe/candidatures/{receipt}", "/equipe/avis",
                    "/equipe/journal", "/equipe/rapport"} <= seen, seen
        finally:
            chromium.close()
