"""The HTML report of the replay at three instants, opened in real headless Chromium (Debian's):
a screenshot, the key numbers match the database, no request leaves the file, axe-core finds no
serious or critical violation. Without Chromium or Playwright the browser test is skipped."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest
from sqlmodel import col, select

from models.context import load_ctx
from models.db import session_scope
from models.tables import Application, AuditEntry, Deliverable, Notice, Pilot
from tests.conftest import PROJECT_ROOT, at
from tests.needs import CHROMIUM, NO_CHROMIUM, playwright_api
from transitions.html_export import write_report

AXE = PROJECT_ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
INSTANTS = ("2015-05-01T09:00", "2015-10-15T09:00", "2016-08-01T09:00")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = PROJECT_ROOT / "var" / "captures"


def expected_numbers(url: str, instant: str) -> dict[str, str]:
    """The key numbers, counted straight from the tables (not through the report's read model)."""
    when = at(instant)
    with session_scope(url) as session:
        applications = session.exec(select(Application).where(Application.first_submitted_at <= when)).all()
        decisions = session.exec(select(AuditEntry).where(AuditEntry.at <= when,
                                                          col(AuditEntry.action).startswith("candidature."))).all()
        refused = [d for d in decisions if d.action == "candidature.refusee"]
        admissible = {d.entity_id for d in decisions if d.action == "candidature.recevable"}
        inadmissible = {d.entity_id for d in decisions if d.action == "candidature.non_recevable"}
        pilots = session.exec(select(Pilot).where(Pilot.selected_at <= when)).all()
        sent = session.exec(select(Notice).where(col(Notice.sent_at) <= when)).all()
        numbers = {"recues": len(applications), "recevables": len(admissible), "non-recevables": len(inadmissible),
                   "refusees": len(refused), "pilotes": len(pilots), "avis-envoyes": len(sent)}
        for pilot in pilots:
            if pilot.kickoff_at and pilot.kickoff_at <= when:
                deliverables = session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id)).all()
                handed = sum(1 for t in deliverables if t.delivered_at and t.delivered_at <= when)
                numbers[f"livrables-{pilot.id}"] = f"{handed}/{len(deliverables)}"
    return {k: str(v) for k, v in numbers.items()}


def render(url: str, instant: str, folder: Path) -> Path:
    path = folder / f"rapport-{instant[:10]}.html"
    with session_scope(url) as session:
        write_report(load_ctx(session), at(instant), path)
    return path


@pytest.mark.parametrize("instant", INSTANTS)
def test_the_report_is_one_self_contained_french_file(replayed: tuple[Path, str], tmp_path: Path,
                                                      instant: str) -> None:
    _, url = replayed
    html = render(url, instant, tmp_path).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    for outside in ("<script", "<link", "src=", "@import", "url(", "http://", "https://"):
        assert outside not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), outside
    assert "@media print" in html and "size: A4" in html
    assert html.count("<svg") == html.count("<title id=") == html.count("<desc id=")  # every chart has its text
    if instant.startswith("2016"):
        text = unescape(html)
        assert "Frise chronologique de CU d'Arras" in text and "Rapport final et capitalisation" in text


def test_the_replay_writes_the_report_beside_its_summary(replayed: tuple[Path, str]) -> None:
    out, _ = replayed
    assert (out / "bilan.md").exists()
    assert "programme terminé" in (out / "rapport.html").read_text(encoding="utf-8")


def test_a_fact_after_the_instant_is_ignored(replayed: tuple[Path, str], tmp_path: Path) -> None:
    _, url = replayed
    early = render(url, "2015-05-07T11:00", tmp_path).read_text(encoding="utf-8")
    assert 'data-cle="recevables">0<' in early and 'data-cle="statut">retenue' not in early
    assert early.count('data-cle="statut">reçue') == 5
    assert "Aucun territoire pilote à cette date." in early


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
@pytest.mark.parametrize("instant", INSTANTS)
def test_the_report_in_headless_chromium(replayed: tuple[Path, str], tmp_path: Path, instant: str) -> None:
    playwright = playwright_api()
    _, url = replayed
    path = render(url, instant, tmp_path)
    expected = expected_numbers(url, instant)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(SCREENSHOTS / f"rapport-{instant[:10]}.png"), full_page=True)
            shown = {key: page.locator(f'dl.chiffres [data-cle="{key}"]').inner_text().strip()
                     for key in ("recues", "recevables", "non-recevables", "refusees", "pilotes", "avis-envoyes")}
            for section in page.locator("section.pilote").all():
                siren = section.get_attribute("data-siren")
                cell = section.locator('[data-cle="livrables"]')
                if cell.count():
                    shown[f"livrables-{_pilot_id(url, siren or '')}"] = cell.inner_text().strip()
            assert page.evaluate("document.documentElement.lang") == "fr"
            pdf = page.pdf(format="A4")
            page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
            violations = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))")
        finally:
            browser.close()
    assert shown == expected
    assert requests == [path.as_uri()], f"requêtes hors du fichier : {requests}"
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == [], violations


def _pilot_id(url: str, siren: str) -> int:
    with session_scope(url) as session:
        application = session.exec(select(Application).where(Application.lead_siren == siren)).one()
        pilot = session.exec(select(Pilot).where(Pilot.application_id == application.id)).one()
        return pilot.id or 0
