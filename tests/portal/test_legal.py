"""The legal pages over HTTP (`routers/legal.py`): each answers 200 in French, without a link, with
the headings the law asks for (LCEN art. 6-III, RGPD art. 13-14, RGAA's declaration), the publisher
and contact from the programme file, the host from the settings; and every page of the portal,
public, personal or the team's, links to the three in its footer."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from config.settings import reset_settings
from models.processing import retention_texts
from tests.conftest import PROGRAMME
from tests.portal.conftest import ARRAS, Clock, consultancy, juror, link, territory
from tests.portal.staff_login import signed_in
from tests.portal.staff_routes import _flat, filled, known_values, staff_routes
from transitions.programmes import load_programme

LEGAL = ("/mentions-legales", "/donnees-personnelles", "/accessibilite")
HEADINGS = {
    "/mentions-legales": ["Mentions légales", "Éditeur du site", "Directeur de la publication", "Hébergeur"],
    "/donnees-personnelles": ["Données personnelles", "Responsable du traitement", "Les traitements",
                              "Appel à candidature", "Jury de sélection", "Accompagnement des territoires pilotes",
                              "Avis et liens personnels", "Comptes de l'équipe du Cerdd",
                              "Boîte aux lettres de l'appel", "Journal d'audit",
                              "Vos droits et comment les exercer", "Réclamation auprès de la CNIL"],
    "/accessibilite": ["Déclaration d'accessibilité", "État de conformité", "Résultats des tests",
                       "Contenus non accessibles", "Établissement de cette déclaration", "Technologies utilisées",
                       "Environnement de test", "Retour d'information et contact", "Voies de recours"],
}


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._open = True
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._open = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self.found[-1] += data


def headings(page: str) -> list[str]:
    parser = _Headings()
    parser.feed(page)
    return [" ".join(h.split()) for h in parser.found]


def footer_links(page: str) -> set[str]:
    """The addresses the page's footer links to."""
    footer = re.search(r"<footer>(.*?)</footer>", page, flags=re.DOTALL)
    return set(re.findall(r'href="([^"]+)"', footer.group(1))) if footer else set()


def test_each_legal_page_answers_in_french_with_its_headings(loaded: str, client_for) -> None:  # noqa: ANN001
    client = client_for(loaded)
    for path in LEGAL:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"].startswith("text/html")
        assert '<html lang="fr">' in answer.text
        assert [h for h in HEADINGS[path] if h not in headings(answer.text)] == [], path
        assert footer_links(answer.text) >= set(LEGAL)
        assert client.head(path).status_code == 200
    notice = client.get("/mentions-legales").text
    assert "Centre Ressource du Développement Durable (Cerdd)" in notice
    assert "Emmanuel Bertin" in notice and "à compléter par l&#39;hébergeur" in notice
    data = client.get("/donnees-personnelles").text
    assert "aboutonne@cerdd.org" in data and "Antoine Boutonné" in data and "CNIL" in data
    # the durations the programme file states (or « à compléter » where it states none), as the register reads them
    texts = retention_texts([load_programme(PROGRAMME).definition])
    assert [t for t in texts.values() if str(escape(t)) not in data] == []  # escaped as Jinja does
    declaration = client.get("/accessibilite").text
    assert "<strong>non conforme</strong>" in declaration and "RGAA" in declaration and "axe-core" in declaration
    assert "Défenseur des droits" in declaration


def test_the_host_is_a_setting_and_hostile_text_is_shown_as_text(loaded: str, client_for,  # noqa: ANN001
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGAL_HOST", "OVH <script>alert(1)</script>, 2 rue Kellermann, Roubaix")
    monkeypatch.setenv("LEGAL_PUBLISHER_ADDRESS", "Base du 11/19, rue de Bourgogne, 62750 Loos-en-Gohelle")
    reset_settings()
    try:
        page = client_for(loaded).get("/mentions-legales").text
    finally:
        reset_settings()
    assert "OVH &lt;script&gt;alert(1)&lt;/script&gt;, 2 rue Kellermann" in page and "<script>" not in page
    assert "62750 Loos-en-Gohelle" in page


def test_without_a_programme_the_pages_still_answer(db_url: str, client_for) -> None:  # noqa: ANN001
    client = client_for(db_url)
    for path in LEGAL:
        answer = client.get(path)
        assert answer.status_code == 200 and "à compléter" in answer.text, path


def _html_pages(client: TestClient, paths: list[str]) -> dict[str, str]:
    pages = {}
    for path in paths:
        answer = client.get(path, follow_redirects=True)
        downloaded = answer.headers.get("content-disposition", "").startswith("attachment")  # the HTML report
        if answer.headers.get("content-type", "").startswith("text/html") and not downloaded:
            pages[path] = answer.text
    return pages


def test_every_page_links_to_the_legal_pages_in_its_footer(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    staff = signed_in(client_for, started, clock, "direction")
    values = known_values(started) | {"slug": "cerdd-2015"}
    public = [p for r in _flat(staff.app.routes) if "GET" in r.methods and not r.path.startswith(("/equipe/", "/l/"))
              if (p := filled(r.path, values)) is not None]
    personal = [link(started, bearer, when="2015-07-01T10:00")[1]
                for bearer in (territory(), territory(party="cerdd"), consultancy(), juror())]
    errors = ["/", "/nulle/part", "/l/lien-falsifie/territoire/" + ARRAS]
    team = [p for r in staff_routes(staff.app, "GET") if (p := filled(r.path, values)) is not None]  # type: ignore[arg-type]
    pages = _html_pages(client_for(started), public + personal + errors) | _html_pages(staff, team)
    assert len(pages) >= 25 and {"/appel/cerdd-2015", "/equipe/", *LEGAL} <= set(pages), sorted(pages)
    missing = {path for path, page in pages.items() if not footer_links(page) >= set(LEGAL)}
    assert missing == set(), sorted(missing)
