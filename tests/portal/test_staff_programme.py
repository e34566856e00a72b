"""The back office's programme pages over HTTP, on SQLite and PostgreSQL, after a real preview and
apply on the CU d'Arras under way (`formation-2` a week later under a `<script>` title, from a file
whose name carries markup; `formation-1`, already held, refused): the versions and the previews,
one preview by person and by date with the command that applies it, a version's YAML diff, every
value escaped; unknown ids: 404 in French; `lecture`: 403, and no « Programme » in its navigation."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from tests.conftest import at
from tests.models.read.test_staff_programme import FILE, HOSTILE, applied, changed_definition, previewed
from tests.portal.conftest import Clock
from tests.portal.helpers import assert_french_refusal
from tests.portal.staff_login import signed_in


def _page(client: TestClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.text)
    assert "<script" not in answer.text and "<b>" not in answer.text  # the file's markup, escaped
    return html.unescape(answer.text)


def test_the_pages_show_a_preview_and_the_versions_escaped(started: str, client_for, clock: Clock) -> None:
    definition = changed_definition(started)
    preview = previewed(started, definition, actor="cli:anne")
    clock.now = at("2015-09-01T10:30")
    client = signed_in(client_for, started, clock, "charge_de_mission")

    listing = _page(client, "/equipe/programme")
    assert 'aria-current="page">Programme' in listing and "suit sa version 1" in listing
    assert f"Aperçu n° {preview.id}" in listing and FILE in listing and "cli:anne" in listing
    assert "1 règle" not in listing and f"{len(preview.differences)} différence(s)" in listing
    assert "ne reçoit aucun fichier" in listing  # uploading is the command line's

    shown = _page(client, f"/equipe/programme/apercus/{preview.id}")
    assert preview.sha256 in shown and "Par personne" in shown and "Par date" in shown
    assert HOSTILE in shown and "claire.dufour@cu-arras.example.org" in shown  # grouped by person
    assert "2015-10-08" in shown  # and by date: formation-2's new day
    assert "Refusés, jamais appliqués (1)" in shown and "la session a commencé le lundi 3 août 2015" in shown
    assert ("transitions programme apply 'v2 <b>salle</b>.yaml' --reason \"…\" --at 2015-09-01T10:00" in shown
            and "avec le même fichier" in shown)

    applied(started, definition)
    listing = _page(client, "/equipe/programme")
    assert "Version 2</a> (en cours)" in listing and "Salle <b>prise</b>" in listing
    assert "est depuis passé à la version 2" in _page(client, f"/equipe/programme/apercus/{preview.id}")
    version = _page(client, "/equipe/programme/versions/2")
    assert "Ce qui change depuis la version 1" in version
    assert '<span class="retrait">-    at: P3M</span>' in version
    assert '<span class="ajout">+    at: P3M1W</span>' in version
    assert f'<span class="ajout">+    title: {HOSTILE}</span>' in version
    assert "Première version : sa définition entière" in _page(client, "/equipe/programme/versions/1")

    assert_french_refusal(client.get("/equipe/programme/apercus/999"), 404, "Aucun aperçu n° 999")
    assert_french_refusal(client.get("/equipe/programme/versions/3"), 404, "pas de version n° 3")


def test_lecture_may_not_see_the_changes(started: str, client_for, clock: Clock) -> None:
    preview = previewed(started, changed_definition(started))
    clock.now = at("2015-09-01T10:30")
    client = signed_in(client_for, started, clock, "lecture")
    for path in ("/equipe/programme", f"/equipe/programme/apercus/{preview.id}", "/equipe/programme/versions/1"):
        assert_french_refusal(client.get(path), 403, "Votre rôle")
    home = client.get("/equipe/")
    assert home.status_code == 200 and 'href="/equipe/programme"' not in home.text
