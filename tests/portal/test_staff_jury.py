"""The back office's jury page over HTTP: every role reads the ranking (per-criterion detail,
conflicts, missing scores); only `direction` records the decision, through `models.decision.decide`
as the command line does, audited under their address and notified once; a second answer, a
departure without a rationale, a forged territory are refused in French; `lecture` gets 403."""

from __future__ import annotations

import html

import pytest
from sqlmodel import select

from flows.plain import run_one_stage
from models.db import session_scope
from models.schedule import STAGES
from models.tables import Application, Pilot, Programme
from tests.conftest import JURY_SHEETS, at, score
from tests.portal.conftest import ARRAS, Clock
from tests.portal.helpers import assert_french_refusal, audits, count, form_ending, notices
from tests.portal.staff_members import sign_in

LENS_LIEVIN, FLANDRE = "246200364", "200040947"


def meet(url: str) -> None:
    """Every juror scored; the jury meets: the ranking is a proposal awaiting the secretary."""
    score(url, *JURY_SHEETS)
    for stage in STAGES:
        run_one_stage(stage.name, at("2015-06-04T14:00"))


@pytest.fixture
def awaiting(closed: str, clock: Clock) -> str:
    meet(closed)
    clock.now = at("2015-06-04T14:30")
    return closed


def _state(url: str) -> str:
    with session_scope(url) as session:
        return session.exec(Programme.__table__.select()).one().state  # type: ignore[attr-defined]


def test_every_role_reads_the_ranking_with_its_detail(awaiting: str, client_for, clock: Clock) -> None:
    for role in ("lecture", "charge_de_mission", "direction"):
        client = client_for(awaiting)
        sign_in(client, awaiting, clock, role)
        page = client.get("/equipe/jury")
        text = html.unescape(page.text)
        assert page.status_code == 200 and "Classement détaillé" in text
        assert "Représentant de la DREAL" in text and "Moyenne pondérée" in text and 'scope="row"' in page.text
        assert "Proposition du jury :" in text and "Aucun conflit d'intérêts déclaré" in text
        assert ("Enregistrer la décision du jury" in text) == (role == "direction")


def test_before_the_meeting_the_page_names_who_has_not_scored(closed: str, client_for, clock: Clock) -> None:
    score(closed, "notes-dreal.yaml")
    clock.now = at("2015-06-02T10:00")
    client = client_for(closed)
    sign_in(client, closed, clock, "direction")
    text = html.unescape(client.get("/equipe/jury").text)
    assert "Représentant du Conseil Régional" in text.split("Notes manquantes")[1].split("Conflits")[0]
    assert "Le jury se réunit le jeudi 4 juin 2015" in text and "Enregistrer la décision" not in text


def test_direction_confirms_the_proposal_once(awaiting: str, client_for, clock: Clock) -> None:
    client = client_for(awaiting)
    email = sign_in(client, awaiting, clock, "direction")
    page, other_tab = client.get("/equipe/jury"), client.get("/equipe/jury")
    form = form_ending(page.text, "/equipe/jury/decision")
    done = client.post(form.action, data={**form.hidden, "choix": "confirmer"})
    assert done.status_code == 303 and done.headers["location"] == "/equipe/jury?fait=jury-decision"
    assert _state(awaiting) == "pilotes_selectionnes" and count(awaiting, Pilot) == 3
    [entry] = audits(awaiting, "jury.selection")
    assert entry.actor == f"equipe:{email}" and "proposition du jury confirmée" in entry.summary
    retained = notices(awaiting, "decision_retenue")
    assert len(retained) >= 3
    after = html.unescape(client.get("/equipe/jury?fait=jury-decision").text)
    assert "La décision du jury est enregistrée" in after and f"par {email}" in after
    assert "Enregistrer la décision" not in after
    replayed = client.post(form.action, data={**form.hidden, "choix": "confirmer"})
    assert_french_refusal(replayed, 409, "Ce formulaire a déjà été envoyé")
    second = form_ending(other_tab.text, "/equipe/jury/decision")  # its own token: the domain refuses
    refused = client.post(second.action, data={**second.hidden, "choix": "autre", "territoire": [ARRAS, FLANDRE],
                                               "motif": "Autre avis"})
    assert_french_refusal(refused, 409, "Le jury a déjà décidé : sa décision ne se rejoue pas.")
    assert notices(awaiting, "decision_retenue") == retained and len(audits(awaiting, "jury.selection")) == 1


def test_a_departure_needs_its_rationale_and_real_territories(awaiting: str, client_for, clock: Clock) -> None:
    client = client_for(awaiting)
    email = sign_in(client, awaiting, clock, "direction")

    def post(**data: object):  # noqa: ANN202
        form = form_ending(client.get("/equipe/jury").text, "/equipe/jury/decision")
        return client.post(form.action, data={**form.hidden, **data})

    assert_french_refusal(post(choix="autre", territoire=[ARRAS, LENS_LIEVIN]), 422, "un motif est obligatoire")
    assert_french_refusal(post(choix="autre", territoire=[ARRAS, "123' OR 1=1"]), 422, "ne sont pas des SIREN")
    assert_french_refusal(post(choix="autre", territoire=[ARRAS], motif="Un seul"), 422, "de 2 à 3 territoires")
    assert_french_refusal(post(choix="peut-etre"), 422, "Choisissez de confirmer")
    assert count(awaiting, Pilot) == 0 and audits(awaiting, "jury.selection") == []
    done = post(choix="autre", territoire=[ARRAS, LENS_LIEVIN], motif="Flandre rejoindra la promotion suivante.")
    assert done.status_code == 303 and count(awaiting, Pilot) == 2
    [entry] = audits(awaiting, "jury.selection")
    assert entry.actor == f"equipe:{email}" and "Flandre rejoindra la promotion suivante" in entry.summary
    with session_scope(awaiting) as session:
        statuses = {a.lead_siren: a.status for a in session.exec(select(Application))}
    assert statuses == {ARRAS: "retenue", LENS_LIEVIN: "retenue", FLANDRE: "non_retenue"}
    assert notices(awaiting, "decision_non_retenue")


@pytest.mark.parametrize("role", ["lecture", "charge_de_mission"])
def test_only_direction_decides(awaiting: str, client_for, clock: Clock, role: str) -> None:
    director = client_for(awaiting)
    sign_in(director, awaiting, clock, "direction")
    form = form_ending(director.get("/equipe/jury").text, "/equipe/jury/decision")
    client = client_for(awaiting)
    sign_in(client, awaiting, clock, role)
    refused = client.post(form.action, data={**form.hidden, "choix": "confirmer"})
    assert_french_refusal(refused, 403, "ne permet pas cette action")
    assert count(awaiting, Pilot) == 0 and audits(awaiting, "jury.selection") == []
