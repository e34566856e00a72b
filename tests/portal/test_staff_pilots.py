"""The back office's pilot pages over HTTP: the list and a pilot's charter (signatures, SHA-256,
deadline) and progress; « Prolonger le délai » through `models.charter.extend_charter` and
« Retirer le pilote » through `models.withdrawal.withdraw` after a confirmation page naming the
application offered the place, each audited under the member's address with its notices; the
refusals in French, and 403 for `lecture` (and for a chargé·e de mission withdrawing)."""

from __future__ import annotations

import html

import pytest
from sqlmodel import select

from models.charter import charter_sha256
from models.db import session_scope
from models.pilots import find_pilot
from models.tables import Pilot, PilotStatus
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, Clock
from tests.portal.helpers import assert_french_refusal, audits, form_ending, notices
from tests.portal.staff_members import sign_in
from tests.portal.test_staff_jury import FLANDRE, LENS_LIEVIN, meet


@pytest.fixture
def two_pilots(closed: str, client_for, clock: Clock) -> str:
    """The jury departs from the proposal on the back office: Arras and Lens - Liévin, Flandre next."""
    meet(closed)
    clock.now = at("2015-06-04T14:30")
    client = client_for(closed)
    sign_in(client, closed, clock, "direction")
    form = form_ending(client.get("/equipe/jury").text, "/equipe/jury/decision")
    assert client.post(form.action, data={**form.hidden, "choix": "autre", "territoire": [ARRAS, LENS_LIEVIN],
                                          "motif": "Deux pilotes la première année"}).status_code == 303
    clock.now = at("2015-06-29T10:00")
    return closed


def _status(url: str, siren: str) -> str:
    with session_scope(url) as session:
        return find_pilot(ctx_of(session), siren).status


def test_the_list_and_a_pilot_page_show_the_charter(two_pilots: str, client_for, clock: Clock) -> None:
    client = client_for(two_pilots)
    sign_in(client, two_pilots, clock, "lecture")
    listing = html.unescape(client.get("/equipe/pilotes").text)
    assert "CU d'Arras" in listing and "charte en attente" in listing
    assert "manque : le Cerdd, le prestataire, le territoire" in listing
    page = client.get(f"/equipe/pilotes/{ARRAS}")
    text = html.unescape(page.text)
    with session_scope(two_pilots) as session:
        digest = charter_sha256(ctx_of(session), find_pilot(ctx_of(session), ARRAS))
    assert page.status_code == 200 and digest in text and "pas encore signée" in text
    assert "L'accompagnement n'a pas commencé" in text
    assert "Prolonger le délai" not in text and "Retirer le pilote" not in text  # lecture acts on nothing
    assert_french_refusal(client.get("/equipe/pilotes/123456789"), 404, "Aucun territoire pilote")
    assert_french_refusal(client.get(f"/equipe/pilotes/{ARRAS}/retrait"), 403, "ne permet pas")


