"""Issue 23's « Done when », its year part, in headless Chromium: a chargé·e de mission signs in
(password and TOTP), records the attendance of a session, opens a handed-in file and returns it
with a comment; axe-core finds no serious violation on the sessions', attendance sheet's,
deliverables' and people's pages, and at 375 px nothing scrolls sideways."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from models import deliverables, training
from models.db import session_scope
from models.pilots import find_pilot
from models.tables import Attendance, Deliverable
from tests.conftest import at, ctx_of
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.conftest import ARRAS, Clock
from tests.portal.helpers import PDF
from tests.portal.staff_login import sign_in_page
from tests.portal.test_portal_browser import ARGS, _check
from tests.portal.test_staff_browser import _fits
from tests.portal.year_signin import enrol

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


def _prepared(url: str) -> tuple[int, str]:
    """Formation 1 answered by the territory (present, with one more person), the method handed in;
    returns formation 1's row number and title."""
    with session_scope(url) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, ARRAS)
        first = training.find_session(ctx, pilot, "formation-1")
        training.answer_invitation(ctx, pilot, first, attending=True, people="Jean Martin", at=at("2015-07-10T10:00"))
        method = deliverables.find_deliverable(ctx, pilot, "methode")
        deliverables.hand_in_file(ctx, method, filename="méthode.pdf", data=PDF, at=at("2015-07-20T10:00"),
                                  by="prestataire")
        return first.id or 0, first.title



def test_a_project_officer_records_attendance_and_returns_a_file(started: str, serve: Any, clock: Clock,
                                                                  tmp_path: Path) -> None:
    session_id, title = _prepared(started)
    with session_scope(started) as session:
        starts = training.find_session(ctx_of(session), find_pilot(ctx_of(session), ARRAS), "formation-1").starts_at
    clock.now = starts + timedelta(hours=4)
    email = enrol(started, clock, "charge_de_mission")
    clock.now += timedelta(minutes=1)
    base = serve(started)
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True, locale="fr-FR",
                                           accept_downloads=True)
            page = context.new_page()
            sign_in_page(page, base, started, email, clock)
            page.goto(base + "/equipe/sessions")
            _check(page, "equipe-sessions")
            _fits(page, "sessions")
            page.get_by_role("link", name=title).click()
            page.wait_for_load_state("load")
            assert page.get_by_label("présent·e : Jean Martin").is_checked()  # pre-filled from the answer
            _check(page, "equipe-session")
            _fits(page, "session")
            page.get_by_label("Nom", exact=True).fill("Paul Invité")
            page.get_by_label("Structure", exact=True).fill("CCI Artois")
            page.get_by_role("button", name="Enregistrer l'émargement").click()
            page.wait_for_load_state("load")
            assert page.locator("[role=status]").inner_text() == "L'émargement est enregistré."
            page.goto(base + "/equipe/livrables")
            _check(page, "equipe-livrables")
            _fits(page, "livrables")
            page.get_by_role("link", name="Méthode d'accompagnement et règles de travail collaboratif").click()
            page.wait_for_load_state("load")
            _check(page, "equipe-livrable")
            _fits(page, "livrable")
            with page.expect_download() as downloading:
                page.get_by_role("link", name="méthode.pdf").click()
            download = downloading.value
            assert download.suggested_filename == "méthode.pdf"
            saved = tmp_path / "telecharge.pdf"
            download.save_as(saved)
            assert saved.read_bytes() == PDF
            page.get_by_label("Ce qu'il faut reprendre").fill("Préciser le calendrier des entretiens.")
            page.get_by_role("button", name="Renvoyer pour reprise").click()
            page.wait_for_load_state("load")
            assert "renvoyé pour reprise" in page.locator("[role=status]").inner_text()
            page.goto(base + "/equipe/personnes")
            _check(page, "equipe-personnes")
            _fits(page, "personnes")
        finally:
            chromium.close()
    with session_scope(started) as session:
        rows = {row.person: row.present for row in session.exec(select(Attendance)).all()}
        method = session.exec(select(Deliverable).where(Deliverable.key == "methode")).first()
    assert rows["Jean Martin"] and rows["Paul Invité"] and len(rows) >= 4
    assert method is not None and method.review_comment == "Préciser le calendrier des entretiens."
