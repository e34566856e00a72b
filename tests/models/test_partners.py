"""Partners confirming by their own link, without HTTP (`models.partners`): who is asked (a contact's
address needed, each line once), answers replacing one another until the jury meets, the lead
told, a changed line asked again, and the juror's sheet reading each partner's state."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from config.settings import reset_settings
from models import drafts, partners
from models.call import close_call
from models.db import session_scope
from models.errors import Refused
from models.read.juror import juror_screen
from models.tables import AuditEntry, Notice, PartnerAnswer, PartnerConfirmation
from notifications.message import personal_link
from tests.conftest import EXAMPLES, at, ctx_of, open_call
from tests.draft_data import ARRAS
from transitions.intake import read_application, submit_form

VASSEUR = "l.vasseur@ville-arras.example.org"
CLUB = "contact@club-arrageois.example.org"


@pytest.fixture
def applied(loaded: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The CU d'Arras applied by file (two partners with a contact, two without), then opened a draft;
    the portal configured, so notices carry links."""
    monkeypatch.setenv("PORTAL_SECRET", "Tq8v2Lm9Xr4Wz7Kp1Nc6Hb3Jd5Fs0Gy8Ue2")
    reset_settings()
    open_call(loaded)
    submit_form(loaded, read_application(EXAMPLES / "candidature-cu-arras.yaml"), at("2015-04-19T10:00"), None)
    with session_scope(loaded) as session:
        drafts.start(ctx_of(session), siren=ARRAS, email="x@example.org", at=at("2015-04-20T09:00"),
                     now=at("2015-04-20T09:00"))
    yield loaded
    monkeypatch.undo()
    reset_settings()


def _ask(url: str, when: str = "2015-04-20T10:00") -> partners.Requested:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        return partners.request_confirmations(ctx, drafts.find_draft(ctx, ARRAS), at=at(when), by="portail:test")


def _answer(url: str, number: int, confirmed: bool, when: str) -> bool:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        row = session.exec(select(PartnerConfirmation).where(PartnerConfirmation.number == number)).one()
        bearer = partners.partner_bearer(ARRAS, number, row.contact_email)
        return partners.answer(ctx, partners.confirmation_of(ctx, bearer), confirmed=confirmed, at=at(when),
                               by="portail:test")


def _notices(url: str, kind: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == kind).order_by(Notice.id)).all())


def test_each_partner_with_a_contact_is_asked_once_by_its_own_link(applied: str) -> None:
    done = _ask(applied)
    assert done.asked == ["Ville d'Arras", "Club des entreprises de l'Arrageois"]
    assert done.without_contact == ["Saint-Laurent-Blangy", "Agence de développement de l'Artois"]
    mails = _notices(applied, "confirmation_partenaire")
    assert [n.recipient_email for n in mails] == [VASSEUR, CLUB]
    assert [urlsplit(personal_link(n) or "").path.split("/", 3)[3] for n in mails] == [f"partenaire/{ARRAS}/1",
                                                                              f"partenaire/{ARRAS}/2"]
    assert "CU d'Arras" in mails[0].subject and "Ville d'Arras" in mails[0].body_text
    again = _ask(applied, "2015-04-21T10:00")
    assert again.asked == [] and len(again.already) == 2 and len(_notices(applied, "confirmation_partenaire")) == 2
    with session_scope(applied) as session:
        asked = session.exec(select(AuditEntry).where(AuditEntry.action == "partenaire.confirmation_demandee")).all()
        assert len(asked) == 2


def test_the_last_answer_counts_until_the_jury_meets_and_the_lead_is_told(applied: str) -> None:
    _ask(applied)
    assert _answer(applied, 1, True, "2015-04-22T10:00")
    assert not _answer(applied, 1, True, "2015-04-22T10:05")  # the same answer twice changes nothing
    assert _answer(applied, 1, False, "2015-05-20T10:00")  # a second answer replaces the first
    told = _notices(applied, "reponse_partenaire")
    with session_scope(applied) as session:
        holders = drafts.find_draft(ctx_of(session), ARRAS).holders
    assert sorted(n.recipient_email for n in told) == sorted(holders * 2)  # each answer, to each holder
    assert "confirme sa participation" in told[0].subject and "décline" in told[-1].subject
    with pytest.raises(Refused, match="Le jury s'est réuni le jeudi 4 juin 2015 à 14h00"):
        _answer(applied, 1, True, "2015-06-04T14:00")
    with pytest.raises(Refused, match="ne peuvent plus confirmer"):
        _ask(applied, "2015-06-04T14:00")
    with session_scope(applied) as session:
        row = session.exec(select(PartnerConfirmation).where(PartnerConfirmation.number == 1)).one()
        assert row.state == PartnerAnswer.DECLINED and row.answered_at == at("2015-05-20T10:00")
        actions = [e.action for e in session.exec(select(AuditEntry).where(
            AuditEntry.action.in_(["partenaire.confirme", "partenaire.decline"]))).all()]  # type: ignore[attr-defined]
        assert actions == ["partenaire.confirme", "partenaire.decline"]


