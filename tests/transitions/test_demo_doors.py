"""The doors the demo's applications come by (`transitions/demo_doors.py`): the mailbox's reading
instants, a mailed filled annex read back as the example it was made from, an online deposit and its
new version through the drafts' functions, and the 2015 replay's applications by door."""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import col, select

from documents.annex import read_annex
from models.db import session_scope
from models.errors import InvalidInput, Refused
from models.mailbox import read_submission
from models.mailparse import parse_mail
from models.tables import Application, ApplicationDraft, ApplicationVersion, MailMessage, Notice
from tests.conftest import EXAMPLES, at, open_call
from tests.transitions.conftest import console_text
from transitions import demo_doors
from transitions.demo_script import load_script
from transitions.intake import read_application

ATTACHMENTS = {"formulaire", "documents_complementaires"}


@pytest.mark.parametrize(("arrival", "reading"), [
    ("2015-05-07T11:48", "2015-05-07T12:00"),  # Arras, read before the closing tick at 12:00
    ("2015-05-07T12:04", "2015-05-07T12:15"),  # Lumbres
    ("2015-04-30T11:00", "2015-04-30T11:00"),  # on the quarter: the reading at that instant sees it
    ("2015-04-30T07:10", "2015-04-30T08:00"),  # before office hours
    ("2015-04-30T17:46", "2015-05-01T08:00"),  # after the last reading (17:45): the next morning
    ("2015-05-01T17:50", "2015-05-04T08:00"),  # a Friday evening: Monday (the cron knows no holiday)
    ("2015-05-02T10:00", "2015-05-04T08:00"),  # a Saturday
])
def test_the_mailbox_is_read_at_the_next_quarter_hour_of_office_hours(arrival: str, reading: str) -> None:
    assert demo_doors.next_reading(at(arrival)) == at(reading)


def test_a_mailed_annex_reads_back_as_the_example_it_was_made_from(loaded: str) -> None:
    received = read_application(EXAMPLES / "candidature-cu-arras.yaml")
    raw = demo_doors.application_mail(loaded, received, at("2015-05-07T11:48"), "transitions@cerdd.org")
    assert raw == demo_doors.application_mail(loaded, received, at("2015-05-07T11:48"), "transitions@cerdd.org")
    mail = parse_mail(raw, max_bytes=30 * 1024 * 1024)
    assert mail.problems == [] and mail.sender == "claire.dufour@cu-arras.example.org"
    assert [f.filename for f in mail.files] == ["formulaire-cu-arras.docx", "formulaire-cu-arras.pdf",
                                                "projet-de-territoire-arras.pdf"]
    annex = mail.files[0].data
    assert annex != (EXAMPLES / "pieces" / "formulaire-cu-arras.docx").read_bytes()  # filled, not the example's
    form, pieces = read_submission(mail.files, read_annex)
    assert form.model_dump(exclude=ATTACHMENTS) == received.form.model_dump(exclude=ATTACHMENTS)
    assert [p.role for p in pieces] == ["formulaire", "formulaire", "complementaire"]
    assert str(message_from_bytes(raw, policy=policy.default)["Date"]) == "Thu, 07 May 2015 11:48:00 +0200"


def test_an_online_deposit_then_a_new_version_under_the_same_receipt(loaded: str) -> None:
    open_call(loaded)
    first = read_application(EXAMPLES / "candidature-ca-lens-lievin-v1.yaml")
    second = read_application(EXAMPLES / "candidature-ca-lens-lievin-v2.yaml")
    assert demo_doors.start_online(loaded, first, at("2015-04-13T09:45")) == "nouveau"
    receipt, recorded = demo_doors.deposit_online(loaded, first, at("2015-04-16T15:40"))
    assert recorded and receipt.version == 1
    again, recorded = demo_doors.deposit_online(loaded, first, at("2015-04-17T09:00"))
    assert not recorded and (again.receipt_number, again.version) == (receipt.receipt_number, 1)
    later, recorded = demo_doors.deposit_online(loaded, second, at("2015-05-05T16:20"))
    assert recorded and (later.receipt_number, later.version) == (receipt.receipt_number, 2)
    with pytest.raises(Refused, match="La date limite de l'appel était le jeudi 7 mai 2015 à 12h00"):
        demo_doors.deposit_online(loaded, first, at("2015-05-07T12:00"))
    with session_scope(loaded) as session:
        versions = session.exec(select(ApplicationVersion).order_by(col(ApplicationVersion.version))).all()
        links = session.exec(select(Notice).where(Notice.kind == "lien_candidature")).all()
        assert [(v.version, v.submitted_by) for v in versions] == [
            (1, "portail:n.haddad@agglo-lenslievin.example.org"), (2, "portail:n.haddad@agglo-lenslievin.example.org")]
        assert versions[1].payload["themes"] == [t.value for t in second.form.themes] != versions[0].payload["themes"]
        assert [n.recipient_email for n in links] == ["n.haddad@agglo-lenslievin.example.org"]


