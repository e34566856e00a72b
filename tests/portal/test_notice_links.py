"""Each notice to a person carries a personal link to their page when the portal is configured:
it opens that person's page, and a link issued later by hand replaces it."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from config.settings import reset_settings
from models.db import session_scope
from models.link_tokens import LINK_PLACEHOLDER
from models.tables import Notice
from notifications import render
from notifications.message import personal_link, single_message
from tests.conftest import at, close_call_with_territories, score, select_three_pilots
from tests.portal.conftest import ARRAS, SECRET, Clock

BASE = "https://portail.cerdd.example.org"
LINK = re.compile(re.escape(BASE) + r"(/l/[A-Za-z0-9_.\-]+/[a-z]+(?:/[0-9*]+)?)")


def _notices(url: str, kind: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == kind)).all())


@pytest.fixture
def real_portal_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal configured; notices' links issued at the machine's instant, as in production."""
    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    monkeypatch.setenv("PORTAL_BASE_URL", BASE)
    reset_settings()


@pytest.fixture
def link_clock() -> Clock:
    """The real instant notices' links are issued at (their validity counts from it), held still:
    the links of one tick are the same whether or not the machine straddles a second meanwhile."""
    return Clock(at("2025-01-06T09:00"))


@pytest.fixture
def portal_settings(real_portal_settings: None, link_clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal configured; notices' links issued at `link_clock`'s instant: the machine's clock
    that every process's linker reads (`notifications.render.portal_linker`) is this one."""
    monkeypatch.setattr(render, "_utc_now", link_clock)


def test_notices_carry_a_personal_link_that_opens_the_page(loaded: str, portal_settings: None, client_for) -> None:  # noqa: ANN001
    select_three_pilots(loaded)
    client = client_for(loaded)
    to_sign = _notices(loaded, "charte_a_signer")
    paths: list[str] = []
    for notice in to_sign:
        sent = single_message(notice)  # the link is signed again as the notice leaves
        found = LINK.search(sent.text)
        assert found, sent.text
        assert f'href="{BASE}{found.group(1)}"' in sent.html
        assert LINK_PLACEHOLDER in notice.body_text and "/l/" not in notice.body_text + notice.body_html
        paths.append(found.group(1))
    territory_path = next(p for p in paths if p.endswith(f"/territoire/{ARRAS}"))
    assert any(p.endswith(f"/cerdd/{ARRAS}") for p in paths)
    assert any(p.endswith("/prestataire") for p in paths)
    assert client.get(territory_path).status_code == 200
    # each contact of the territory gets their own link, and every one of them opens the page
    territory_paths = [p for p in paths if p.endswith(f"/territoire/{ARRAS}")]
    assert len(territory_paths) == len(set(territory_paths)) > 1
    assert all(client.get(p).status_code == 200 for p in territory_paths)


def test_jury_notices_carry_the_jurors_link(loaded: str, portal_settings: None, client_for, clock) -> None:  # noqa: ANN001
    close_call_with_territories(loaded)
    score(loaded, "notes-dreal.yaml")
    convocations = _notices(loaded, "convocation_jury")
    juror_links = [LINK.search(single_message(n).text) for n in convocations if n.recipient_email.startswith("jury-")]
    assert juror_links and all(m and m.group(1).endswith("/jury") for m in juror_links)
    clock.now = at("2015-06-01T10:00")
    page = client_for(loaded).get(juror_links[0].group(1))  # type: ignore[union-attr]
    assert page.status_code == 200 and "feuille de notes" in page.text


def test_without_a_secret_notices_carry_no_link(selected: str) -> None:
    notices = _notices(selected, "charte_a_signer")
    assert notices and not any("/l/" in n.body_text or "page personnelle" in n.body_text for n in notices)


def test_late_jurors_are_reminded_with_their_link_and_a_conflict_is_not_late(
        loaded: str, portal_settings: None) -> None:
    from flows.plain import run_one_stage
    from models.jury import declare_conflict, find_application, missing_scores
    from models.stages import StageName
    from tests.conftest import ctx_of

    close_call_with_territories(loaded)
    score(loaded, "notes-dreal.yaml")  # the Region's juror is late; Emmanuel Bertin (Cerdd) is in conflict
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for reference in ("CERDD-2015-0001", "CERDD-2015-0002", "CERDD-2015-0003"):
            declare_conflict(ctx, find_application(ctx, reference), juror="Emmanuel Bertin",
                             reason="", at=at("2015-05-20T11:00"))
        missing = missing_scores(ctx)
    assert missing["Emmanuel Bertin"] == [] and missing["Représentant de la DREAL"] == []
    assert missing["Représentant du Conseil Régional"]
    for day in ("2015-05-28T09:00", "2015-06-01T09:00", "2015-06-02T09:00", "2015-06-03T09:00"):
        run_one_stage(StageName.JURY_REMINDERS, at(day))
    reminders = _notices(loaded, "rappel_jury")
    assert reminders and {n.recipient_email for n in reminders} == {"jury-region@example.org"}
    assert all(LINK.search(single_message(n).text).group(1).endswith("/jury")  # type: ignore[union-attr]
               for n in reminders)


def test_a_digest_keeps_the_links_of_the_notices_it_carries(loaded: str, portal_settings: None) -> None:
    """Digested notices lose their own footer: the digest shows the one link they share in its
    footer, or each notice's link under it when they lead to different pages."""
    from models.delivery import digest_context
    from notifications.message import digest_message
    select_three_pilots(loaded)
    to_sign = _notices(loaded, "charte_a_signer")
    assert all(personal_link(n) and personal_link(n) in single_message(n).text and LINK_PLACEHOLDER in n.body_text
               for n in to_sign)  # stored without it, sent as the footer shows it
    with session_scope(loaded) as session:
        notices = list(session.exec(select(Notice).where(Notice.kind == "charte_a_signer")).all())
        by_person: dict[str, list[Notice]] = {}
        for notice in notices:
            by_person.setdefault(notice.recipient_email, []).append(notice)
        # the Cerdd's manager signs for every pilot: one notice per pilot, one page per pilot
        several = next(group for group in by_person.values() if len({personal_link(n) for n in group}) > 1)
        _, context = digest_context(session, several)
        message = digest_message(several, context, at("2015-06-05T09:00"))
        for notice in several:
            link = personal_link(notice)
            assert link and link in message.text and f'href="{link}"' in (message.html or "")
        assert message.text.count("page personnelle") == 0 and message.text.count("Votre page pour cet avis") == len(
            {personal_link(n) for n in several})
        one = [several[0], several[0].model_copy(update={"id": None, "dedup_key": several[0].dedup_key + ":bis"})]
        shared = digest_message(one, context, at("2015-06-05T09:00"))
        assert shared.text.count(personal_link(several[0]) or "?") == 1 and "page personnelle" in shared.text


def test_a_link_in_a_notice_dated_in_2015_still_opens_today(loaded: str, real_portal_settings: None) -> None:
    """The portal checks a link's expiry in real time: a notice's link is valid for its days from the
    later of the notice's instant and the moment it was written (a replayed programme's notices)."""
    from fastapi.testclient import TestClient

    from transitions.portal.app import create_app

    select_three_pilots(loaded)
    link = next(link for n in _notices(loaded, "charte_a_signer")
                if (link := personal_link(n)) and "/territoire/" in link)
    with TestClient(create_app(loaded, SECRET)) as client:  # the real clock
        assert client.get(link.removeprefix(BASE)).status_code == 200


def test_a_notice_sent_after_its_link_was_revoked_carries_the_revoked_link_not_a_new_one(
        loaded: str, portal_settings: None, client_for) -> None:  # noqa: ANN001
    """The link is signed again as the notice leaves, at the version it was queued with: a revocation
    in between is not undone by the delivery (the portal refuses the link and offers a new one)."""
    from models import links
    from tests.conftest import ctx_of

    select_three_pilots(loaded)
    client = client_for(loaded)
    waiting = next(n for n in _notices(loaded, "charte_a_signer")
                   if n.status == "en_attente" and (personal_link(n) or "").endswith(f"/territoire/{ARRAS}"))
    queued = personal_link(waiting) or ""
    assert client.get(queued.removeprefix(BASE)).status_code == 200
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        bearer = links.pilot_bearer(ctx, ARRAS, "territoire", waiting.link_person)
        assert links.revoke_link(ctx, bearer, at=at("2015-06-05T10:00"), by="test")
    leaving = single_message(waiting)
    assert queued in leaving.text and personal_link(waiting) == queued  # the same link, byte for byte
    refused = client.get(queued.removeprefix(BASE))
    assert refused.status_code == 410 and "nouveau lien" in refused.text


def test_without_the_secret_at_sending_time_a_notice_with_a_link_is_set_aside_with_the_reason(
        loaded: str, portal_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.plain import deliver_now

    select_three_pilots(loaded)
    monkeypatch.delenv("PORTAL_SECRET")
    reset_settings()
    report = deliver_now(at("2015-06-05T09:00"))
    notices = _notices(loaded, "charte_a_signer")
    assert notices and all(n.status == "abandonne" and "PORTAL_SECRET" in (n.last_error or "")
                           for n in notices if n.link_subject)
    assert report.sent > 0 and any("PORTAL_SECRET" in line for line in report.warnings())
