"""Issue 23's « Done when », in one headless-Chromium scenario on a real Prefect test server: a
chargée de mission signs in (password and TOTP), records the attendance of a session, opens a
handed-in file and returns it with a comment; then a direction account signs in, confirms the
jury's decision on `/equipe/jury`, and the `decision-jury` run waiting on its form completes once;
the home page then shows, from Prefect's API, the deployment present and the outbox holding back
nothing.

Two databases, two portals: one replay cannot have both a pilot in its accompaniment (sessions,
deliverables: after the decision) and a decision still awaited (before it). The year's part runs
on the `started` programme (July 2015), the jury's on a second programme met on 4 June 2015 and
not yet decided; the flow run works on that second database (DATABASE_URL)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from config.settings import reset_settings
from flows.decision import jury_decision_flow
from models import training
from models.context import install_programme
from models.db import migrate, session_scope
from models.pilots import find_pilot
from models.tables import Attendance, Deliverable, Pilot
from tests.conftest import PROGRAMME, at, close_call_with_territories, ctx_of
from tests.guards import wait_for
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.conftest import ARRAS, Clock
from tests.portal.helpers import PDF, audits, count, notices
from tests.portal.staff_login import sign_in_page
from tests.portal.test_portal_browser import ARGS, _check
from tests.portal.test_staff_browser import _fits
from tests.portal.test_staff_jury import meet
from tests.portal.test_staff_jury_flow import _execute, _state
from tests.portal.test_staff_year_browser import _prepared
from tests.portal.year_signin import enrol
from transitions.programmes import load_programme

pytestmark = [pytest.mark.browser, pytest.mark.prefect, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


def _awaiting_decision(url: str) -> None:
    """A second programme: the call closed with three admissible applications, every juror
    scored, the jury met on 4 June 2015 at 14:00; its decision awaits the secretary."""
    migrate(url)
    with session_scope(url) as session:
        install_programme(session, load_programme(PROGRAMME), at("2015-04-01T09:00"), "test")
    close_call_with_territories(url)
    meet(url)




def _the_year(page: Any, base: str, title: str) -> None:
    """Attendance of formation 1 recorded, the handed-in method opened and returned."""
    page.goto(base + "/equipe/sessions")
    page.get_by_role("link", name=title).click()
    page.wait_for_load_state("load")
    assert page.get_by_label("présent·e : Jean Martin").is_checked()  # pre-filled from the territory's answer
    page.get_by_label("Nom", exact=True).fill("Paul Invité")
    page.get_by_label("Structure", exact=True).fill("CCI Artois")
    page.get_by_role("button", name="Enregistrer l'émargement").click()
    page.wait_for_load_state("load")
    assert page.locator("[role=status]").inner_text() == "L'émargement est enregistré."
    page.goto(base + "/equipe/livrables")
    page.get_by_role("link", name="Méthode d'accompagnement et règles de travail collaboratif").click()
    page.wait_for_load_state("load")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="méthode.pdf").click()
    assert Path(downloading.value.path()).read_bytes() == PDF
    page.get_by_label("Ce qu'il faut reprendre").fill("Préciser le calendrier des entretiens.")
    page.get_by_role("button", name="Renvoyer pour reprise").click()
    page.wait_for_load_state("load")
    assert "renvoyé pour reprise" in page.locator("[role=status]").inner_text()


def test_done_when_the_year_then_the_jury_through_the_waiting_flow(
        prefect_server: None, started: str, serve: Any, clock: Clock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    _, title = _prepared(started)
    jury_url = f"sqlite:///{tmp_path / 'jury.db'}"
    monkeypatch.setenv("DATABASE_URL", jury_url)  # the stages, and the flow's run, work on the second programme
    reset_settings()
    _awaiting_decision(jury_url)
    api = str(PREFECT_API_URL.value())
    monkeypatch.setenv("PREFECT_API_URL", api)  # the portal talks to Prefect only when a server is named
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "resultats")}
    jury_decision_flow.to_deployment(name="decision-jury").apply()
    run = run_deployment("decision-jury/decision-jury", timeout=0, as_subflow=False, parameters={"programme": None})
    _execute(run.id, env)
    assert _state(run.id) == "Suspended"

    with session_scope(started) as session:
        starts = training.find_session(ctx_of(session), find_pilot(ctx_of(session), ARRAS), "formation-1").starts_at
    clock.now = starts + timedelta(hours=4)
    officer = enrol(started, clock, "charge_de_mission")
    clock.now += timedelta(minutes=1)
    year_base, jury_base = serve(started), serve(jury_url)
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True, locale="fr-FR",
                                           accept_downloads=True)
            page = context.new_page()
            sign_in_page(page, year_base, started, officer, clock)
            _the_year(page, year_base, title)

            clock.now = at("2015-06-04T14:30")  # the second portal: the jury has just met
            director = enrol(jury_url, clock, "direction")
            clock.now += timedelta(minutes=1)
            page = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True,
                                        locale="fr-FR").new_page()
            sign_in_page(page, jury_base, jury_url, director, clock)
            page.goto(jury_base + "/equipe/jury")
            page.get_by_label("Confirmer la proposition du classement").check()
            page.get_by_role("button", name="Enregistrer la décision du jury").click()
            page.wait_for_load_state("load")
            assert "/equipe/jury?fait=jury-decision" in page.url
            wait_for(lambda: _state(run.id) != "Suspended", "le flow decision-jury n'est pas repris")
            sent = len(notices(jury_url, "decision_retenue"))
            page.goto(jury_base + "/equipe/")
            text = page.locator("main").inner_text()
            assert f"Serveur Prefect : {api}." in text
            assert "Avis en attente depuis plus d'une heure après leur heure d'envoi" in text  # none delivered here
            row = page.locator("tr", has=page.locator("th", has_text="decision-jury")).inner_text()
            assert "absent" not in row
            _check(page, "equipe-accueil-moteur")
            _fits(page, "accueil-moteur")
        finally:
            chromium.close()

    _execute(run.id, env)  # the worker picks the resumed run up: it finds the decision taken
    assert _state(run.id) == "Completed"
    [decision] = audits(jury_url, "jury.selection")
    assert decision.actor.endswith(director) and count(jury_url, Pilot) == 3
    assert sent > 0 and len(notices(jury_url, "decision_retenue")) == sent  # notified once, by the back office
    with session_scope(started) as session:
        rows = {row.person: row.present for row in session.exec(select(Attendance)).all()}
        method = session.exec(select(Deliverable).where(Deliverable.key == "methode")).first()
    assert rows["Jean Martin"] and rows["Paul Invité"]
    assert method is not None and method.review_comment == "Préciser le calendrier des entretiens."
    [returned] = audits(started, "livrable.a_reprendre")
    assert returned.actor == f"equipe:{officer}"
