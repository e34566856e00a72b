"""Every portal page declines a pilot's name right, whether it is feminine (« la CU d'Arras »),
masculine (« le SIVOM… ») or a proper name alone (« Artois Comm. »)."""

from __future__ import annotations

import pytest

from models.db import session_scope
from tests.conftest import at
from tests.portal.conftest import LENS, Clock, consultancy, juror, link, territory
from tests.territory_names import NAMES, Name, bad_forms, rename_territories, visible


@pytest.mark.parametrize("name", NAMES)
def test_every_portal_page_declines_the_territory_name(started: str, client_for, clock: Clock,  # noqa: ANN001
                                                       name: Name) -> None:
    with session_scope(started) as session:
        rename_territories(session, name.name)
    client = client_for(started)
    paths = {
        "territoire": link(started, territory(), when="2015-07-01T10:00")[1],
        "cerdd": link(started, territory(party="cerdd"), when="2015-07-01T10:00")[1],
        "prestataire (pilote)": link(started, territory(party="prestataire"), when="2015-07-01T10:00")[1],
        "charte à signer": link(started, territory(LENS), when="2015-07-01T10:00")[1],
        "prestataire": link(started, consultancy(), when="2015-07-01T10:00")[1],
    }
    pages = {}
    for label, path in paths.items():
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, (label, response.text)
        pages[label] = visible(response.text)
    assert "signer" in pages["charte à signer"].lower()
    clock.now = at("2015-05-20T10:00")  # the juror's sheet, read while the jury scores
    response = client.get(link(started, juror(), when="2015-05-20T10:00")[1], follow_redirects=True)
    assert response.status_code == 200, response.text
    pages["jury"] = visible(response.text)
    for label, text in pages.items():
        assert not bad_forms(text, name), (label, bad_forms(text, name), text)
        assert name.name in text, label
    assert any(phrase in text for text in pages.values() for phrase in name.wanted)
