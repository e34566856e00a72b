"""The call's public page: its texts, dates in Paris time, what is left (« il reste 3 jours »), the
contacts, the form to download, « Candidater en ligne » until the deadline; another slug is 404."""

from __future__ import annotations

import html

import pytest

from tests.conftest import at, open_call
from tests.portal.conftest import Clock
from tests.portal.helpers import assert_french_refusal


@pytest.fixture
def call_open(loaded: str) -> str:
    open_call(loaded)
    return loaded


@pytest.mark.parametrize(("now", "left"), [("2015-05-04T11:00", "il reste 3 jours"),
                                           ("2015-05-07T07:00", "il reste 5 heures"),
                                           ("2015-05-07T11:58:30", "il reste 1 minute")])
def test_the_call_page_while_open(call_open: str, client_for, clock: Clock, now: str, left: str) -> None:  # noqa: ANN001
    clock.now = at(now)
    answer = client_for(call_open).get("/appel/cerdd-2015")
    text = html.unescape(answer.text)
    assert answer.status_code == 200 and '<html lang="fr">' in answer.text
    assert left in text and "le jeudi 7 mai 2015 à 12h00" in text
    assert "Une commune seule ou un réseau d'entreprises qui répondrait seul" in text
    assert "une candidature conjointe EPCI et commune(s)" in text
    assert "aboutonne@cerdd.org" in text and "03 21 08 52 40" in text
    assert 'href="/appel/cerdd-2015/formulaire.docx"' in text and 'href="/appel/cerdd-2015/formulaire.odt"' in text
    assert "Candidater en ligne" in text


def test_at_the_deadline_the_call_is_closed(call_open: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    clock.now = at("2015-05-07T12:00:00")
    client = client_for(call_open)
    text = html.unescape(client.get("/appel/cerdd-2015").text)
    assert "L'appel est clos depuis le jeudi 7 mai 2015 à 12h00" in text and "Candidater en ligne" not in text
    assert "<form" not in client.get("/appel/cerdd-2015/commencer").text


def test_another_slug_is_not_a_call(call_open: str, client_for) -> None:  # noqa: ANN001
    client = client_for(call_open)
    for path in ("/appel/autre-programme", "/appel/autre-programme/commencer", "/appel/x/formulaire.docx"):
        assert_french_refusal(client.get(path), 404, "Il n'y a pas d'appel à candidature à cette adresse.")


@pytest.mark.parametrize(("kind", "magic"), [("docx", b"PK\x03\x04"), ("odt", b"PK\x03\x04")])
def test_the_form_to_download(call_open: str, client_for, kind: str, magic: bytes) -> None:  # noqa: ANN001
    """The annex generated from the stored definition (documents/annex.py, issue 22's annex work)."""
    from models.attachments import MEDIA_TYPES, sniff

    client = client_for(call_open)
    try:
        answer = client.get(f"/appel/cerdd-2015/formulaire.{kind}")
    except NotImplementedError:
        pytest.xfail("documents.annex n'est pas encore implémenté (travail de l'annexe, issue 22)")
    assert answer.status_code == 200 and answer.headers["content-type"] == MEDIA_TYPES[kind]
    assert answer.content.startswith(magic) and sniff(answer.content) == kind
