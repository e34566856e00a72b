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
    bearers = {"territoire": territory(), "cerdd": territory(party="cerdd"),
               "prestataire (pilote)": territory(party="prestataire"), "charte à signer": territory(LENS),
               "prestataire": consultancy()}
    pages = {}
    for label, bearer in bearers.items():  # each link opened before the next one may replace it
        response = client.get(link(started, bearer, when="2015-07-01T10:00")[1], follow_redirects=True)
        assert response.status_code == 200, (label, response.text)
        pages[label] = visible(response.text)
    # 1 July, past the charter's deadline of 26 June: the page says the portal no longer signs it
    assert "la charte ne se signe plus en ligne" in pages["charte à signer"].lower()
    clock.now = at("2015-05-20T10:00")  # the juror's sheet, read while the jury scores
    response = client.get(link(started, juror(), when="2015-05-20T10:00")[1], follow_redirects=True)
    assert response.status_code == 200, response.text
    pages["jury"] = visible(response.text)
    for label, text in pages.items():
        assert not bad_forms(text, name), (label, bad_forms(text, name), text)
        assert name.name in text, label
    assert any(phrase in text for text in pages.values() for phrase in name.wanted)