def test_another_partners_link_reaches_nothing(applied: str) -> None:
    _ask(applied)
    with session_scope(applied) as session:
        ctx = ctx_of(session)
        from models.links import LinkForbidden

        with pytest.raises(LinkForbidden):  # request 1's link held by request 2's contact
            partners.confirmation_of(ctx, partners.partner_bearer(ARRAS, 1, CLUB))
        with pytest.raises(Exception, match="n'existe pas"):
            partners.confirmation_of(ctx, partners.partner_bearer(ARRAS, 9, VASSEUR))


def test_a_changed_line_must_confirm_again_and_the_juror_sees_each_state(applied: str) -> None:
    _ask(applied)
    _answer(applied, 1, True, "2015-04-22T10:00")
    _answer(applied, 2, False, "2015-04-22T11:00")
    with session_scope(applied) as session:  # the club's contact changes in the draft
        ctx = ctx_of(session)
        draft = drafts.find_draft(ctx, ARRAS)
        payload = dict(draft.payload)
        payload["partenaires"] = [dict(p) for p in payload["partenaires"]]
        club = payload["partenaires"][2]
        club["contact"] = {**club["contact"], "courriel": "hugo@club.example.org"}
        drafts.save(ctx, draft, payload, at=at("2015-04-23T10:00"), by="test")
        lines = partners.partner_lines(drafts.find_draft(ctx, ARRAS).payload)
        shown = {p.nom: state for p, state in partners.states(ctx, ARRAS, lines)}
    assert shown["Ville d'Arras"] == PartnerAnswer.CONFIRMED
    assert shown["Club des entreprises de l'Arrageois"] == PartnerAnswer.ASKED  # « non confirmé » again
    assert _ask(applied, "2015-04-23T11:00").asked == ["Club des entreprises de l'Arrageois"]
    assert _notices(applied, "confirmation_partenaire")[-1].recipient_email == "hugo@club.example.org"
    with session_scope(applied) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))
    with session_scope(applied) as session:
        screen = juror_screen(ctx_of(session), "Représentant de la DREAL", at("2015-06-01T10:00"))
    line, = [a for a in screen.applications if a.application.lead_siren == ARRAS]
    # the jury reads the version deposited by file: the club's line there is the one that declined
    assert [(p.nom, state) for p, state in line.partners] == [
        ("Ville d'Arras", "confirmee"), ("Saint-Laurent-Blangy", "demandee"),
        ("Club des entreprises de l'Arrageois", "declinee"), ("Agence de développement de l'Artois", "demandee")]


def test_a_lead_cannot_mail_any_address_without_end_by_changing_its_partners_contacts(applied: str) -> None:
    """Each new contact's address got a mail from the Cerdd, with no bound: whoever held a draft could
    rewrite the partners' contacts and ask again and again (the call's address as a mail relay)."""
    sent = 0
    with pytest.raises(Refused, match="demandes de confirmation") as refused:
        for round_ in range(20):
            with session_scope(applied) as session:
                ctx = ctx_of(session)
                draft = drafts.find_draft(ctx, ARRAS)
                lines = draft.payload["partenaires"]
                payload = {**draft.payload, "partenaires": [
                    {**p, "contact": {**p["contact"], "courriel": f"cible{round_}-{n}@ailleurs.example"}}
                    if p.get("contact") else p for n, p in enumerate(lines)]}
                drafts.save(ctx, draft, payload, at=at("2015-04-20T10:00"), by="test")
            sent += len(_ask(applied).asked)
    assert sent == partners.MAX_REQUESTS
    assert "Cerdd" in refused.value.message
    assert len(_notices(applied, "confirmation_partenaire")) == partners.MAX_REQUESTS
