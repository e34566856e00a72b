"""The back office's deliverables over HTTP (issue 23): the file handed in opened and downloaded
(its media type, as an attachment, never sniffed), a deliverable accepted or returned with a
comment, a due-date request granted, through the domain functions `transitions deliverable …`
calls, audited with the member as actor; `lecture` refused every POST (403, nothing changed)."""

from __future__ import annotations

import html

from models import deliverables
from models.clock import paris
from models.db import session_scope
from models.pilots import find_pilot
from models.tables import Deliverable, DueDateRequest, DueDateRequestStatus
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, Clock
from tests.portal.helpers import PDF, assert_french_refusal, audits, form_ending, forms, notices
from tests.portal.year_signin import ROLES, team

CLAIRE = f"equipe:{ROLES['charge_de_mission']}"


def _handed_in(url: str) -> dict[str, int]:
    """The method and the training material handed in with a file, a later due date asked for the
    diagnostic (all on 20 July 2015); returns the deliverables' row numbers by key."""
    with session_scope(url) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, ARRAS)
        found = {d.key: d for d in deliverables.deliverables_of(ctx, pilot)}
        for key in ("methode", "supports-formation"):
            deliverables.hand_in_file(ctx, found[key], filename=f"{key}.pdf", data=PDF, at=at("2015-07-20T10:00"),
                                      by="prestataire")
        deliverables.request_due_date(ctx, found["diagnostic"], to=at("2015-09-15T18:00"), reason="Entretiens décalés",
                                      at=at("2015-07-20T11:00"))
        return {key: d.id or 0 for key, d in found.items()}


def _row(url: str, deliverable_id: int) -> Deliverable:
    with session_scope(url) as session:
        row = session.get(Deliverable, deliverable_id)
        assert row is not None
        session.expunge(row)
        return row


def test_open_download_return_and_accept(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    ids = _handed_in(started)
    clock.now = at("2015-07-21T10:00")
    clients = team(started, client_for, clock)
    claire, reader = clients["charge_de_mission"], clients["lecture"]
    listing = html.unescape(reader.get("/equipe/livrables").text)
    assert "Méthode d'accompagnement" in listing and "remis, en relecture" in listing
    page = claire.get(f"/equipe/livrables/{ids['methode']}")
    assert page.status_code == 200 and "methode.pdf" in page.text
    link = next(part.split('"')[0] for part in page.text.split('href="')[1:] if "/fichiers/" in part)
    got = reader.get(link)
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''methode.pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    file_id = link.rsplit("/", 1)[1]
    assert_french_refusal(reader.get(f"/equipe/livrables/{ids['diagnostic']}/fichiers/{file_id}"), 404,
                          "Aucun fichier")
    back = form_ending(page.text, "/renvoyer")
    data = {**back.hidden, "commentaire": "Préciser le calendrier des entretiens", "echeance": "14/08/2015"}
    assert_french_refusal(reader.post(back.action, data=data), 403, "ne permet pas cette action")
    blank = claire.post(back.action, data={**data, "commentaire": " "})
    assert_french_refusal(blank, 422, "commentaire est obligatoire")
    assert _row(started, ids["methode"]).returned_at is None
    done = claire.post(back.action, data=data)
    assert done.status_code == 303 and done.headers["location"].endswith("fait=livrable-renvoye#examen")
    row = _row(started, ids["methode"])
    assert row.review_comment == "Préciser le calendrier des entretiens" and row.delivered_at is None
    assert paris(row.due_at).strftime("%d/%m/%Y %H:%M") == "14/08/2015 18:00"
    assert [a.actor for a in audits(started, "livrable.a_reprendre")] == [CLAIRE]
    assert len(notices(started, "livrable_a_reprendre")) == 2  # the consultancy and the Cerdd's manager
    assert "Préciser le calendrier" in html.unescape(claire.get(f"/equipe/livrables/{ids['methode']}").text)
    accept = form_ending(claire.get(f"/equipe/livrables/{ids['supports-formation']}").text, "/accepter")
    assert_french_refusal(reader.post(accept.action, data=accept.hidden), 403, "ne permet pas")
    assert claire.post(accept.action, data=accept.hidden).status_code == 303
    assert _row(started, ids["supports-formation"]).accepted_at == clock.now
    assert [a.actor for a in audits(started, "livrable.accepte")] == [CLAIRE]
    assert_french_refusal(claire.post(accept.action, data=accept.hidden), 409, "déjà été envoyé")
    unread = claire.get(f"/equipe/livrables/{ids['diagnostic']}").text
    assert "n'a pas été remis" in html.unescape(unread) and "/accepter" not in unread


def test_a_due_date_request_granted_once(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    ids = _handed_in(started)
    clock.now = at("2015-07-21T10:00")
    clients = team(started, client_for, clock)
    claire, reader = clients["charge_de_mission"], clients["lecture"]
    page = claire.get(f"/equipe/livrables/{ids['diagnostic']}")
    assert "Entretiens décalés" in html.unescape(page.text)
    form = next(f for f in forms(page.text) if "/demandes/" in f.action)
    assert_french_refusal(reader.post(form.action, data={**form.hidden, "decision": "accorder"}), 403, "ne permet pas")
    assert_french_refusal(claire.post(form.action, data={**form.hidden, "decision": "peut-être"}), 422,
                          "accorder ou de refuser")
    done = claire.post(form.action, data={**form.hidden, "decision": "accorder"})
    assert done.status_code == 303 and done.headers["location"].endswith("fait=report-accorde#demandes")
    with session_scope(started) as session:
        request = session.get(DueDateRequest, int(form.action.rsplit("/", 1)[1]))
        assert request is not None and request.status == DueDateRequestStatus.GRANTED
    assert _row(started, ids["diagnostic"]).due_at == at("2015-09-15T18:00")
    assert [a.actor for a in audits(started, "livrable.report_decide")] == [CLAIRE]
    assert [a.actor for a in audits(started, "livrable.reporte")] == [CLAIRE]
    assert len(notices(started, "livrable_reporte")) == 2
    assert "/demandes/" not in claire.get(f"/equipe/livrables/{ids['diagnostic']}").text  # decided: no form
