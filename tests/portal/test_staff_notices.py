"""The back office's outbox and audit log over HTTP: filters, « Relancer » a given-up notice (the
CLI's `outbox retry`, audited with the member as actor), refused to `lecture` (403) and for a sent
notice (409), the journal filtered by action, actor and day, paged, a bad day refused in French."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from models.db import session_scope
from models.tables import AuditEntry, Notice, NoticeStatus
from tests.portal.conftest import Clock
from tests.portal.helpers import assert_french_refusal, audits, form_ending
from tests.portal.staff_login import EMAILS, signed_in


def _give_up(url: str) -> tuple[int, int]:
    """Two notices of the programme: the first given up, the second sent."""
    with session_scope(url) as session:
        first, second = session.exec(select(Notice).order_by(col(Notice.id)).limit(2)).all()
        first.status, first.attempts, first.last_error = NoticeStatus.DEAD, 5, "550 boîte inconnue"
        second.status, second.sent_at = NoticeStatus.SENT, datetime(2015, 5, 7, 10, tzinfo=UTC)
        session.add_all([first, second])
        return first.id or 0, second.id or 0


def _status(url: str, notice_id: int) -> str:
    with session_scope(url) as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None
        return notice.status


def test_a_given_up_notice_is_put_back_by_a_project_officer_not_by_lecture(closed: str, client_for,
                                                                            clock: Clock) -> None:
    dead, sent = _give_up(closed)
    reader = signed_in(client_for, closed, clock, "lecture")
    page = reader.get("/equipe/avis", params={"etat": "abandonne"})
    text = html.unescape(page.text)
    assert page.status_code == 200 and "550 boîte inconnue" in text and 'aria-current="page">Avis' in text
    assert text.count("Relancer l'avis") == 0  # lecture reads the outbox, its page offers no act
    # the role is checked before the form's token: posted anyway, refused
    assert_french_refusal(reader.post(f"/equipe/avis/{dead}/relancer", data={"jeton": "x"}), 403,
                          "ne permet pas cette action")
    assert _status(closed, dead) == NoticeStatus.DEAD and not audits(closed, "avis.relance")
    officer = signed_in(client_for, closed, clock, "charge_de_mission")
    page = officer.get("/equipe/avis").text
    assert html.unescape(page).count("Relancer l'avis") == 1  # the given-up notice only, not the waiting ones
    form = form_ending(page, f"/equipe/avis/{dead}/relancer")
    other = form_ending(officer.get("/equipe/avis").text, f"/equipe/avis/{dead}/relancer")  # a second token
    done = officer.post(form.action, data=form.hidden)
    assert done.status_code == 303 and done.headers["location"] == "/equipe/avis?fait=relance"
    assert _status(closed, dead) == NoticeStatus.PENDING
    entry, = audits(closed, "avis.relance")
    assert entry.actor == f"equipe:{EMAILS['charge_de_mission']}" and entry.entity_id == dead
    assert_french_refusal(officer.post(form.action, data=form.hidden), 409, "déjà été envoyé")  # replayed token
    assert_french_refusal(officer.post(f"/equipe/avis/{sent}/relancer", data=other.hidden), 409, "doublon")
    assert _status(closed, sent) == NoticeStatus.SENT
    assert_french_refusal(officer.get("/equipe/avis", params={"type": "inconnu"}), 422, "Type d'avis inconnu")


def test_the_journal_filters_and_pages(closed: str, client_for, clock: Clock) -> None:
    client = signed_in(client_for, closed, clock, "lecture")
    with session_scope(closed) as session:
        total = len(session.exec(select(AuditEntry)).all())
        admissibility = session.exec(select(AuditEntry).where(col(AuditEntry.action).startswith("candidature"))).all()
    page = client.get("/equipe/journal")
    text = html.unescape(page.text)
    assert page.status_code == 200 and f"{total} entrée(s)" in text and 'aria-current="page">Journal' in text
    assert text.count("<tr>") <= 51
    filtered = html.unescape(client.get("/equipe/journal", params={"action": "candidature"}).text)
    assert f"{len(admissibility)} entrée(s)" in filtered
    mine = html.unescape(client.get("/equipe/journal", params={"qui": "LECTEUR@dreal"}).text)
    assert EMAILS["lecture"] in mine and "<td>système</td>" not in mine and "<td>système</td>" in text
    none = html.unescape(client.get("/equipe/journal", params={"jour": "01/01/2014"}).text)
    assert "Aucune entrée ne correspond" in none
    assert_french_refusal(client.get("/equipe/journal", params={"jour": "31/06/2015"}), 422, "n'existe pas")


def test_the_outbox_page_shows_no_personal_link(loaded: str, client_for, clock: Clock,  # noqa: ANN001
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24, item 5: the team reads the outbox, not the people's links (the rows hold none)."""
    from config.settings import reset_settings
    from tests.conftest import select_three_pilots
    from tests.portal.conftest import SECRET

    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portail.cerdd.example.org")
    reset_settings()
    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        assert session.exec(select(Notice).where(col(Notice.link_subject).is_not(None))).first() is not None
    monkeypatch.delenv("PORTAL_BASE_URL")  # an https:// portal's cookie would not come back over the test's http
    reset_settings()
    officer = signed_in(client_for, loaded, clock, "charge_de_mission")
    page = officer.get("/equipe/avis", params={"type": "charte_a_signer"})
    assert page.status_code == 200 and "Charte" in html.unescape(page.text)
    assert "/l/" not in page.text and "portail.cerdd.example.org" not in page.text
    reset_settings()


def test_the_journal_shows_who_in_french_and_elides_a_name(closed: str, client_for, clock: Clock) -> None:
    """Issue 25: « Compte d'Emmanuel Bertin … créé », not « de Emmanuel »; a command's actor read as
    « ligne de commande » whether it was recorded with a user name (`cli:root`) or without (`cli`)."""
    from models.staff import add_member
    from tests.conftest import at, ctx_of
    from tests.portal.conftest import SECRET

    with session_scope(closed) as session:
        ctx = ctx_of(session)
        add_member(ctx, "emmanuel.bertin@cerdd.example.org", "Emmanuel Bertin", "lecture",
                   at=at("2015-05-20T10:00"), by="cli:root", base_url="http://portail.test", secret=SECRET)
        ctx.audit(at("2015-05-20T10:05"), "cli", "essai.sans_nom", "programme", None, "Une commande sans nom.")
    client = signed_in(client_for, closed, clock, "lecture")
    text = html.unescape(client.get("/equipe/journal", params={"action": "equipe.compte_cree"}).text)
    assert "Compte d'Emmanuel Bertin (emmanuel.bertin@cerdd.example.org) créé" in text
    assert "<td>root (ligne de commande)</td>" in text and "<td>cli:root</td>" not in text
    nameless = html.unescape(client.get("/equipe/journal", params={"action": "essai.sans_nom"}).text)
    assert "<td>ligne de commande</td>" in nameless and "<td>cli</td>" not in nameless
