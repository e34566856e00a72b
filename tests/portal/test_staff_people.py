"""The back office's people and links over HTTP (issue 23): each contact with their own link's
state; « Renvoyer » mails one person a new link and revokes only their older ones, « Révoquer »
stops one person's links, through `models.links.send_link` and `revoke_link` (as `transitions link
--person … --send | --revoke`), audited with the member as actor; `lecture` refused (403)."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from config.settings import reset_settings
from models import links
from models.db import session_scope
from models.pilots import find_pilot
from models.recipients import territory_contacts
from models.tables import PortalGrant
from notifications.message import personal_link
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, SECRET, Clock
from tests.portal.helpers import assert_french_refusal, audits, forms, notices
from tests.portal.year_signin import ROLES, team

CLAIRE = f"equipe:{ROLES['charge_de_mission']}"


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SECRET", SECRET)  # the notices' links are signed with the portal's secret
    reset_settings()


def _issued(url: str) -> tuple[list[str], list[str]]:
    """Two territory contacts each given their own link on the command line's way (`issue_link`)."""
    with session_scope(url) as session:
        ctx = ctx_of(session)
        people = [p.email.lower() for p in territory_contacts(ctx, find_pilot(ctx, ARRAS))][:2]
        tokens = [links.issue_link(ctx, links.pilot_bearer(ctx, ARRAS, "territoire", email), secret=SECRET,
                                   at=at("2015-07-01T10:00"), days=120, valid_from=datetime.now(UTC))
                  for email in people]
    return people, tokens


def _works(url: str, token: str) -> bool:
    with session_scope(url) as session:
        try:
            links.read_link(ctx_of(session), token, secret=SECRET, now=datetime.now(UTC))
        except links.LinkRefused:
            return False
    return True


def _row_form(page: str, action: str, email: str) -> dict[str, str]:
    return next(f.hidden for f in forms(page) if f.action.endswith(action) and f.hidden.get("courriel") == email)


def _version(url: str, email: str) -> int:
    with session_scope(url) as session:
        grant = session.query(PortalGrant).filter(PortalGrant.person == email).one()
        return grant.version


def test_send_and_revoke_one_persons_link(started: str, secret: None, client_for, clock: Clock) -> None:  # noqa: ANN001
    (first, second), (old_first, old_second) = _issued(started)
    clients = team(started, client_for, clock)
    claire, reader = clients["charge_de_mission"], clients["lecture"]
    page = reader.get("/equipe/personnes").text
    shown = html.unescape(page)
    assert first in shown and second in shown and "version 1" in shown and "Cheffe de projet du prestataire" in shown
    assert "échéance inconnue" in shown  # printed on the command line: no mail tells its expiry
    page = claire.get("/equipe/personnes").text
    send = _row_form(page, "/personnes/envoyer", first)
    assert_french_refusal(reader.post("/equipe/personnes/envoyer", data=send), 403, "ne permet pas cette action")
    assert _version(started, first) == 1
    done = claire.post("/equipe/personnes/envoyer", data=send)
    assert done.status_code == 303 and done.headers["location"].endswith(f"fait=lien-envoye#pilote-{ARRAS}")
    assert _version(started, first) == 2 and not _works(started, old_first) and _works(started, old_second)
    mailed = [n for n in notices(started, "nouveau_lien") if n.recipient_email.lower() == first]
    assert len(mailed) == 1 and "Le Cerdd vous envoie votre lien personnel" in mailed[0].body_text
    sent = str(personal_link(mailed[0])).split("/l/", 1)[1].split("/", 1)[0]  # signed again as it leaves
    assert _works(started, sent)
    assert [a.actor for a in audits(started, "lien.envoye")] == [CLAIRE]
    page = claire.get("/equipe/personnes").text
    assert "valable jusqu'au" in html.unescape(page) and "Renvoyer" in page
    revoke = _row_form(page, "/personnes/revoquer", second)
    assert_french_refusal(reader.post("/equipe/personnes/revoquer", data=revoke), 403, "ne permet pas")
    assert _works(started, old_second)
    gone = claire.post("/equipe/personnes/revoquer", data=revoke)
    assert gone.status_code == 303 and gone.headers["location"].endswith("fait=lien-revoque#pilote-" + ARRAS)
    assert not _works(started, old_second) and _works(started, sent)
    assert [a.actor for a in audits(started, "lien.revoque")] == [CLAIRE]
    assert "révoqué" in html.unescape(claire.get("/equipe/personnes").text)


def test_refusals_in_french_and_nothing_to_revoke(started: str, secret: None, client_for,  # noqa: ANN001
                                                   clock: Clock) -> None:
    (first, _), _ = _issued(started)
    claire = team(started, client_for, clock)["charge_de_mission"]
    page = claire.get("/equipe/personnes").text
    consultant = "cheffe-de-projet@prestataire.example.org"
    stranger = {**_row_form(page, "/personnes/envoyer", consultant), "courriel": "intrus@example.org"}
    assert_french_refusal(claire.post("/equipe/personnes/envoyer", data=stranger), 422, "n'est pas un contact")
    assert notices(started, "nouveau_lien") == []
    assert not [f for f in forms(page) if f.action.endswith("/revoquer") and f.hidden["courriel"] == consultant]
    never = {**_row_form(page, "/personnes/revoquer", first), "partie": "prestataire", "siren": "",
             "courriel": consultant}
    done = claire.post("/equipe/personnes/revoquer", data=never)
    assert done.status_code == 303 and done.headers["location"].endswith("fait=lien-aucun#prestataire")
    assert audits(started, "lien.revoque") == []
