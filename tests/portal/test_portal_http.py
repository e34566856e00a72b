"""The portal over HTTP: every action through its page's form, checked in the database, the audit
log and the outbox; every hostile visit refused with a French page, its status, and no change."""

from __future__ import annotations

import hashlib
import html

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models.attachments import MAX_BYTES
from models.charter import charter_sha256
from models.db import session_scope
from models.jury import find_application, ranking
from models.links import pilot_bearer
from models.pilots import find_pilot
from models.tables import (
    AuditEntry,
    CharterSignature,
    ConflictOfInterest,
    Deliverable,
    DeliverableFile,
    DueDateRequest,
    JuryScore,
    JurySubmission,
    PortalFormUse,
    SessionAnswer,
)
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, LENS, SECRET, Clock, consultancy, juror, link, territory
from tests.portal.helpers import audits, count, form_ending, notices, start_arras
from transitions.portal.app import create_app

PDF = b"%PDF-1.4\n% livrable\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HEADERS = {"content-security-policy", "x-content-type-options", "referrer-policy"}


def sign_form(page: str) -> dict[str, str]:
    form = form_ending(page, "/charte")
    return {**form.hidden, "signataire": "Frédéric Leturque", "qualite": "Président", "lu": "oui"}


def assert_french_refusal(response, status: int, words: str) -> None:  # noqa: ANN001
    assert response.status_code == status, response.text
    assert '<html lang="fr">' in response.text and words in html.unescape(response.text)
    assert "Traceback" not in response.text
    assert HEADERS <= set(response.headers)
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no script at all


