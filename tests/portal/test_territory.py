"""The territory's router over HTTP: an invitation answered, a session downloaded as a calendar."""

from __future__ import annotations

from sqlmodel import select

from models.db import session_scope
from models.tables import (
    SessionAnswer,
)
from tests.portal.conftest import link, territory
from tests.portal.helpers import assert_french_refusal, audits, count, form_ending


def test_a_territory_answers_an_invitation_and_downloads_it(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    _, path = link(started, territory(), when="2015-07-01T10:00")
    page = client.get(path).text
    assert "Les sessions" in page and "formation-1.ics" in page
    form = form_ending(page, "/session/formation-1")
    data = {**form.hidden, "presence": "oui", "participants": "Claire Dufour\nJean Martin"}
    done = client.post(f"{path}/session/formation-1", data=data)
    assert done.status_code == 303, done.text
    assert "Claire Dufour, Jean Martin" in client.get(path).text
    with session_scope(started) as session:
        answer, = session.exec(select(SessionAnswer)).all()
        assert (answer.attending, answer.people) == (True, "Claire Dufour\nJean Martin")
    entry, = audits(started, "session.reponse")
    assert "présent (Claire Dufour, Jean Martin)" in entry.summary
    assert_french_refusal(client.post(f"{path}/session/formation-1", data=data), 409, "déjà été envoyé")
    wrong = {**form_ending(client.get(path).text, "/session/formation-1").hidden, "presence": "peut-être"}
    assert_french_refusal(client.post(f"{path}/session/formation-1", data=wrong), 422, "présent ou non")
    ics = client.get(f"{path}/session/formation-1.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content and b"METHOD:PUBLISH" in ics.content
    assert count(started, SessionAnswer) == 1
