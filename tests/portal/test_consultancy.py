"""The consultancy's router over HTTP: a deliverable's file handed in, a new due date asked for."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from models.attachments import MAX_BYTES
from models.db import session_scope
from models.tables import (
    Deliverable,
    DeliverableFile,
    DueDateRequest,
    DueDateRequestStatus,
)
from tests.conftest import at
from tests.portal.conftest import ARRAS, consultancy, link, territory
from tests.portal.helpers import PDF, assert_french_refusal, audits, count, form_ending, notices


def test_the_consultancy_hands_in_a_file(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    page = client.get(path).text
    assert "CU d&#39;Arras" in page and "Remettre le livrable" in page
    form = form_ending(page, f"/prestataire/{ARRAS}/livrable/methode/remise")
    action = form.action

    def post(name: str, content: bytes, media: str = "application/pdf"):  # noqa: ANN202
        return client.post(action, data=form.hidden, files={"fichier": (name, content, media)})

    assert_french_refusal(post("methode.pdf", b"MZ\x90\x00 not a pdf"), 415,
                          "son contenu n'est pas celui d'un fichier PDF")
    assert_french_refusal(post("methode.docx", PDF), 415, "porte l'extension .docx")
    assert_french_refusal(post("methode.pdf", b""), 415, "vide")
    assert_french_refusal(post("gros.pdf", b"%PDF-" + b"0" * (MAX_BYTES + 10)), 413, "dépasse la limite")
    assert_french_refusal(post("enorme.pdf", b"%PDF-" + b"0" * (MAX_BYTES + 400_000)), 413, "dépasse la limite")
    assert count(started, DeliverableFile) == 0 and audits(started, "livrable.remis") == []
    done = post("méthode.pdf", PDF)
    assert done.status_code == 303, done.text
    with session_scope(started) as session:
        stored, = session.exec(select(DeliverableFile)).all()
        deliverable = session.get(Deliverable, stored.deliverable_id)
        assert deliverable is not None and deliverable.key == "methode"
        assert deliverable.delivered_at == at("2015-07-02T10:00")
    assert (stored.sha256, stored.size, stored.media_type) == (hashlib.sha256(PDF).hexdigest(), len(PDF),
                                                                 "application/pdf")
    assert len(audits(started, "livrable.remis")) == 1 and len(audits(started, "livrable.fichier")) == 1
    assert_french_refusal(post("méthode.pdf", PDF), 409, "déjà été envoyé")
    assert "méthode.pdf" in client.get(path).text


def test_the_consultancy_asks_for_a_new_due_date(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    _, path = link(started, territory(party="prestataire"), when="2015-07-01T10:00")
    page = client.get(path).text
    form = form_ending(page, "/livrable/diagnostic/report")
    late = {**form.hidden, "echeance": "2015-07-01", "motif": "Entretiens décalés"}
    assert_french_refusal(client.post(form.action, data=late), 422, "doit être postérieure")
    form = form_ending(client.get(path).text, "/livrable/diagnostic/report")
    done = client.post(form.action, data={**form.hidden, "echeance": "2015-09-15", "motif": "Entretiens décalés"})
    assert done.status_code == 303, done.text
    with session_scope(started) as session:
        request, = session.exec(select(DueDateRequest)).all()
        assert (request.status, request.reason, request.requested_due) == (
            DueDateRequestStatus.PENDING, "Entretiens décalés", at("2015-09-15T18:00"))
    notice, = notices(started, "demande_report")
    assert notice.recipient_email == "aboutonne@cerdd.org" and "Entretiens décalés" in notice.body_text
    assert len(audits(started, "livrable.report_demande")) == 1
    assert "nouvelle échéance demandée" in client.get(path).text
    _, territory_path = link(started, territory(), when="2015-07-01T10:00")  # not the consultancy's page
    assert_french_refusal(client.get(territory_path.replace("/territoire/", "/prestataire/")), 403,
                          "ne donne pas accès")
