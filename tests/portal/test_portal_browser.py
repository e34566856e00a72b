"""The portal served by uvicorn on loopback, driven in headless Chromium (Playwright): a territory
signs its charter (with a double click) and answers an invitation, the consultancy hands in a
file, a juror scores and declares a conflict of interest. The database, the audit log and the
outbox show it; axe-core finds no serious violation on any page; screenshots go to var/captures/
(not committed); the server's log never shows a token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from models.db import session_scope
from models.tables import CharterSignature, ConflictOfInterest, DeliverableFile, JuryScore, Notice, SessionAnswer
from tests.conftest import PROJECT_ROOT, at, start_arras
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from tests.portal.conftest import ARRAS, Clock, consultancy, juror, link, territory
from tests.portal.helpers import audits

AXE = PROJECT_ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = PROJECT_ROOT / "var" / "captures"
PDF = b"%PDF-1.4\n% livrable de test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]


def _check(page: Any, name: str) -> None:
    """The page is French, passes axe-core without serious violation, and is photographed."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"portail-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang") == "fr"
    ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert sorted({i for i in ids if ids.count(i) > 1}) == [], (name, "identifiants en double")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))")
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == [], (name, violations)


@pytest.fixture
def browser() -> Iterator[Any]:
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # axe-core is injected as a script: the portal's CSP (no script at all) would refuse it
        context = chromium.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True, locale="fr-FR")
        try:
            yield context.new_page()
        finally:
            chromium.close()