def test_health_and_headers(selected: str, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    answer = client.get("/sante")
    assert answer.status_code == 200 and answer.text == "ok\n"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert_french_refusal(client.get("/"), 404, "lien personnel")
    assert_french_refusal(client.get("/nulle/part"), 404, "Cette page n'existe pas")


def test_a_territory_signs_its_charter_once(selected: str, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    _, path = link(selected, territory())
    page = client.get(path).text
    assert "Signer au nom du territoire" in page and 'name="signataire"' in page
    form = sign_form(page)
    done = client.post(path + "/charte", data=form)
    assert done.status_code == 303 and done.headers["location"].endswith("?fait=signature#charte")
    assert "Votre signature est enregistrée" in client.get(done.headers["location"]).text
    again = client.post(path + "/charte", data=form)  # the double click: the same form once more
    assert_french_refusal(again, 409, "déjà été envoyé")
    with session_scope(selected) as session:
        rows = session.exec(select(CharterSignature)).all()
        assert [(r.party, r.signatory, r.role, r.channel) for r in rows] == [
            ("territoire", "Frédéric Leturque", "Président", "portail")]
        sha = charter_sha256(ctx_of(session), find_pilot(ctx_of(session), ARRAS))
    entry, = audits(selected, "charte.signee")
    assert entry.details == {"partie": "territoire", "qualite": "Président", "canal": "portail", "charte_sha256": sha}
    assert entry.at == at("2015-06-10T10:00")  # the portal's clock
    assert form["sha256"] == sha == hashlib.sha256(page.split("<pre>")[1].split("</pre>")[0]
                                                   .replace("&#39;", "'").encode()).hexdigest()


def test_hostile_links_change_nothing(selected: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(selected)
    _, path = link(selected, territory())
    page = client.get(path).text
    form = sign_form(page)
    token = path.split("/")[2]
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert_french_refusal(client.get(tampered), 403, "Ce lien n'est pas valide")
    assert_french_refusal(client.post(tampered + "/charte", data=form), 403, "pas valide")
    other = path.replace(ARRAS, LENS)  # pilot A's link on pilot B's page
    assert_french_refusal(client.get(other), 403, "ne donne pas accès")
    assert_french_refusal(client.post(other + "/charte", data=form), 403, "ne donne pas accès")
    juror_path = link(selected, juror())[1]
    assert_french_refusal(client.get(juror_path.replace("/jury", f"/territoire/{ARRAS}")), 403, "ne donne pas accès")
    no_token = {k: v for k, v in form.items() if k != "jeton"}
    assert_french_refusal(client.post(path + "/charte", data=no_token), 400, "jeton de sécurité manquant")
    forged = {**form, "jeton": form["jeton"][:-3] + "xyz"}
    assert_french_refusal(client.post(path + "/charte", data=forged), 400, "pas valide")
    unticked = {k: v for k, v in form.items() if k != "lu"}
    assert_french_refusal(client.post(path + "/charte", data=unticked), 422, "J'ai lu la charte")
    clock.now = at("2015-10-20T10:00")  # 120 days after the link was issued on 5 June
    assert_french_refusal(client.get(path), 410, "a expiré")
    clock.now = at("2015-06-10T10:00")
    _, newer = link(selected, territory(), when="2015-06-09T09:00")  # a new link revokes the old one
    assert_french_refusal(client.get(path), 410, "remplacé par un lien plus récent")
    assert_french_refusal(client.post(path + "/charte", data=form), 410, "remplacé")
    assert client.get(newer).status_code == 200
    assert count(selected, CharterSignature) == 0 and audits(selected, "charte.signee") == []
    assert count(selected, PortalFormUse) == 0  # a refused form is not even spent


def test_sign_for_every_party_and_the_accompaniment_can_start(selected: str, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    for bearer_of, path_of in ((territory(), None), (territory(party="cerdd"), None), (consultancy(), ARRAS)):
        _, path = link(selected, bearer_of)
        if path_of:
            path = f"{path}/{path_of}"
        page = client.get(path)
        assert page.status_code == 200, page.text
        assert client.post(path + "/charte", data=sign_form(page.text)).status_code == 303
    with session_scope(selected) as session:
        assert {r.party for r in session.exec(select(CharterSignature)).all()} == {"territoire", "cerdd",
                                                                                   "prestataire"}
    cerdd = client.get(link(selected, territory(party="cerdd"))[1]).text
    assert "la charte est" not in cerdd and "Frédéric Leturque (Président)" in cerdd
    assert "Avancement (lecture seule)" in cerdd and "CA de Lens" in cerdd


@pytest.fixture
def started(selected: str, clock: Clock) -> str:
    start_arras(selected)
    clock.now = at("2015-07-02T10:00")
    return selected


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


def test_the_consultancy_hands_in_a_file(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    page = client.get(path).text
    assert "CU d&#39;Arras" in page and "Remettre le livrable" in page
    form = form_ending(page, f"/prestataire/{ARRAS}/livrable/methode/remise")
    action = form.action

    def post(name: str, content: bytes, media: str = "application/pdf"):  # noqa: ANN202
        return client.post(action, data=form.hidden, files={"fichier": (name, content, media)})

    assert_french_refusal(post("methode.pdf", b"MZ\x90\x00 not a pdf"), 415, "n'est pas d'un type accepté")
    assert_french_refusal(post("methode.docx", PDF), 415, "porte l'extension .docx")
    assert_french_refusal(post("methode.pdf", b""), 415, "vide")
    assert_french_refusal(post("gros.pdf", b"%PDF-" + b"0" * (MAX_BYTES + 10)), 413, "dépasse la limite")
    assert_french_refusal(post("enorme.pdf", b"%PDF-" + b"0" * (MAX_BYTES + 400_000)), 413, "dépasse la limite")
    assert count(started, DeliverableFile) == 0 and audits(started, "livrable.remis") == []
    done = post("méthode.pdf", PDF)
    assert done.status_code == 303, done.text
    with session_scope(started) as session:
        stored, = session.exec(select(DeliverableFile)).all()
        task = session.get(Deliverable, stored.deliverable_id)
        assert task is not None and task.key == "methode" and task.delivered_at == at("2015-07-02T10:00")
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
            "en_attente", "Entretiens décalés", at("2015-09-15T18:00"))
    notice, = notices(started, "demande_report")
    assert notice.recipient_email == "aboutonne@cerdd.org" and "Entretiens décalés" in notice.body_text
    assert len(audits(started, "livrable.report_demande")) == 1
    assert "nouvelle échéance demandée" in client.get(path).text
    assert_french_refusal(client.get(path.replace(ARRAS, LENS)), 403, "ne donne pas accès")


@pytest.fixture
def scoring(closed: str, clock: Clock) -> str:
    clock.now = at("2015-06-01T10:00")
    return closed


def test_a_juror_scores_declares_a_conflict_and_submits(scoring: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    page = client.get(path).text
    assert "Jury : feuille de notes de Représentant de la DREAL" in page and "Pièces jointes" in page
    assert '<option value="" selected>— à noter —</option>' in page  # nothing chosen for the juror
    with session_scope(scoring) as session:
        ctx = ctx_of(session)
        arras, lens = find_application(ctx, ARRAS), find_application(ctx, LENS)
        criteria = [c.key for c in ctx.definition.jury.criteria]
    notes = form_ending(page, "/jury/notes")
    data = {**notes.hidden, **{f"note-{arras.id}-{c}": "4" for c in criteria},
            f"note-{arras.id}-besoins": "na", f"commentaire-{arras.id}-portage": "Portage solide",
            **{f"note-{lens.id}-{c}": "2" for c in criteria}}
    assert client.post(notes.action, data=data).status_code == 303
    with session_scope(scoring) as session:
        rows = session.exec(select(JuryScore).where(JuryScore.juror == "Représentant de la DREAL")).all()
    assert len(rows) == 2 * len(criteria) - 1  # « non applicable » leaves a criterion without a score
    assert {r.comment for r in rows if r.criterion == "portage" and r.application_id == arras.id} == {"Portage solide"}
    bad = {**form_ending(client.get(path).text, "/jury/notes").hidden, f"note-{arras.id}-portage": "11"}
    assert_french_refusal(client.post(notes.action, data=bad), 422, "hors barème")
    page = client.get(path).text
    conflict = form_ending(page, f"/jury/conflit/{lens.receipt_number}")
    assert client.post(conflict.action, data={**conflict.hidden, "motif": "Élu de la CA"}).status_code == 303
    assert count(scoring, ConflictOfInterest) == 1 and len(audits(scoring, "jury.conflit")) == 1
    with session_scope(scoring) as session:
        ranked = {r.application.id: r for r in ranking(ctx_of(session))}
    assert ranked[lens.id].excluded == ("Représentant de la DREAL",) and ranked[lens.id].score is None
    assert ranked[arras.id].excluded == () and ranked[arras.id].score == 4.0
    page = client.get(path).text
    assert "Vous avez déclaré un conflit d'intérêts" in page
    submit = form_ending(page, "/jury/soumettre")  # the third application is still « à noter »
    assert_french_refusal(client.post(submit.action, data=submit.hidden), 409, "pas complète")
    with session_scope(scoring) as session:
        third = find_application(ctx_of(session), "246200364")
    page = client.get(path).text
    notes = form_ending(page, "/jury/notes")
    assert client.post(notes.action, data={**notes.hidden, **{f"note-{third.id}-{c}": "3" for c in criteria}}
                       ).status_code == 303
    page = client.get(path).text
    assert '<option value="na" selected>non applicable</option>' in page  # arras's « besoins » kept
    submit = form_ending(page, "/jury/soumettre")
    assert client.post(submit.action, data=submit.hidden).status_code == 303
    assert count(scoring, JurySubmission) == 1 and len(audits(scoring, "jury.feuille_soumise")) == 1
    page = client.get(path).text
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
    notes = form_ending(client.get(path).text, "/jury/notes")
    with session_scope(scoring) as session:
        arras = find_application(ctx_of(session), ARRAS)
    clock.now = at("2015-06-04T14:01")
    answer = client.post(notes.action, data={**notes.hidden, f"note-{arras.id}-portage": "3"})
    assert_french_refusal(answer, 409, "Le jury s'est réuni")
    assert count(scoring, JuryScore, JuryScore.juror == "Représentant de la DREAL") == 0


def test_the_token_never_appears_in_the_audit_log(selected: str, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    _, path = link(selected, territory())
    client.post(path + "/charte", data=sign_form(client.get(path).text))
    token = path.split("/")[2]
    with session_scope(selected) as session:
        text = " ".join(f"{e.summary} {e.details}" for e in session.exec(select(AuditEntry)).all())
        assert pilot_bearer(ctx_of(session), ARRAS, "territoire").subject in text
    assert token not in text and token[:20] not in text


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
        task = session.get(Deliverable, request.deliverable_id)
        assert request.status == "accordee" and task is not None and task.due_at == at("2015-09-15T18:00")
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
        task = session.get(Deliverable, request.deliverable_id)
        assert request.status == "sans_objet" and request.decided_at == at("2015-07-02T10:00")
        assert task is not None and task.due_at != at("2015-09-15T18:00")
    assert len(audits(started, "livrable.report_sans_objet")) == 1
    cerdd = client.get(path).text
    assert "/demande/" not in cerdd and "sans objet : livrable remis" in cerdd  # nothing left to grant
    assert_french_refusal(client.post(decision.action, data={**decision.hidden, "decision": "accorder"}), 409,
                          "déjà décidée")


def test_an_internal_error_is_a_french_page_without_details(selected: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from tests.portal.conftest import SECRET
    from transitions.portal.app import create_app

    def broken() -> object:
        raise RuntimeError("horloge cassée /l/secret-token")

    _, path = link(selected, territory())
    client = TestClient(create_app(selected, SECRET, clock=broken), raise_server_exceptions=False)  # type: ignore[arg-type]
    answer = client.get(path)
    assert_french_refusal(answer, 500, "Erreur interne inattendue")
    assert "horloge" not in answer.text and "RuntimeError" not in answer.text


def test_the_server_log_masks_tokens(tmp_path) -> None:  # noqa: ANN001
    import logging.config

    from transitions.portal.server import log_config

    log = tmp_path / "erreurs.log"
    logging.config.dictConfig(log_config(str(log)))
    try:
        raise RuntimeError("échec sur /l/eyJnIjoxLCJzIjoi.abc/territoire/200033579")
    except RuntimeError:
        logging.getLogger("transitions.portail").exception("erreur sur %s", "/l/eyJnIjoxLCJzIjoi.abc/jury")
    text = log.read_text(encoding="utf-8")
    assert "eyJnIjoxLCJzIjoi" not in text and text.count("/l/***") == 3


@pytest.mark.parametrize("mode", ["rejeu", "direct"])
def test_a_replayed_programme_is_acted_on_at_its_last_tick(selected: str, mode: str) -> None:
    """Opened on a replayed programme (the demo), the portal checks links against the real time but
    dates what people do at the replay's present, its last tick; a live programme acts now."""
    from datetime import UTC, datetime

    last_tick = at("2015-06-08T09:00")
    with session_scope(selected) as session:
        programme = ctx_of(session).programme
        programme.mode, programme.last_tick_at = mode, last_tick
        session.add(programme)
    real = datetime.now(UTC)
    _, path = link(selected, territory(), when=real.isoformat(), days=2)  # valid now, not in 2015
    with TestClient(create_app(selected, SECRET), follow_redirects=False) as client:
        page = client.get(path).text
        assert ("Programme rejoué" in page and "lundi 8 juin 2015" in page) is (mode == "rejeu")
        assert client.post(path + "/charte", data=sign_form(page)).status_code == 303
    after = datetime.now(UTC)
    entry, = audits(selected, "charte.signee")
    if mode == "rejeu":
        assert entry.at == last_tick
    else:  # the real instant of the signature, however long the request took on a busy machine
        assert real <= entry.at <= after, (real, entry.at, after)
