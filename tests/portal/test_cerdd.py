"""The Cerdd's router over HTTP: due-date requests decided on the pilot's page."""

from __future__ import annotations

from sqlmodel import select

from models.db import session_scope
from models.tables import (
    Deliverable,
    DueDateRequest,
    DueDateRequestStatus,
)
from tests.conftest import at
from tests.portal.conftest import ARRAS, LENS, consultancy, link, territory
from tests.portal.helpers import PDF, assert_french_refusal, audits, form_ending, notices


def test_the_cerdd_decides_a_due_date_request_on_its_page(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    _, consultancy_path = link(started, consultancy(), when="2015-07-01T10:00")
    form = form_ending(client.get(consultancy_path).text, f"{ARRAS}/livrable/diagnostic/report")
    client.post(form.action, data={**form.hidden, "echeance": "2015-09-15", "motif": "Entretiens décalés"})
    _, lens_path = link(started, territory(LENS, "cerdd"), when="2015-07-01T10:00")
    assert "/demande/" not in client.get(lens_path).text  # another pilot's Cerdd link shows it, cannot decide it
    _, path = link(started, territory(party="cerdd"), when="2015-07-01T10:00")
    decision = form_ending(client.get(path).text, "/demande/1")
    assert_french_refusal(client.post(lens_path + "/demande/1", data={**decision.hidden, "decision": "accorder"}),
                          404, "n'existe pas pour ce territoire")
    assert_french_refusal(client.post(decision.action, data={**decision.hidden, "decision": "peut-être"}), 422,
                          "accorder ou de refuser")
    done = client.post(decision.action, data={**decision.hidden, "decision": "accorder"})
    assert done.status_code == 303, done.text
    with session_scope(started) as session:
        request, = session.exec(select(DueDateRequest)).all()
        deliverable = session.get(Deliverable, request.deliverable_id)
        assert request.status == DueDateRequestStatus.GRANTED
        assert deliverable is not None and deliverable.due_at == at("2015-09-15T18:00")
    assert len(audits(started, "livrable.report_decide")) == 1 and len(notices(started, "livrable_reporte")) >= 1
    assert "accordée" in client.get(path).text


def test_a_request_waiting_when_its_deliverable_is_handed_in_is_closed(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    _, consultancy_path = link(started, consultancy(), when="2015-07-01T10:00")
    page = client.get(consultancy_path).text
    ask = form_ending(page, f"{ARRAS}/livrable/diagnostic/report")
    client.post(ask.action, data={**ask.hidden, "echeance": "2015-09-15", "motif": "Entretiens décalés"})
    _, path = link(started, territory(party="cerdd"), when="2015-07-01T10:00")
    decision = form_ending(client.get(path).text, "/demande/1")  # the Cerdd's page, opened before the hand-in
    hand_in = form_ending(page, f"{ARRAS}/livrable/diagnostic/remise")
    done = client.post(hand_in.action, data=hand_in.hidden,
                       files={"fichier": ("diagnostic.pdf", PDF, "application/pdf")})
    assert done.status_code == 303, done.text
    with session_scope(started) as session:
        request, = session.exec(select(DueDateRequest)).all()
        deliverable = session.get(Deliverable, request.deliverable_id)
        assert request.status == DueDateRequestStatus.MOOT and request.decided_at == at("2015-07-02T10:00")
        assert deliverable is not None and deliverable.due_at != at("2015-09-15T18:00")
    assert len(audits(started, "livrable.report_sans_objet")) == 1
    cerdd = client.get(path).text
    assert "/demande/" not in cerdd and "sans objet : livrable remis" in cerdd  # nothing left to grant
    assert_french_refusal(client.post(decision.action, data={**decision.hidden, "decision": "accorder"}), 409,
                          "déjà décidée")