def test_a_project_officer_extends_the_deadline(two_pilots: str, client_for, clock: Clock) -> None:
    client = client_for(two_pilots)
    email = sign_in(client, two_pilots, clock, "charge_de_mission")
    page = client.get(f"/equipe/pilotes/{LENS_LIEVIN}")
    assert "Retirer le pilote" not in page.text
    form = form_ending(page.text, f"/equipe/pilotes/{LENS_LIEVIN}/charte")
    refused = client.post(form.action, data={**form.hidden, "echeance": "31/06/2015", "motif": "Délibération"})
    assert_french_refusal(refused, 422, "le 31 juin 2015 n'existe pas")
    form = form_ending(client.get(f"/equipe/pilotes/{LENS_LIEVIN}").text, f"/equipe/pilotes/{LENS_LIEVIN}/charte")
    done = client.post(form.action, data={**form.hidden, "echeance": "10/07/2015",
                                          "motif": "Délibération prévue le 9 juillet"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/equipe/pilotes/{LENS_LIEVIN}?fait=charte-prolongee"
    [entry] = audits(two_pilots, "charte.prolongee")
    assert entry.actor == f"equipe:{email}" and "10 juillet 2015" in entry.summary
    assert len(notices(two_pilots, "charte_prolongee")) >= 3  # the three parties
    assert "vendredi 10 juillet 2015 à 18h00" in html.unescape(client.get(f"/equipe/pilotes/{LENS_LIEVIN}").text)
    blank = form_ending(client.get(f"/equipe/pilotes/{LENS_LIEVIN}").text, f"/equipe/pilotes/{LENS_LIEVIN}/charte")
    assert_french_refusal(client.post(blank.action, data={**blank.hidden, "echeance": "11/07/2015", "motif": " "}),
                          422, "Motif : la valeur est vide")
    assert len(audits(two_pilots, "charte.prolongee")) == 1


def test_direction_withdraws_a_pilot_after_confirming_and_flandre_takes_the_place(two_pilots: str, client_for,
                                                                               clock: Clock) -> None:
    client = client_for(two_pilots)
    email = sign_in(client, two_pilots, clock, "direction")
    confirm = client.get(f"/equipe/pilotes/{LENS_LIEVIN}/retrait")
    text = html.unescape(confirm.text)
    assert confirm.status_code == 200 and "Sa place sera proposée à la CC de Flandre Intérieure" in text
    form = form_ending(confirm.text, f"/equipe/pilotes/{LENS_LIEVIN}/retrait")
    unconfirmed = client.post(form.action, data={**form.hidden, "motif": "Charte non signée"})
    assert_french_refusal(unconfirmed, 422, "Cochez la case de confirmation")
    assert _status(two_pilots, LENS_LIEVIN) == PilotStatus.CHARTER_PENDING
    path = f"/equipe/pilotes/{LENS_LIEVIN}/retrait"
    form = form_ending(client.get(path).text, path)
    done = client.post(form.action, data={**form.hidden, "motif": "Charte non signée", "confirme": "oui"})
    assert done.status_code == 303 and done.headers["location"].endswith("?fait=pilote-retire")
    assert _status(two_pilots, LENS_LIEVIN) == PilotStatus.WITHDRAWN
    assert _status(two_pilots, FLANDRE) == PilotStatus.CHARTER_PENDING
    [entry] = audits(two_pilots, "pilote.retire")
    assert entry.actor == f"equipe:{email}" and "Charte non signée" in entry.summary
    assert notices(two_pilots, "pilote_retire")
    after = html.unescape(client.get(f"/equipe/pilotes/{LENS_LIEVIN}?fait=pilote-retire").text)
    assert "Sa place a été proposée à la CC de Flandre Intérieure" in after and "Retirer le pilote" not in after
    again = client.get(f"/equipe/pilotes/{LENS_LIEVIN}/retrait")
    assert "est déjà retirée du programme" in html.unescape(again.text) and "<form" not in again.text.split("<main")[1]


@pytest.mark.parametrize("role", ["lecture", "charge_de_mission"])
def test_withdrawing_is_for_direction_only_and_lecture_acts_on_nothing(two_pilots: str, client_for, clock: Clock,
                                                                      role: str) -> None:
    director = client_for(two_pilots)
    sign_in(director, two_pilots, clock, "direction")
    withdraw = form_ending(director.get(f"/equipe/pilotes/{ARRAS}/retrait").text, f"/equipe/pilotes/{ARRAS}/retrait")
    extend = form_ending(director.get(f"/equipe/pilotes/{ARRAS}").text, f"/equipe/pilotes/{ARRAS}/charte")
    client = client_for(two_pilots)
    sign_in(client, two_pilots, clock, role)
    refused = client.post(withdraw.action, data={**withdraw.hidden, "motif": "x", "confirme": "oui"})
    assert_french_refusal(refused, 403, "ne permet pas cette action")
    extended = client.post(extend.action, data={**extend.hidden, "echeance": "10/07/2015", "motif": "Délibération"})
    if role == "lecture":
        assert_french_refusal(extended, 403, "ne permet pas cette action")
        assert audits(two_pilots, "charte.prolongee") == []
    else:  # a chargé·e de mission may extend (the form's token is the director's: refused as forged)
        assert extended.status_code == 400
    with session_scope(two_pilots) as session:
        assert session.exec(select(Pilot).where(Pilot.status == PilotStatus.WITHDRAWN)).all() == []


def test_the_lists_show_their_search_page_and_a_signed_charter(started: str, client_for, clock: Clock) -> None:
    """Issue 25: the search box on every paged list from the start, « Page N sur M » always, a page
    number that is none refused in French (422) and one beyond the last answered with the last; a
    charter all its parties signed is shown signed, not « — »."""
    client = client_for(started)
    sign_in(client, started, clock, "lecture")
    for path in ("/equipe/pilotes", "/equipe/candidatures", "/equipe/sessions", "/equipe/livrables",
                 "/equipe/personnes"):
        text = html.unescape(client.get(path).text)
        assert 'role="search"' in text and 'name="recherche"' in text, path
        assert "Page 1 sur 1 : lignes 1 à " in text, path
        for odd in ("abc", "0", "-1", "1.5", ""):
            assert_french_refusal(client.get(path, params={"page": odd}), 422, "Numéro de page"), (path, odd)
        beyond = html.unescape(client.get(path, params={"page": "999999999999999999999"}).text)
        assert "Page 1 sur 1 : lignes 1 à " in beyond, path
    listing = html.unescape(client.get("/equipe/pilotes").text)
    arras = next(row for row in listing.split("<tr>") if "CU d'Arras" in row)
    assert "signée par toutes les parties le" in arras and "<td>—</td>" not in arras
