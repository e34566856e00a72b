"""The back office's home as the engine's monitor (issue 23, item 4): every role reads whether
Prefect's deployments exist and how the last tick ended, or, without a server or with one that
does not answer, a French sentence on a page that still opens (200); and what the outbox holds
back, each kind of trouble linking to the notices' page filtered on it."""

from __future__ import annotations

import html
import socket
from datetime import timedelta

import pytest
from sqlmodel import select

from flows.plain import run_tick_plain
from models.db import session_scope
from models.delivery import mark_failed
from models.tables import Notice
from tests.conftest import at
from tests.portal.conftest import Clock
from tests.portal.staff_login import signed_in
from transitions.runtime import run_tick


@pytest.fixture
def quiet(selected: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:  # noqa: ANN001
    """Everything due on 4 June 2015 delivered; no Prefect server named or announced."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "donnees"))
    run_tick_plain(at("2015-06-04T14:35"))
    clock.now = at("2015-06-05T10:00")
    return selected


def _home(client) -> str:  # noqa: ANN001
    page = client.get("/equipe/")
    assert page.status_code == 200
    return " ".join(html.unescape(page.text).split())


def test_every_role_reads_that_no_server_is_named_and_nothing_is_held(quiet: str, client_for, clock: Clock) -> None:
    for role in ("lecture", "charge_de_mission", "direction"):
        text = _home(signed_in(client_for, quiet, clock, role))
        assert "Le moteur : Prefect et les avis retenus" in text
        assert "Aucun serveur Prefect n'est configuré" in text
        assert "Dernier tick enregistré pour ce programme : le jeudi 4 juin 2015 à 14h35" in text
        assert "Aucun avis n'est retenu" in text


def test_a_given_up_notice_links_to_the_notices_page(quiet: str, client_for, clock: Clock) -> None:
    client = signed_in(client_for, quiet, clock, "lecture")  # its invitation has left at once
    with session_scope(quiet) as session:
        invitation = session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).one()
        mark_failed(session, [invitation], at=clock.now, error="550 5.1.1 <lecteur@dreal.example.org> inconnu",
                    permanent=True, max_age=timedelta(days=5), retry_in=timedelta(minutes=5))
    text = _home(client)
    assert "Avis abandonnés : 1" in text and 'href="/equipe/avis?etat=abandonne"' in text
    assert "550 5.1.1 <lecteur@dreal.example.org> inconnu" in text  # escaped on the page, read back here
    assert "Aucun avis n'est retenu" not in text
    assert client.get("/equipe/avis?etat=abandonne").status_code == 200


def test_a_silent_server_is_said_in_french_and_the_page_opens(quiet: str, client_for, clock: Clock,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    text = _home(signed_in(client_for, quiet, clock, "charge_de_mission"))
    assert f"Le serveur Prefect (http://127.0.0.1:{port}/api) ne répond pas" in text
    assert "Traceback" not in text


@pytest.mark.prefect
def test_the_deployments_and_the_last_tick_from_prefect(prefect_server: None, quiet: str, client_for, clock: Clock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL

    from flows.tick import tick_flow

    api = str(PREFECT_API_URL.value())
    monkeypatch.setenv("PREFECT_API_URL", api)
    tick_flow.to_deployment(name="tick").apply()
    run_tick(at("2015-06-05T09:00"))
    text = _home(signed_in(client_for, quiet, clock, "lecture"))
    assert f"Serveur Prefect : {api}." in text
    from flows.monitor import engine_status

    missing = engine_status(mailbox=False).missing  # the test server is shared: other tests may have deployed
    assert ("déploiement(s) absent(s) :" in text) == bool(missing) and all(name in text for name in missing)
    assert '<th scope="row">tick</th><td>présent, aucun processus ne le sert en ce moment</td>' in text
    assert "Dernier tick lancé : « tick 2015-06-05 09:00 », démarré le " in text and ", fini le " in text
    assert " : terminé." in text
