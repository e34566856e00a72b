"""Each person holds their own personal link: a territory's contacts, the consultants, the jurors;
a link says until when it works; a link that no longer works offers to mail a new one; `link --at`
on a replayed programme prints a link that works now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from config.settings import reset_settings
from models.db import session_scope
from models.links import link_expiry, pilot_bearer
from models.pilots import find_pilot
from models.recipients import territory_contacts
from models.tables import AuditEntry, Notice
from notifications.message import personal_link
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, SECRET, link
from transitions.cli import app

BASE = "https://portail.cerdd.example.org"


def _contacts(url: str) -> list[str]:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        return [p.email.lower() for p in territory_contacts(ctx, find_pilot(ctx, ARRAS))]


def _person(email: str):  # noqa: ANN202
    return lambda ctx: pilot_bearer(ctx, ARRAS, "territoire", email)


def _notices(url: str, kind: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == kind)).all())


@pytest.fixture
def portal_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    monkeypatch.setenv("PORTAL_BASE_URL", BASE)
    reset_settings()
    yield
    reset_settings()


def test_two_contacts_of_a_territory_hold_working_links_at_once(selected: str, client_for) -> None:  # noqa: ANN001
    first, second = _contacts(selected)[:2]
    client = client_for(selected)
    _, first_page = link(selected, _person(first))
    _, second_page = link(selected, _person(second))
    assert client.get(first_page).status_code == 200
    assert client.get(second_page).status_code == 200


def test_reissuing_one_contacts_link_revokes_only_their_old_one(selected: str, client_for) -> None:  # noqa: ANN001
    first, second = _contacts(selected)[:2]
    client = client_for(selected)
    _, old_first = link(selected, _person(first))
    _, second_page = link(selected, _person(second))
    _, new_first = link(selected, _person(first))
    assert client.get(old_first).status_code == 410
    assert client.get(new_first).status_code == 200
    assert client.get(second_page).status_code == 200


def test_a_link_for_someone_who_is_not_a_contact_of_the_party_is_refused(selected: str) -> None:
    from models.errors import InvalidInput

    with session_scope(selected) as session, pytest.raises(InvalidInput, match="n'est pas un contact"):
        pilot_bearer(ctx_of(session), ARRAS, "territoire", "intrus@example.org")


def test_notices_say_until_when_their_link_works(loaded: str, portal_settings: None) -> None:
    from tests.conftest import select_three_pilots

    select_three_pilots(loaded)
    notice = next(n for n in _notices(loaded, "charte_a_signer") if n.link_subject)
    expiry = link_expiry(personal_link(notice))
    assert expiry is not None and expiry > datetime.now(UTC) + timedelta(days=100)
    from models.clock import format_paris

    said = f"il fonctionne jusqu'au {format_paris(expiry)}, heure de Paris"
    assert said in notice.body_text
    assert said in notice.body_html


FORM = re.compile(r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="jeton" value="([^"]+)">')


def test_a_replaced_link_offers_a_new_one_mailed_to_its_holder_only(selected: str, portal_settings: None,
                                                                      client_for, clock) -> None:  # noqa: ANN001
    first, second = _contacts(selected)[:2]
    client = client_for(selected)
    _, old = link(selected, _person(first))
    link(selected, _person(first))
    page = client.get(old)
    assert page.status_code == 410
    form = FORM.search(page.text)
    assert form and "Recevoir un nouveau lien" in page.text
    assert first not in page.text  # the address on file is never shown
    done = client.post(form.group(1), data={"jeton": form.group(2)})
    assert done.status_code == 200 and "au plus un toutes les 15 minutes" in done.text
    sent = _notices(selected, "nouveau_lien")
    assert [n.recipient_email.lower() for n in sent] == [first]
    mailed = personal_link(sent[0])
    assert mailed and mailed.startswith(BASE) and "fonctionne jusqu'au" in sent[0].body_text
    assert client.get(mailed.removeprefix(BASE)).status_code == 200
    with session_scope(selected) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "lien.renvoye")).first() is not None

    # a second request within 15 minutes: the same answer, nothing more sent
    with session_scope(selected) as session:
        audited = len(session.exec(select(AuditEntry).where(AuditEntry.action.startswith("lien."))).all())
    again = FORM.search(client.get(old).text)
    assert again
    repeated = client.post(again.group(1), data={"jeton": again.group(2)})
    assert repeated.status_code == 200 and repeated.text == done.text
    assert len(_notices(selected, "nouveau_lien")) == 1
    with session_scope(selected) as session:  # nothing happened: nothing written (no audit log to fill)
        assert len(session.exec(select(AuditEntry).where(AuditEntry.action.startswith("lien."))).all()) == audited
    # the same form token twice: refused
    assert client.post(again.group(1), data={"jeton": again.group(2)}).status_code == 409
    clock.now = clock.now + timedelta(minutes=16)
    later = FORM.search(client.get(old).text)
    assert later
    assert client.post(later.group(1), data={"jeton": later.group(2)}).status_code == 200
    assert len(_notices(selected, "nouveau_lien")) == 2
    assert second not in {n.recipient_email.lower() for n in _notices(selected, "nouveau_lien")}


def test_an_expired_link_offers_a_new_one(selected: str, portal_settings: None, client_for, clock) -> None:  # noqa: ANN001
    first = _contacts(selected)[0]
    client = client_for(selected)
    _, page_path = link(selected, _person(first), when="2015-06-05T09:00", days=1)
    page = client.get(page_path)
    assert page.status_code == 410 and FORM.search(page.text)


def test_a_forged_link_gets_403_and_no_form(selected: str, portal_settings: None, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    _, page_path = link(selected, _person(_contacts(selected)[0]))
    forged = page_path.replace("/l/", "/l/x", 1)
    page = client.get(forged)
    assert page.status_code == 403 and "Recevoir un nouveau lien" not in page.text
    token = forged.split("/")[2]
    assert client.post(f"/l/{token}/nouveau-lien", data={"jeton": "x"}).status_code == 403
    assert _notices(selected, "nouveau_lien") == []


def test_a_renewal_form_without_its_token_is_refused(selected: str, portal_settings: None, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    first = _contacts(selected)[0]
    _, old = link(selected, _person(first))
    link(selected, _person(first))
    token = old.split("/")[2]
    assert client.post(f"/l/{token}/nouveau-lien", data={}).status_code == 400
    assert _notices(selected, "nouveau_lien") == []


def test_link_at_a_2015_instant_prints_a_link_that_works_now(selected: str, portal_settings: None,
                                                           monkeypatch: pytest.MonkeyPatch, client_for,
                                                           clock) -> None:  # noqa: ANN001
    monkeypatch.setenv("DATABASE_URL", selected)
    reset_settings()
    first = _contacts(selected)[0]
    result = CliRunner().invoke(app, ["link", "--pilot", ARRAS, "--party", "territoire", "--person", first,
                                      "--at", "2015-06-22T10:00"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    printed = re.search(re.escape(BASE) + r"(/l/\S+)", result.output)
    assert printed
    expiry = link_expiry(printed.group(1))
    assert expiry is not None and expiry > datetime.now(UTC) + timedelta(days=119)
    assert "Émission enregistrée au lundi 22 juin 2015 à 10h00" in " ".join(result.output.split())
    clock.now = datetime.now(UTC)
    assert client_for(selected).get(printed.group(1)).status_code == 200
    with session_scope(selected) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "lien.emis")).all()[-1]
        assert entry.at == at("2015-06-22T10:00")


def test_a_form_token_shown_to_one_person_is_refused_on_another_persons_link(selected: str, portal_settings: None,
                                                                              client_for) -> None:  # noqa: ANN001
    first, second = _contacts(selected)[:2]
    client = client_for(selected)
    _, first_old = link(selected, _person(first))
    _, second_old = link(selected, _person(second))
    link(selected, _person(first))
    link(selected, _person(second))
    shown_to_first = FORM.search(client.get(first_old).text)
    assert shown_to_first
    second_token = second_old.split("/")[2]
    answer = client.post(f"/l/{second_token}/nouveau-lien", data={"jeton": shown_to_first.group(2)})
    assert answer.status_code == 400 and "ne correspond pas à cette page" in answer.text
    assert _notices(selected, "nouveau_lien") == []
