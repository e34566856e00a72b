"""The charter router over HTTP: each party signs through its page's form, once; hostile links
change nothing; the token never reaches the audit log; a replayed programme acts at its last tick."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models.charter import charter_sha256
from models.db import session_scope
from models.links import pilot_bearer
from models.pilots import find_pilot
from models.tables import (
    AuditEntry,
    CharterSignature,
    PortalFormUse,
)
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, LENS, SECRET, Clock, consultancy, juror, link, territory
from tests.portal.helpers import assert_french_refusal, audits, count, sign_form
from transitions.portal.app import create_app


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
    assert entry.details == {"partie": "territoire", "qualite": "Président", "canal": "portail", "charte_sha256": sha,
                             "via": "lien personnel territoire:200033579, version 1", "via_personne": ""}
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


def test_the_token_never_appears_in_the_audit_log(selected: str, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    _, path = link(selected, territory())
    client.post(path + "/charte", data=sign_form(client.get(path).text))
    token = path.split("/")[2]
    with session_scope(selected) as session:
        text = " ".join(f"{e.summary} {e.details}" for e in session.exec(select(AuditEntry)).all())
        assert pilot_bearer(ctx_of(session), ARRAS, "territoire").subject in text
    assert token not in text and token[:20] not in text


@pytest.mark.parametrize("mode", ["rejeu", "direct"])
def test_a_replayed_programme_is_acted_on_at_its_last_tick(selected: str, mode: str) -> None:
    """Opened on a replayed programme (the demo), the portal checks links against the real time but
    dates what people do at the replay's present, its last tick; a live programme acts now."""
    from datetime import UTC, datetime, timedelta

    last_tick = at("2015-06-08T09:00")
    real = datetime.now(UTC)
    with session_scope(selected) as session:
        programme = ctx_of(session).programme
        programme.mode, programme.last_tick_at = mode, last_tick
        session.add(programme)
        # a live programme signs now, years after 2015: its deadline was extended past today
        find_pilot(ctx_of(session), ARRAS).sign_by = real + timedelta(days=30)
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
