"""Two clicks at once on « Signer la charte », over real HTTP to uvicorn: one signature, one audit
entry; the other request is told the form was already sent."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from sqlmodel import select

from models.db import session_scope
from models.tables import CharterSignature, PortalFormUse
from tests.guards import HANG_GUARD, join_or_fail
from tests.portal.conftest import link, territory
from tests.portal.helpers import audits, form_ending


def test_two_simultaneous_signatures_count_once(selected: str, serve: Any) -> None:
    base = serve(selected)
    _, path = link(selected, territory())
    page = httpx.get(base + path, timeout=HANG_GUARD).text
    form = {**form_ending(page, "/charte").hidden, "signataire": "Frédéric Leturque", "qualite": "Président",
            "lu": "oui"}
    statuses: list[int] = []
    gate = threading.Barrier(4)

    def click() -> None:
        gate.wait()
        statuses.append(httpx.post(base + path + "/charte", data=form, timeout=HANG_GUARD).status_code)

    clicks = [threading.Thread(target=click) for _ in range(4)]
    for thread in clicks:
        thread.start()
    join_or_fail(clicks, "quatre signatures simultanées")
    assert sorted(statuses) == [303, 409, 409, 409]
    with session_scope(selected) as session:
        assert len(session.exec(select(CharterSignature)).all()) == 1
        assert len(session.exec(select(PortalFormUse)).all()) == 1
    assert len(audits(selected, "charte.signee")) == 1
