"""The back office's home and report over HTTP: the navigation on every section (the current one
marked), the home's waiting items linking to their pages, the HTML report and every export
downloaded as an attachment, an unknown export refused in French."""

from __future__ import annotations

import html

from tests.conftest import at
from tests.portal.conftest import Clock
from tests.portal.helpers import assert_french_refusal
from tests.portal.staff_login import signed_in
from transitions.exports import KINDS
from transitions.portal.staff_state import NAVIGATION


def test_the_home_lists_what_waits_and_what_is_late_with_one_link_each(selected: str, client_for,
                                                                        clock: Clock) -> None:
    clock.now = at("2015-06-29T10:00")
    client = signed_in(client_for, selected, clock, "direction")
    home = client.get("/equipe/")
    text = html.unescape(home.text)
    assert home.status_code == 200 and 'aria-current="page">Accueil' in text
    assert all(f'href="{path}"' in text and name in text for path, name in NAVIGATION)
    assert "Ce qui attend le Cerdd" in text and "décision sur la charte non signée" in text
    assert '<a href="/equipe/pilotes">CU d\'Arras : décision sur la charte non signée' in text
    assert "Ce qui est en retard chez les autres" in text and "signature de la charte par le territoire" in text


def test_the_report_and_every_export_download(closed: str, client_for, clock: Clock) -> None:
    client = signed_in(client_for, closed, clock, "lecture")
    page = client.get("/equipe/rapport")
    assert page.status_code == 200 and 'aria-current="page">Rapport' in html.unescape(page.text)
    report = client.get("/equipe/rapport/rapport.html")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert report.headers["content-disposition"].startswith("attachment") and "<html" in report.text
    for kind in KINDS:
        csv = client.get(f"/equipe/rapport/exports/{kind}.csv")
        assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf"), kind  # UTF-8 with BOM
        assert csv.headers["content-disposition"] == f'attachment; filename="{kind}.csv"'
    book = client.get("/equipe/rapport/exports/scores.xlsx")
    assert book.status_code == 200 and book.content.startswith(b"PK")
    assert_french_refusal(client.get("/equipe/rapport/exports/secrets.csv"), 422, "Export inconnu")
    assert_french_refusal(client.get("/equipe/rapport/exports/scores.pdf"), 422, "Format inconnu")
