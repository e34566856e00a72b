"""Online applications without HTTP (`models.drafts`): the register's answers to « Commencer », one
draft per lead and its link mailed to the addresses on file only, saving, verifying, files,
depositing with the same `submit` as file intake (versions, the deadline at 12:00:00), withdrawal."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import drafts
from models.applications import may_withdraw, withdraw_application
from models.db import session_scope
from models.errors import InvalidInput, NotFound, Refused
from models.jury import ranking
from models.tables import Application, ApplicationFile, ApplicationStatus, AuditEntry, Notice
from tests.conftest import at, ctx_of, open_call
from tests.draft_data import ACHICOURT, ARRAS, UNKNOWN, arras_fields, arras_files
from transitions.portal.application_form import explain

T = at("2015-04-20T10:00")


@pytest.fixture
def call_open(loaded: str) -> str:
    open_call(loaded)
    return loaded


def _start(url: str, siren: str = ARRAS, email: str = "claire@cu-arras.example.org", when: str = "2015-04-20T10:00",
           now: str | None = None) -> drafts.Started:
    with session_scope(url) as session:
        return drafts.start(ctx_of(session), siren=siren, email=email, at=at(when), now=at(now or when))


def _links(url: str) -> list[tuple[str, str]]:
    with session_scope(url) as session:
        rows = session.exec(select(Notice).where(Notice.kind == "lien_candidature").order_by(Notice.id)).all()
        return [(n.recipient_email, n.subject) for n in rows]


@pytest.mark.parametrize(("typed", "refusal", "words"), [
    (ACHICOURT, Refused, "commune Achicourt, membre de CU d'Arras"),
    (UNKNOWN, Refused, "n'est celui d'aucun EPCI des départements 59, 62"),
    ("12345", InvalidInput, "exactement 9 chiffres"),
    ("200033570", InvalidInput, "clé de contrôle fausse"),
])
def test_the_register_answers_with_the_calls_rule(call_open: str, typed: str, refusal: type, words: str) -> None:
    with pytest.raises(refusal) as caught:
        _start(call_open, typed)
    assert words in caught.value.message
    if refusal is Refused:
        assert "une commune seule ou un réseau" in caught.value.message  # the call's rule
    assert _links(call_open) == []


def test_one_draft_per_lead_its_link_only_to_the_addresses_on_file(call_open: str) -> None:
    assert _start(call_open, " 200 033 579 ") == drafts.Started.NEW
    assert _links(call_open) == [("claire@cu-arras.example.org", "Votre candidature en ligne — CU d'Arras")]
    # a stranger starts again for the same lead: the link goes to the address on file, not to theirs
    assert _start(call_open, email="intrus@example.org", now="2015-04-20T10:20") == drafts.Started.EXISTING
    assert [email for email, _ in _links(call_open)] == ["claire@cu-arras.example.org"] * 2
    # within 15 minutes of the last mail nothing more is sent, nor written
    assert _start(call_open, email="intrus@example.org", now="2015-04-20T10:25") == drafts.Started.EXISTING
    assert len(_links(call_open)) == 2
    with pytest.raises(InvalidInput, match="adresse électronique valide"):
        _start(call_open, email="pas-une-adresse", now="2015-04-21T10:00")


def test_a_draft_started_first_by_a_stranger_does_not_lock_the_lead_out(call_open: str) -> None:
    """Squatting: whoever starts first holds the draft; a second address is told nothing, the Cerdd's
    manager is (once per address), and adds the right address, which gets its own link."""
    _start(call_open, email="intrus@example.org")
    _start(call_open, email="claire@cu-arras.example.org", now="2015-04-20T10:20")
    _start(call_open, email="claire@cu-arras.example.org", now="2015-04-20T10:40")
    with session_scope(call_open) as session:
        alerts = session.exec(select(Notice).where(Notice.kind == "brouillon_revendique")).all()
        assert [n.recipient_email for n in alerts] == ["aboutonne@cerdd.org"]
        assert "claire@cu-arras.example.org" in alerts[0].body_text
        assert "transitions candidatures adresse 200033579 claire@cu-arras.example.org" in alerts[0].body_text
    assert [email for email, _ in _links(call_open)] == ["intrus@example.org"] * 3
    with session_scope(call_open) as session:
        eleven = at("2015-04-20T11:00")
        assert drafts.add_holder(ctx_of(session), "200033579", " Claire@CU-Arras.example.org ", at=eleven,
                                 now=eleven, by="aboutonne") is True
    assert _links(call_open)[-1][0] == "claire@cu-arras.example.org"
    with session_scope(call_open) as session:
        holders = drafts.find_draft(ctx_of(session), ARRAS).holders
        assert holders == ["intrus@example.org", "claire@cu-arras.example.org"]
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "candidature.adresse_ajoutee")).one()
        with pytest.raises(InvalidInput, match="adresse électronique valide"):
            drafts.add_holder(ctx_of(session), ARRAS, "x", at=T, now=T, by="aboutonne")
        with pytest.raises(NotFound):
            drafts.add_holder(ctx_of(session), "246200364", "a@example.org", at=T, now=T, by="aboutonne")
        with pytest.raises(Refused):
            drafts.add_holder(ctx_of(session), ARRAS, "a@example.org", at=at("2015-05-07T12:00"), now=T, by="aboutonne")


def _save_full(url: str, when: str = "2015-04-20T10:00") -> None:
    fields, themes = arras_fields()
    with session_scope(url) as session:
        ctx = ctx_of(session)
        draft = drafts.find_draft(ctx, ARRAS)
        drafts.save(ctx, draft, drafts.payload_from_fields(fields, themes, ARRAS, draft.lead_name), at=at(when),
                    by="test")
        for name, data in arras_files().items():
            drafts.add_file(ctx, draft, role="formulaire", filename=name, data=data, at=at(when), by="test")


def _deposit(url: str, when: str) -> tuple[drafts.Receipt, bool]:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        return drafts.deposit(ctx, drafts.find_draft(ctx, ARRAS), explain, at=at(when), by="portail:test")


def test_verify_lists_every_problem_by_section_then_a_deposit_is_a_version(call_open: str) -> None:
    _start(call_open)
    with session_scope(call_open) as session:
        ctx = ctx_of(session)
        found = drafts.verify(ctx, drafts.find_draft(ctx, ARRAS), explain)
    sections = {key for key, _ in found.problems}
    assert {"collectivite_chef_de_file", "responsables_operationnels", "motivations", "themes"} <= sections
    assert any("PDF" in line for key, line in found.problems if key == "formulaire")
    with pytest.raises(InvalidInput, match="pas prête à être déposée"):
        _deposit(call_open, "2015-04-20T10:30")
    _save_full(call_open)
    receipt, recorded = _deposit(call_open, "2015-04-20T11:00")
    assert recorded and receipt.version == 1 and receipt.receipt_number == "CERDD-2015-0001"
    again, recorded = _deposit(call_open, "2015-04-20T11:00")  # the same content twice (two tabs): one version
    assert not recorded and again.version == 1
    with session_scope(call_open) as session:
        ctx = ctx_of(session)
        draft = drafts.find_draft(ctx, ARRAS)
        payload = dict(draft.payload, besoins="Des besoins reformulés.")
        drafts.save(ctx, draft, payload, at=at("2015-05-06T09:00"), by="test")
    assert _deposit(call_open, "2015-05-07T11:59:59")[0].version == 2
    with session_scope(call_open) as session:
        receipt_mail = session.exec(select(Notice).where(Notice.kind == "accuse_reception")).first()
        files = session.exec(select(ApplicationFile)).all()
        assert receipt_mail is not None and all(f.sha256 in receipt_mail.body_text for f in files)


def test_at_the_deadline_exactly_the_draft_is_read_only(call_open: str) -> None:
    _start(call_open)
    _save_full(call_open)
    with pytest.raises(Refused, match="date limite de l'appel était le jeudi 7 mai 2015 à 12h00"):
        _deposit(call_open, "2015-05-07T12:00:00")
    with pytest.raises(Refused, match="ne peut plus être modifiée"):
        _save_full(call_open, "2015-05-07T12:00:00")
    with pytest.raises(Refused):
        _start(call_open, when="2015-05-07T12:00:00")


def test_hostile_files_and_sizes(call_open: str) -> None:
    _start(call_open)
    with session_scope(call_open) as session:
        ctx = ctx_of(session)
        draft = drafts.find_draft(ctx, ARRAS)
        with pytest.raises(InvalidInput, match="son contenu n'est pas celui d'un fichier PDF"):
            drafts.add_file(ctx, draft, role="formulaire", filename="x.pdf", data=b"MZ\x90\x00", at=T, by="t")
        with pytest.raises(InvalidInput, match="genre de pièce"):
            drafts.add_file(ctx, draft, role="autre", filename="x.pdf", data=b"%PDF-1.4", at=T, by="t")
        with pytest.raises(NotFound):
            drafts.remove_file(ctx, draft, 999, at=T, by="t")
    with pytest.raises(InvalidInput, match="dépasse 300 caractères"):
        drafts.payload_from_fields({"chef-nom": "x" * 301}, [], ARRAS, "CU d'Arras")
    payload = drafts.payload_from_fields({"themes": "x"}, ["mobilite", "piratage", "mobilite"], ARRAS, "CU d'Arras")
    assert payload["themes"] == ["mobilite"]


def test_a_second_start_after_applying_reaches_the_applications_contacts(call_open: str) -> None:
    from tests.conftest import EXAMPLES
    from transitions.intake import read_application, submit_form

    submit_form(call_open, read_application(EXAMPLES / "candidature-cu-arras.yaml"), at("2015-04-19T10:00"), None)
    assert _start(call_open, email="quelquun@example.org") == drafts.Started.NEW
    emails = {email for email, _ in _links(call_open)}
    assert "quelquun@example.org" not in emails and "claire.dufour@cu-arras.example.org" in emails
    with session_scope(call_open) as session:
        ctx = ctx_of(session)
        draft = drafts.find_draft(ctx, ARRAS)
        assert draft.payload["point_contact_cerdd"] == "Antoine Boutonné"
        assert len(drafts.files(ctx, draft)) >= 2 and drafts.verify(ctx, draft, explain).ok


def test_withdrawal_before_the_jury_meets_only(call_open: str) -> None:
    from models.call import close_call
    from tests.conftest import EXAMPLES
    from transitions.intake import read_application, submit_form

    submit_form(call_open, read_application(EXAMPLES / "candidature-cu-arras.yaml"), at("2015-04-19T10:00"), None)
    with session_scope(call_open) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))
    with session_scope(call_open) as session:
        ctx = ctx_of(session)
        application = session.exec(select(Application)).one()
        assert not may_withdraw(ctx, application, at("2015-06-04T14:00"))
        withdraw_application(ctx, application, reason="Délibération reportée", at=at("2015-05-20T10:00"),
                             by="portail:claire")
    with session_scope(call_open) as session:
        ctx = ctx_of(session)
        application = session.exec(select(Application)).one()
        assert application.status == ApplicationStatus.WITHDRAWN
        assert ranking(ctx) == [] or all(r.application.id != application.id for r in ranking(ctx))
        told = session.exec(select(Notice).where(Notice.kind == "candidature_retiree")).all()
        assert [n.recipient_email for n in told] == [ctx.definition.organiser.manager]
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "candidature.retiree")).one()
        with pytest.raises(Refused, match="déjà retirée"):
            withdraw_application(ctx, application, reason="", at=at("2015-05-21T10:00"), by="x")
