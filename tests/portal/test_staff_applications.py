"""The back office's applications over HTTP: the list, one application in full (sections as the
annex titles them, versions, partners, admissibility), its files downloaded as attachments, and
refusals in French for what does not exist."""

from __future__ import annotations

import html

from sqlmodel import select

from models.db import session_scope
from models.forms import SECTIONS
from models.tables import Application, ApplicationFile, ApplicationVersion
from tests.portal.conftest import ARRAS, Clock
from tests.portal.helpers import assert_french_refusal
from tests.portal.staff_login import signed_in


def test_the_list_the_file_in_full_and_its_attachments(closed: str, client_for, clock: Clock) -> None:
    client = signed_in(client_for, closed, clock, "lecture")
    listing = client.get("/equipe/candidatures")
    text = html.unescape(listing.text)
    assert listing.status_code == 200 and 'aria-current="page">Candidatures' in text
    with session_scope(closed) as session:
        arras = session.exec(select(Application).where(Application.lead_siren == ARRAS)).one()
        receipt, status = arras.receipt_number, arras.status
        files = session.exec(select(ApplicationFile).join(ApplicationVersion).where(
            ApplicationVersion.application_id == arras.id)).all()
        first = files[0].id, files[0].filename, files[0].media_type, files[0].content
        other = session.exec(select(ApplicationFile).join(ApplicationVersion).where(
            ApplicationVersion.application_id != arras.id)).first()
        assert other is not None
        others = other.id
    assert receipt in text and "dossier enregistré par le Cerdd" in text
    page = client.get(f"/equipe/candidatures/{receipt}")
    text = html.unescape(page.text)
    assert page.status_code == 200 and "Recevabilité" in text and "recevable" in text
    assert all(section.heading in text for section in SECTIONS)
    assert "Version 1" in text and "Confirmations des partenaires" in text and status
    assert client.get(f"/equipe/candidatures/{ARRAS}").status_code == 200  # the SIREN names it too
    download = client.get(f"/equipe/candidatures/{receipt}/pieces/{first[0]}")
    assert download.status_code == 200 and download.content == first[3]
    assert download.headers["content-type"].startswith(first[2])
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert_french_refusal(client.get(f"/equipe/candidatures/{receipt}/pieces/{others}"), 404,
                          "pas de document portant ce numéro")
    assert_french_refusal(client.get("/equipe/candidatures/CERDD-2015-9999"), 404, "Aucune candidature")


def test_applications_need_a_session(closed: str, client_for) -> None:
    client = client_for(closed)
    assert client.get("/equipe/candidatures").headers["location"] == "/equipe/connexion?fait=session"