def test_territory_and_consultancy_in_chromium(selected: str, serve: Any, browser: Any, clock: Clock,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    base = serve(selected)
    _, path = link(selected, territory())
    page = browser
    page.goto(base + path)
    assert page.locator("h1").inner_text() == "CU d'Arras : votre année d'accompagnement"
    _check(page, "territoire-charte")
    page.get_by_label("Nom du ou de la signataire").fill("Frédéric Leturque")
    page.get_by_label("Qualité (fonction)").fill("Président")
    page.get_by_label("J'ai lu la charte").check()
    page.get_by_role("button", name="Signer la charte").dblclick()  # the impatient signatory
    # the browser keeps the second submission's answer: « déjà envoyé » (409) or the confirmation
    page.locator("[role=status], .erreur").first.wait_for()
    page.goto(base + path)
    assert "Frédéric Leturque (Président)" in page.content()
    with session_scope(selected) as session:
        rows = session.exec(select(CharterSignature)).all()
    assert [(r.party, r.signatory, r.channel) for r in rows] == [("territoire", "Frédéric Leturque", "portail")]
    assert len(audits(selected, "charte.signee")) == 1
    # the other parties sign, the accompaniment starts; the territory answers its first invitation
    start_arras(selected)
    clock.now = at("2015-07-02T10:00")
    page.goto(base + path)
    _check(page, "territoire-sessions")
    session_block = page.locator("#session-formation-1")
    session_block.get_by_label("Oui, nous serons présents").check()
    session_block.get_by_label("Qui viendra (un nom par ligne)").fill("Claire Dufour\nJean Martin")
    session_block.get_by_role("button", name="Envoyer ma réponse").click()
    page.wait_for_load_state("load")
    assert "Votre réponse est enregistrée." in page.locator("[role=status]").inner_text()
    with page.expect_download() as download:
        page.locator("#session-formation-1").get_by_role("link", name="Ajouter à mon agenda (fichier .ics)").click()
    assert b"BEGIN:VEVENT" in Path(download.value.path()).read_bytes()
    with session_scope(selected) as session:
        answer, = session.exec(select(SessionAnswer)).all()
    assert answer.attending and answer.people == "Claire Dufour\nJean Martin"
    # the consultancy hands in the « méthode » with a file
    _, consultancy_path = link(selected, consultancy(), when="2015-07-01T10:00")
    page.goto(base + consultancy_path)
    _check(page, "prestataire")
    upload = tmp_file = SCREENSHOTS.parent / "methode-test.pdf"
    tmp_file.write_bytes(PDF)
    form = page.locator(f"form[action$='/prestataire/{ARRAS}/livrable/methode/remise']")
    form.locator("input[type=file]").set_input_files(str(upload))
    form.get_by_role("button", name="Remettre le livrable").click()
    page.wait_for_load_state("load")
    assert "Le livrable est remis" in page.locator("[role=status]").inner_text()
    _check(page, "prestataire-remis")
    tmp_file.unlink()
    with session_scope(selected) as session:
        stored, = session.exec(select(DeliverableFile)).all()
        assert stored.filename == "methode-test.pdf" and stored.size == len(PDF)
    assert len(audits(selected, "livrable.fichier")) == 1
    # the Cerdd's page; an error page
    _, cerdd_path = link(selected, territory(party="cerdd"))
    page.goto(base + cerdd_path)
    _check(page, "cerdd")
    page.goto(base + path.replace(ARRAS, "246200364"))
    assert page.locator("h1").inner_text() == "Accès refusé"
    _check(page, "erreur-403")
    logged = capfd.readouterr()
    for secret_path in (path, consultancy_path, cerdd_path):
        assert secret_path.split("/")[2] not in logged.out + logged.err


def test_juror_in_chromium(closed: str, serve: Any, browser: Any, clock: Clock) -> None:
    clock.now = at("2015-06-01T10:00")
    base = serve(closed)
    _, path = link(closed, juror(), when="2015-05-20T10:00")
    page = browser
    page.goto(base + path)
    assert page.locator("h1").inner_text() == "Jury : feuille de notes — Représentant de la DREAL"
    _check(page, "jury")
    page.locator("table a").nth(0).click()  # the list opens each application on its own page
    page.wait_for_load_state("load")
    _check(page, "jury-candidature")
    first = page.locator("section.candidature")
    for select_box in first.locator("select").all():
        select_box.select_option("4")
    first.locator("input[type=text]").first.fill("Partenariat solide")
    page.get_by_role("button", name="Enregistrer mes notes").click()
    page.wait_for_load_state("load")
    assert "Vos notes sont enregistrées" in page.locator("[role=status]").inner_text()
    page.get_by_role("link", name="Retour à la liste des candidatures").first.click()
    page.wait_for_load_state("load")
    assert page.locator("table tbody tr").nth(0).locator("td").nth(1).inner_text() == "notée"
    page.locator("table a").nth(1).click()
    page.wait_for_load_state("load")
    second = page.locator("section.candidature")
    second.get_by_label("Conflit d'intérêts avec cette candidature : motif").fill("Élu communautaire")
    second.get_by_role("button", name="Déclarer un conflit d'intérêts").click()
    page.wait_for_load_state("load")
    assert "Votre conflit d'intérêts est enregistré" in page.locator("[role=status]").inner_text()
    _check(page, "jury-conflit")
    with session_scope(closed) as session:
        scores = session.exec(select(JuryScore).where(JuryScore.juror == "Représentant de la DREAL")).all()
        conflict, = session.exec(select(ConflictOfInterest)).all()
        assert {s.score for s in scores} == {4} and len(scores) == 5
        assert conflict.juror == "Représentant de la DREAL" and conflict.reason == "Élu communautaire"
        assert not session.exec(select(Notice).where(Notice.kind == "demande_report")).all()
    assert len(audits(closed, "jury.note")) == 5 and len(audits(closed, "jury.conflit")) == 1


def test_after_the_meeting_and_a_withdrawal_in_chromium(selected: str, serve: Any, browser: Any,
                                                        clock: Clock) -> None:
    """The juror's read-only page after the meeting, a withdrawn pilot's page, and the consultancy's
    page with one charter per pilot (folded, unique ids)."""
    from models.pilots import find_pilot
    from models.withdrawal import withdraw
    from tests.conftest import ctx_of

    with session_scope(selected) as session:
        ctx = ctx_of(session)
        withdraw(ctx, find_pilot(ctx, "200040947"), reason="Délibération non obtenue", at=at("2015-07-06T10:00"))
    clock.now = at("2015-07-08T10:00")
    base = serve(selected)
    page = browser
    _, juror_path = link(selected, juror(), when="2015-07-07T09:00")
    page.goto(base + juror_path)
    assert "Territoires retenus comme pilotes" in page.locator("#decision").inner_text()
    _check(page, "jury-apres-reunion")
    _, withdrawn_path = link(selected, territory("200040947"), when="2015-07-07T09:00")
    page.goto(base + withdrawn_path)
    assert "a été retirée du programme par le Cerdd" in page.locator(".retrait").inner_text()
    _check(page, "territoire-retire")
    _, consultancy_path = link(selected, consultancy(), when="2015-07-07T09:00")
    page.goto(base + consultancy_path)
    assert page.locator("details > summary").count() == 3
    _check(page, "prestataire-trois-chartes")


NARROW = 375
"""A phone's width in CSS pixels: every page reads there without scrolling sideways."""


def test_every_page_fits_a_phone_screen(started: str, serve: Any, clock: Clock) -> None:
    base = serve(started)
    pages = {"territoire": link(started, territory())[1], "cerdd": link(started, territory(party="cerdd"))[1],
             "prestataire": link(started, consultancy())[1], "jury": link(started, juror())[1],
             "erreur": "/l/lien-falsifie/territoire/" + ARRAS}
    playwright = playwright_api()
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = chromium.new_context(viewport={"width": NARROW, "height": 800}, locale="fr-FR").new_page()
            widths = {}
            for name, path in pages.items():
                page.goto(base + path)
                widths[name] = page.evaluate("document.documentElement.scrollWidth")
                page.screenshot(path=str(SCREENSHOTS / f"portail-375-{name}.png"), full_page=True)
        finally:
            chromium.close()
    assert {name: width for name, width in widths.items() if width > NARROW} == {}, widths