def test_a_draft_start_belongs_to_an_online_application(tmp_path: Path) -> None:
    script = (EXAMPLES.parent / "demo" / "cerdd-2015.yaml").read_text(encoding="utf-8")
    broken = script.replace("door: fichier}", "door: fichier, started: 2015-04-20T09:00:00}", 1)
    assert broken != script
    (tmp_path / "script.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        load_script(tmp_path / "script.yaml")
    assert "« started » ne vaut que pour une candidature en ligne" in " ".join([refused.value.message,
                                                                                *refused.value.details])


def test_the_replayed_applications_came_by_their_doors(replayed: tuple[Path, str]) -> None:
    out, url = replayed
    with session_scope(url) as session:
        by_lead = {a.lead_name: a for a in session.exec(select(Application)).all()}
        senders = {(a.lead_name, v.version): v.submitted_by for a in by_lead.values()
                   for v in session.exec(select(ApplicationVersion).where(ApplicationVersion.application_id == a.id))}
        mails = [(m.sender, m.outcome, m.received_at) for m in session.exec(select(MailMessage).order_by(
            col(MailMessage.id)))]
        drafts = sorted(d.lead_name for d in session.exec(select(ApplicationDraft)))
        notices = [(n.kind, n.recipient_email) for n in session.exec(select(Notice).where(
            col(Notice.kind).in_(["lien_candidature", "reponse_courriel"])).order_by(col(Notice.id)))]
    assert senders == {
        ("CA Maubeuge Val de Sambre", 1): "portail:g.lambert@amvs.example.org",
        ("CA de Lens - Liévin", 1): "portail:n.haddad@agglo-lenslievin.example.org",
        ("CA de Lens - Liévin", 2): "portail:n.haddad@agglo-lenslievin.example.org",
        ("Ville de Béthune", 1): "s.petit@bethune.example.org",
        ("Réseau Entreprendre Durable Hainaut", 1): "m.dubois@red-hainaut.example.org",
        ("CC de Flandre Intérieure", 1): "e.verhaeghe@ccfi.example.org",
        ("CU d'Arras", 1): "claire.dufour@cu-arras.example.org"}
    assert mails == [("e.verhaeghe@ccfi.example.org", "candidature", at("2015-04-30T11:00")),
                     ("claire.dufour@cu-arras.example.org", "candidature", at("2015-05-07T11:48")),
                     ("d.hochart@ccpl.example.org", "hors_delai", at("2015-05-07T12:04"))]
    assert by_lead["CU d'Arras"].first_submitted_at == at("2015-05-07T11:48")  # its arrival, read at 12:00
    assert drafts == ["CA Maubeuge Val de Sambre", "CA de Lens - Liévin"]
    assert notices == [("lien_candidature", "g.lambert@amvs.example.org"),
                       ("lien_candidature", "n.haddad@agglo-lenslievin.example.org"),
                       ("reponse_courriel", "d.hochart@ccpl.example.org")]
    box = mailbox.Maildir(out / "courriels", factory=None, create=False)
    assert len(box) == 0 and len(box.get_folder("Trait&AOk-es")) == 3  # each processed, once
    console = " ".join(console_text(out).read_text(encoding="utf-8").split())
    for line in ("candidature de CA de Lens - Liévin déposée en ligne : CERDD-2015-0002, version 2",
                 "candidature de Ville de Béthune enregistrée par le Cerdd (fichier)",
                 "courriel de claire.dufour@cu-arras.example.org arrivé le jeudi 7 mai 2015 à 11h48 → candidature",
                 "courriel de d.hochart@ccpl.example.org arrivé le jeudi 7 mai 2015 à 12h04 → réponse à l'expéditeur "
                 ": arrivé après la date limite"):
        assert line in console
