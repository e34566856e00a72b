"""The bound on requests waiting for a thread (PORTAL_QUEUE), over real HTTP to uvicorn: a portal
working on one request at once (PORTAL_CONCURRENCY=1) with one more waiting (PORTAL_QUEUE=1). A
signature held on a lock takes the one thread, a page waits for it, and a third request is answered
at once 503 in French with `Retry-After`: a signature posted then records nothing, and its form
works once the portal is free again. The health check stays outside the bound."""

from __future__ import annotations

import html
import re
import threading
from typing import Any

import httpx
import pytest
from sqlmodel import select

from config.settings import get_settings
from models.db import session_scope
from models.tables import CharterSignature
from tests.guards import HANG_GUARD, join_or_fail, wait_for
from tests.portal.conftest import ARRAS, LENS, SECRET, Clock, link, territory
from tests.portal.helpers import form_ending
from tests.portal.test_blocking import announce_transactions, held_lock
from transitions.portal import errors
from transitions.portal.app import create_app


def _signature_form(base: str, path: str) -> dict[str, str]:
    page = httpx.get(base + path, timeout=HANG_GUARD).text
    return {**form_ending(page, "/charte").hidden, "signataire": "Frédéric Leturque", "qualite": "Président",
            "lu": "oui"}


def _signatures(url: str) -> int:
    with session_scope(url) as session:
        return len(session.exec(select(CharterSignature)).all())


def test_beyond_concurrency_and_queue_a_request_is_answered_503_at_once(
        selected: str, serve: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(selected, SECRET, clock=clock, concurrency=1, queue=1)
    base = serve(selected, app)
    requests = app.state.requests
    assert requests.limit == 2
    _, arras = link(selected, territory(ARRAS))
    _, lens = link(selected, territory(LENS))
    arras_form, lens_form = _signature_form(base, arras), _signature_form(base, lens)

    in_transaction = announce_transactions(monkeypatch)
    answers: dict[str, httpx.Response] = {}

    def ask(name: str, method: str, path: str, form: dict[str, str] | None = None) -> None:
        answers[name] = httpx.request(method, base + path, data=form, timeout=HANG_GUARD)

    held = threading.Thread(target=ask, args=("signature", "POST", arras + "/charte", arras_form))
    waiting = threading.Thread(target=ask, args=("page", "GET", lens))
    with held_lock(selected):
        held.start()
        wait_for(in_transaction.is_set, "la signature n'ouvre pas sa transaction")
        waiting.start()
        wait_for(lambda: requests.count == 2, "la page n'attend pas son tour")
        refused = httpx.post(base + lens + "/charte", data=lens_form, timeout=HANG_GUARD)
        refused_too = [httpx.get(base + lens, timeout=HANG_GUARD).status_code for _ in range(5)]
        health = httpx.get(base + "/sante", timeout=HANG_GUARD)
        still_held = held.is_alive() and waiting.is_alive()
    join_or_fail([held, waiting], "les requêtes acceptées, une fois le verrou libéré")

    assert still_held, "la signature et la page devaient encore attendre quand la troisième a été refusée"
    assert refused.status_code == 503 and refused_too == [503] * 5
    error_log = get_settings().error_log  # what the operator reads: two lines for six refusals, not six
    told = [line.split(" : ", 1)[1] for line in error_log.read_text(encoding="utf-8").splitlines() if "saturé" in line]
    why = "portail saturé : trop de requêtes en attente d'un fil (PORTAL_QUEUE)"
    assert told[0] == f"{why}, réponse 503" and len(told) == 2, told  # the first at once, ...
    assert re.fullmatch(rf"{re.escape(why)}, 5 autres réponses 503 (à|de) [0-9:]+( à [0-9:]+)?", told[1]), told
    assert refused.headers["retry-after"] == str(errors.BUSY_RETRY_AFTER)
    page = html.unescape(refused.text)
    assert errors.BUSY in page and errors.NOTHING_RECORDED in page and '<html lang="fr">' in page
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert health.status_code == 200
    assert answers["signature"].status_code == 303 and answers["page"].status_code == 200
    wait_for(lambda: requests.count == 0, "le portail compte encore des requêtes finies")  # after their answers
    assert _signatures(selected) == 1  # Arras's: the refused one (Lens's) recorded nothing
    again = httpx.post(base + lens + "/charte", data=lens_form, timeout=HANG_GUARD)
    assert again.status_code == 303, again.text  # its one-time token was not spent
    assert _signatures(selected) == 2
