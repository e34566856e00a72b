"""Partners confirm over HTTP: the lead asks from its draft's page, each partner's contact opens its
own mailed link, confirms or declines (one-time forms, the last answer counting), read-only from
the jury's meeting on; forged links and another partner's link reach nothing; the juror's sheet
shows « partenaire confirmé », « a décliné », « non confirmé »."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from config.settings import reset_settings
from models.call import close_call
from models.db import session_scope
from models.tables import Notice
from notifications.message import personal_link
from tests.conftest import EXAMPLES, at, ctx_of, open_call
from tests.draft_data import ARRAS
from tests.portal.conftest import SECRET, Clock, juror, link
from tests.portal.helpers import assert_french_refusal, audits, form_ending, notices
from tests.portal.test_applicant import mailed_path, start
from transitions.intake import read_application, submit_form

VASSEUR = "l.vasseur@ville-arras.example.org"
CLUB = "contact@club-arrageois.example.org"


@pytest.fixture
def asked(loaded: str, clock: Clock, client_for, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: ANN001
    """The CU d'Arras applied by file, then asked its partners to confirm from its draft's page."""
    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    reset_settings()
    open_call(loaded)
    submit_form(loaded, read_application(EXAMPLES / "candidature-cu-arras.yaml"), at("2015-04-19T10:00"), None)
    clock.now = at("2015-04-20T10:00")
    client = client_for(loaded)
    start(client)
    path = mailed_path(loaded, "claire.dufour@cu-arras.example.org")
    answer = client.post(path + "/partenaires", data=form_ending(client.get(path).text, "/partenaires").hidden)
    assert answer.status_code == 303 and "fait=partenaires" in answer.headers["location"]
    yield loaded
    monkeypatch.undo()
    reset_settings()


def partner_path(url: str, email: str) -> str:
    with session_scope(url) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "confirmation_partenaire",
                                                   Notice.recipient_email == email)).one()
        link = personal_link(notice)
        assert link
        return urlsplit(link).path


def _answer(client, path: str, choice: str):  # noqa: ANN001, ANN201
    token = form_ending(client.get(path).text, "/repondre").hidden
    return client.post(path + "/repondre", data={**token, "reponse": choice})


def test_a_partner_confirms_then_declines_by_its_own_link(asked: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(asked)
    path = partner_path(asked, VASSEUR)
    assert path.endswith(f"/partenaire/{ARRAS}/1")
    page = html.unescape(client.get(path).text)
    assert "Ville d'Arras" in page and "La CU d'Arras" in page and "Laure Vasseur" in page
    assert "Troisième Révolution Industrielle" in page  # the motivations' excerpt
    token = form_ending(client.get(path).text, "/repondre").hidden
    first = client.post(path + "/repondre", data={**token, "reponse": "confirmer"})
    assert first.status_code == 303 and "fait=partenaire-confirme" in first.headers["location"]
    assert_french_refusal(client.post(path + "/repondre", data={**token, "reponse": "decliner"}), 409,
                          "déjà été envoyé")  # the replayed form changes nothing
    assert "partenaire confirmé" in client.get(path).text
    assert_french_refusal(_answer(client, path, "peut-etre"), 422, "Confirmer » ou « Décliner")
    assert _answer(client, path, "decliner").status_code == 303
    assert "a décliné" in html.unescape(client.get(path).text)
    assert [e.action for e in audits(asked, "partenaire.confirme") + audits(asked, "partenaire.decline")] == [
        "partenaire.confirme", "partenaire.decline"]
    assert len(notices(asked, "reponse_partenaire")) >= 2
    draft_page = html.unescape(client.get(mailed_path(asked, "claire.dufour@cu-arras.example.org")).text)
    assert "a décliné" in draft_page  # the lead sees it on its draft too


def test_forged_and_other_partners_links_reach_nothing(asked: str, client_for) -> None:  # noqa: ANN001
    client = client_for(asked)
    mine, theirs = partner_path(asked, VASSEUR), partner_path(asked, CLUB)
    token = mine.split("/")[2]
    assert_french_refusal(client.get(theirs.replace(theirs.split("/")[2], token)), 403,
                          "ne donne pas accès à cette demande de confirmation")
    assert_french_refusal(client.get(f"/l/{token[:-3]}abc/partenaire/{ARRAS}/1"), 403, "n'est pas valide")
    assert_french_refusal(client.get(f"/l/{token}/candidat/{ARRAS}"), 403, "ne donne pas accès à cette candidature")
    form = form_ending(client.get(mine).text, "/repondre").hidden
    answer = client.post(theirs.replace(theirs.split("/")[2], token) + "/repondre",
                         data={**form, "reponse": "confirmer"})
    assert answer.status_code == 403 and audits(asked, "partenaire.confirme") == []


def test_read_only_from_the_jurys_meeting_and_the_juror_sees_each_state(asked: str, client_for,  # noqa: ANN001
                                                                         clock: Clock) -> None:
    client = client_for(asked)
    club = partner_path(asked, CLUB)
    assert _answer(client, partner_path(asked, VASSEUR), "confirmer").status_code == 303
    clock.now = at("2015-06-04T13:59")
    token = form_ending(client.get(club).text, "/repondre").hidden
    clock.now = at("2015-06-04T14:00")
    assert_french_refusal(client.post(club + "/repondre", data={**token, "reponse": "confirmer"}), 409,
                          "Le jury s'est réuni le jeudi 4 juin 2015 à 14h00")
    page = html.unescape(client.get(club).text)
    assert "Lecture seule" in page and "/repondre" not in page and audits(asked, "partenaire.confirme")[0]
    with session_scope(asked) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))
    clock.now = at("2015-06-01T10:00")
    _, sheet = link(asked, juror(), when="2015-06-01T10:00")
    shown = re.sub(r"<[^>]+>", "", html.unescape(client.get(sheet).text))
    assert "Ville d'Arras (commune) : partenaire confirmé" in shown
    assert "Club des entreprises de l'Arrageois (réseau d'entreprises) : non confirmé" in shown

