"""The jury's router over HTTP: scores saved, a conflict declared, the sheet submitted; scores
after the meeting refused."""

from __future__ import annotations

from sqlmodel import select

from models.db import session_scope
from models.jury import find_application, ranking
from models.tables import (
    ConflictOfInterest,
    JuryScore,
    JurySubmission,
)
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, LENS, SECRET, Clock, juror, link
from tests.portal.helpers import assert_french_refusal, audits, count, form_ending


def test_a_juror_scores_declares_a_conflict_and_submits(scoring: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        ctx = ctx_of(session)
        arras, lens = find_application(ctx, ARRAS), find_application(ctx, LENS)
        criteria = [c.key for c in ctx.definition.jury.criteria]
    listing = client.get(path).text  # the list: each application with its state, linked to its own page
    assert "Jury : feuille de notes de Représentant de la DREAL" in listing and "Pièces jointes" not in listing
    assert f'href="{path}/candidature/{arras.receipt_number}"' in listing and "à noter" in listing
    sheet = f"{path}/candidature/{arras.receipt_number}"
    page = client.get(sheet).text
    assert "Pièces jointes" in page and "CU d&#39;Arras" in page and "Lens" not in page
    assert '<option value="" selected>— à noter —</option>' in page  # nothing chosen for the juror
    notes = form_ending(page, "/jury/notes")
    data = {**notes.hidden, **{f"note-{arras.id}-{c}": "4" for c in criteria},
            f"note-{arras.id}-besoins": "na", f"commentaire-{arras.id}-portage": "Portage solide"}
    saved = client.post(notes.action, data=data)
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"{sheet}?fait=notes")
    notes = form_ending(client.get(f"{path}/candidature/{lens.receipt_number}").text, "/jury/notes")
    assert client.post(notes.action, data={**notes.hidden, **{f"note-{lens.id}-{c}": "2" for c in criteria}}
                       ).status_code == 303
    listing = client.get(path).text
    assert listing.count("<td>notée</td>") == 2 and "1 candidature à compléter" in listing
    with session_scope(scoring) as session:
        rows = session.exec(select(JuryScore).where(JuryScore.juror == "Représentant de la DREAL")).all()
    assert len(rows) == 2 * len(criteria) - 1  # « non applicable » leaves a criterion without a score
    assert {r.comment for r in rows if r.criterion == "portage" and r.application_id == arras.id} == {"Portage solide"}
    bad = {**form_ending(client.get(sheet).text, "/jury/notes").hidden, f"note-{arras.id}-portage": "11"}
    assert_french_refusal(client.post(notes.action, data=bad), 422, "hors barème")
    page = client.get(f"{path}/candidature/{lens.receipt_number}").text
    conflict = form_ending(page, f"/jury/conflit/{lens.receipt_number}")
    assert client.post(conflict.action, data={**conflict.hidden, "motif": "Élu de la CA"}).status_code == 303
    assert count(scoring, ConflictOfInterest) == 1 and len(audits(scoring, "jury.conflit")) == 1
    with session_scope(scoring) as session:
        ranked = {r.application.id: r for r in ranking(ctx_of(session))}
    assert ranked[lens.id].excluded == ("Représentant de la DREAL",) and ranked[lens.id].score is None
    assert ranked[arras.id].excluded == () and ranked[arras.id].score == 4.0
    page = client.get(f"{path}/candidature/{lens.receipt_number}").text
    assert "Vous avez déclaré un conflit d'intérêts" in page and "/jury/notes" not in page
    assert "<td>conflit d&#39;intérêts déclaré</td>" in client.get(path).text
    submit = form_ending(client.get(path).text, "/jury/soumettre")  # the third application is still « à noter »
    assert_french_refusal(client.post(submit.action, data=submit.hidden), 409, "pas complète")
    with session_scope(scoring) as session:
        third = find_application(ctx_of(session), "246200364")
    notes = form_ending(client.get(f"{path}/candidature/{third.receipt_number}").text, "/jury/notes")
    assert client.post(notes.action, data={**notes.hidden, **{f"note-{third.id}-{c}": "3" for c in criteria}}
                       ).status_code == 303
    assert '<option value="na" selected>non applicable</option>' in client.get(sheet).text  # « besoins » kept
    page = client.get(path).text
    assert "Chaque candidature est notée" in page
    submit = form_ending(page, "/jury/soumettre")
    assert client.post(submit.action, data=submit.hidden).status_code == 303
    assert count(scoring, JurySubmission) == 1 and len(audits(scoring, "jury.feuille_soumise")) == 1
    page = client.get(sheet).text
    assert "Feuille soumise le" in page and "/jury/notes" not in page  # no more notes form once submitted
    again = {**notes.hidden, "jeton": submit.hidden["jeton"]}
    assert_french_refusal(client.post(notes.action, data=again), 400, "ne correspond pas")
    fresh = {"jeton": __import__("models.links", fromlist=["x"]).form_token(
        SECRET, juror_bearer_of(scoring), "notes", clock.now), f"note-{arras.id}-portage": "1"}
    assert_french_refusal(client.post(notes.action, data=fresh), 409, "déjà soumise")
    assert count(scoring, JuryScore, JuryScore.juror == "Représentant de la DREAL") == len(rows) + len(criteria)


def juror_bearer_of(url: str):  # noqa: ANN201
    from models.links import juror_bearer

    with session_scope(url) as session:
        return juror_bearer(ctx_of(session), "jury-dreal@example.org")


def test_scores_after_the_meeting_are_refused(scoring: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    clock.now = at("2015-06-04T13:59")
    with session_scope(scoring) as session:
        arras = find_application(ctx_of(session), ARRAS)
    notes = form_ending(client.get(f"{path}/candidature/{arras.receipt_number}").text, "/jury/notes")
    clock.now = at("2015-06-04T14:01")
    answer = client.post(notes.action, data={**notes.hidden, f"note-{arras.id}-portage": "3"})
    assert_french_refusal(answer, 409, "Le jury s'est réuni")
    assert count(scoring, JuryScore, JuryScore.juror == "Représentant de la DREAL") == 0


def test_the_juror_page_opens_with_the_meeting_and_a_linked_list_of_applications(scoring: str, client_for,  # noqa: ANN001
                                                                                  clock: Clock) -> None:
    client = client_for(scoring)
    _, path = link(scoring, juror(), when="2015-06-01T10:00")
    page = client.get(path).text
    top = page[:page.index("<table>")]  # before the list
    assert "il reste 3 jours" in top and "jeudi 4 juin 2015" in top, top[-1500:]
    with session_scope(scoring) as session:
        ctx = ctx_of(session)
        receipts = [find_application(ctx, siren).receipt_number for siren in (ARRAS, LENS)]
    for receipt in receipts:  # each application opens on its own page
        assert f'href="{path}/candidature/{receipt}"' in page
        sheet = client.get(f"{path}/candidature/{receipt}")
        assert sheet.status_code == 200 and f"({receipt})</h1>" in sheet.text and "il reste 3 jours" in sheet.text
    assert_french_refusal(client.get(f"{path}/candidature/CERDD-2015-9999"), 404, "Aucune candidature")
