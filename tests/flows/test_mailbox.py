"""The call's mailbox on a real Dovecot (issue 22): twenty messages (good, broken, late, duplicate,
hostile) processed once, twice, and after a SIGKILL between a commit and its move, with the same
final state: the same applications, ledger, notices and folders; nothing sent twice."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from config.settings import get_settings, reset_settings
from flows.mailbox import read_mailbox
from models.db import session_scope
from models.tables import Application, AuditEntry, MailMessage, Notice
from tests.conftest import PROJECT_ROOT, at, open_call
from tests.dovecot import Dovecot, dovecot  # noqa: F401 — the session fixture
from tests.guards import HANG_GUARD
from tests.mails import READ_AT, twenty

MAX_BYTES = 256 * 1024
PROCESSED = Counter({"candidature": 5, "reponse": 10, "hors_delai": 1, "doublon": 1, "a_revoir": 2})


@pytest.fixture
def inbox(loaded: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: F811
    """The programme's call open, the twenty messages delivered to an empty Dovecot inbox, the
    settings pointing at it."""
    open_call(loaded)
    dovecot.reset()
    for name, value in {**dovecot.settings_env(), "MAIL_MAX_BYTES": str(MAX_BYTES)}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    for raw, when in twenty():
        dovecot.deliver(raw, when)
    yield loaded
    reset_settings()


def state(url: str, dovecot: Dovecot) -> dict[str, Any]:  # noqa: F811
    """Everything the mailbox changes, comparable between runs."""
    with session_scope(url) as session:
        applications = sorted((a.receipt_number, a.lead_siren, a.version)
                              for a in session.exec(select(Application)).all())
        ledger = sorted((m.message_key, m.outcome, m.sender) for m in session.exec(select(MailMessage)).all())
        notices = sorted((n.kind, n.recipient_email, n.dedup_key) for n in session.exec(select(Notice)).all())
        refused = len(session.exec(select(AuditEntry).where(AuditEntry.action == "candidature.refusee")).all())
    folders = {name: dovecot.count(name) for name in ("INBOX", "Traitées", "À revoir")}
    return {"applications": applications, "ledger": ledger, "notices": notices, "refused": refused,
            "folders": folders}


def outcomes(url: str) -> Counter[str]:
    with session_scope(url) as session:
        return Counter(m.outcome for m in session.exec(select(MailMessage)).all())


def test_twenty_messages_processed_once_give_what_each_deserves(inbox: str, dovecot: Dovecot) -> None:  # noqa: F811
    report = read_mailbox(inbox, at=READ_AT)
    assert report.moved == 20 and report.later == 0
    assert report.outcomes == PROCESSED + Counter({"deja_traite": 1})
    final = state(inbox, dovecot)
    assert final["folders"] == {"INBOX": 0, "Traitées": 18, "À revoir": 2}
    # Arras twice (version 2 from another contact on file), Lens, Flandre, Pays de Lumbres at 11:59:59.
    assert sorted(version for _, _, version in final["applications"]) == [1, 1, 1, 2]
    kinds = Counter(kind for kind, _, _ in final["notices"])
    assert kinds["reponse_courriel"] == 11  # ten replies listing problems, and the late one
    assert kinds["courriel_a_revoir"] == 2  # the forged sender and the anonymous message, to the manager
    with session_scope(inbox) as session:
        arras = session.exec(select(Application).where(Application.lead_siren == "200033579")).one()
        assert arras.version == 2  # the forged From: did not make a third version
        replies = [n.body_text for n in session.exec(select(Notice).where(Notice.kind == "reponse_courriel")).all()]
    def reply(subject: str) -> str:
        found = [text for text in replies if f"courriel « {subject} »" in text]
        assert len(found) == 1, subject
        return found[0]

    late = [text for text in replies if "reçu le jeudi 7 mai 2015 à 12h00" in text]
    assert len(late) == 1 and "après la date limite, le jeudi 7 mai 2015 à 12h00 (heure de Paris)" in late[0]
    assert "aucune pièce jointe" in reply("Sans pièce")
    assert "joignez le formulaire en version PDF" in reply("Sans PDF")
    assert "motivations (ligne" in reply("Champs invalides") and "themes[0]" in reply("Champs invalides")
    assert "bombe de décompression" in reply("Bombe")
    assert "message/rfc822" in reply("TR: candidature")
    assert "plus de 6 niveaux" in reply("Poupées russes")
    assert "dépasse la taille permise" in reply("Trop lourd")
    assert "formulaire-cu-arras.docx refusé" in reply("Annexe Word") and "rubrique absente" in reply("Annexe Word")
    hostile = reply("Objet piège")  # decoded (RFC 2047); the CR LF it carried is gone
    assert "\u202e" not in hostile and "\x1b" not in hostile
    assert "pas un EPCI" in "".join(replies)


def test_a_second_run_changes_nothing_and_sends_nothing_twice(inbox: str, dovecot: Dovecot) -> None:  # noqa: F811
    read_mailbox(inbox, at=READ_AT)
    first = state(inbox, dovecot)
    report = read_mailbox(inbox, at=READ_AT)
    assert report.moved == 0
    assert state(inbox, dovecot) == first
    for raw, when in twenty()[:3]:  # the same messages delivered again: known, only moved
        dovecot.deliver(raw, when)
    again = read_mailbox(inbox, at=READ_AT)
    assert again.outcomes == Counter({"deja_traite": 3})
    assert state(inbox, dovecot)["notices"] == first["notices"]


KILLER = """
import os, signal, sys
from datetime import datetime
from flows.mailbox import read_mailbox
from notifications.inbox import open_inbox
from config.settings import get_settings

class KilledBeforeMove:
    def __init__(self, inner, after):
        self.inner, self.after, self.moves = inner, after, 0
    def envelopes(self): return self.inner.envelopes()
    def message(self, uid): return self.inner.message(uid)
    def header(self, uid): return self.inner.header(uid)
    def move(self, uid, *, review):
        self.moves += 1
        if self.moves == self.after:  # committed, not yet moved
            os.kill(os.getpid(), signal.SIGKILL)
        self.inner.move(uid, review=review)

with open_inbox(get_settings()) as inbox:
    read_mailbox(get_settings().database_url, at=datetime.fromisoformat(sys.argv[1]),
                 inbox=KilledBeforeMove(inbox, int(sys.argv[2])))
"""


@pytest.mark.slow
def test_killed_between_a_commit_and_its_move_the_rerun_ends_as_an_uninterrupted_run(
        inbox: str, dovecot: Dovecot) -> None:  # noqa: F811
    env = {**os.environ, "DATABASE_URL": inbox, "OUTBOX_DIR": str(get_settings().outbox_dir)}
    run = subprocess.run([sys.executable, "-c", KILLER, READ_AT.isoformat(), "7"], env=env, cwd=PROJECT_ROOT,
                         capture_output=True, timeout=HANG_GUARD)
    assert run.returncode == -9, run.stderr.decode()[-2000:]
    assert len(outcomes(inbox)) > 0 and sum(outcomes(inbox).values()) == 6  # the 7th is « déjà traité »
    assert dovecot.count("INBOX") == 14  # six moved; the seventh committed, not moved
    report = read_mailbox(inbox, at=READ_AT)
    assert report.moved == 14
    final = state(inbox, dovecot)
    assert final["folders"] == {"INBOX": 0, "Traitées": 18, "À revoir": 2}
    assert outcomes(inbox) == PROCESSED
    assert len(final["notices"]) == len(set(final["notices"]))


def test_a_mailed_word_and_opendocument_annex_become_the_application_of_the_yaml_example(
        loaded: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The annex generated for the call, filled with python-docx and odfpy, mailed with its PDF:
    each becomes a version of Arras's application whose form is the YAML example's."""
    from documents.annex import annex_docx, annex_odt
    from models.forms import ApplicationForm
    from models.tables import ApplicationVersion
    from tests.conftest import PROGRAMME
    from tests.documents.filling import arras_payload, fill_docx, fill_odt
    from tests.mails import CLAIRE, PIECES, mail
    from transitions.programmes import load_programme

    open_call(loaded)
    dovecot.reset()
    for name, value in dovecot.settings_env().items():
        monkeypatch.setenv(name, value)
    reset_settings()
    definition = load_programme(PROGRAMME).definition
    pdf = (PIECES / "formulaire-cu-arras.pdf").read_bytes()
    for index, (name, data) in enumerate((("candidature.docx", fill_docx(annex_docx(definition), arras_payload())),
                                          ("candidature.odt", fill_odt(annex_odt(definition), arras_payload())))):
        when = at(f"2015-04-2{index}T10:00")
        dovecot.deliver(mail(CLAIRE, "Candidature", [(name, data), ("candidature.pdf", pdf)],
                             message_id=f"<annexe-{index}@cu-arras.example.org>", when=when), when)
    report = read_mailbox(loaded, at=READ_AT)
    assert report.outcomes == Counter({"candidature": 2}), outcomes(loaded)
    with session_scope(loaded) as session:
        versions = session.exec(select(ApplicationVersion).order_by(ApplicationVersion.version)).all()  # type: ignore[arg-type]
        payloads = [v.payload for v in versions]
    assert len(payloads) == 2
    expected = arras_payload()
    for payload, fmt in zip(payloads, ("docx", "odt"), strict=True):
        assert [f["fichier"] for f in payload.pop("formulaire")] == [f"candidature.{fmt}", "candidature.pdf"]
        assert payload.pop("documents_complementaires") == []
        assert ApplicationForm.model_validate({**payload, "formulaire": [], "documents_complementaires": []}) == \
            ApplicationForm.model_validate({**expected, "formulaire": [], "documents_complementaires": []})


def test_the_flow_reads_a_maildir_on_prefect_and_is_deployed_only_when_configured(
        prefect_server: None, loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`releve-candidatures` on a real Prefect server, from a Maildir (no IMAP server): a good
    application and an empty message; `transitions serve` deploys it only with a mailbox."""
    import mailbox

    from flows.deployments import deployments
    from flows.mailbox import mailbox_flow
    from tests.mails import ARRAS, CLAIRE, good, mail

    open_call(loaded)
    box = mailbox.Maildir(tmp_path / "boite", create=True)
    for raw, when in ((good(ARRAS, CLAIRE, "<m1@example.org>", READ_AT), "2015-04-20T10:00"),
                      (mail(CLAIRE, "Vide", [], message_id="<m2@example.org>", when=READ_AT), "2015-04-21T10:00")):
        message = mailbox.MaildirMessage(raw)
        message.set_date(at(when).timestamp())
        box.add(message)
    assert "releve-candidatures" not in {d.name for d in deployments()}
    monkeypatch.setenv("MAILDIR", str(tmp_path / "boite"))
    reset_settings()
    report = mailbox_flow(at=READ_AT)
    assert report.outcomes == Counter({"candidature": 1, "reponse": 1})
    assert len(box) == 0 and len(box.get_folder("Trait&AOk-es")) == 2
    assert "releve-candidatures" in {d.name for d in deployments()}


def test_a_mail_in_time_read_after_the_call_closed_awaits_the_cerdd_and_the_sender_is_not_told_closed(
        loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The arrival at the server counts, not the reading: a mail that arrived at 11:50 and is read at
    12:10, once the closing tick decided the admissibility, is neither refused as late nor as « appel
    clos »: it goes to « À revoir » and the Cerdd's manager is told."""
    import mailbox

    from models.call import close_call
    from tests.conftest import ctx_of
    from tests.mails import ARRAS, CLAIRE, good

    open_call(loaded)
    box = mailbox.Maildir(tmp_path / "boite", create=True)
    message = mailbox.MaildirMessage(good(ARRAS, CLAIRE, "<in-time@example.org>", at("2015-05-07T11:50")))
    message.set_date(at("2015-05-07T11:50").timestamp())
    box.add(message)
    with session_scope(loaded) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))
    monkeypatch.setenv("MAILDIR", str(tmp_path / "boite"))
    reset_settings()
    report = read_mailbox(loaded, at=at("2015-05-07T12:10"))
    assert report.outcomes == Counter({"a_revoir": 1})
    with session_scope(loaded) as session:
        assert session.exec(select(Application)).all() == []
        kinds = [n.kind for n in session.exec(select(Notice).where(Notice.dedup_key.startswith("courriel_a_revoir")))]
        assert kinds == ["courriel_a_revoir"]
        assert session.exec(select(Notice).where(Notice.kind == "reponse_courriel")).all() == []
        row = session.exec(select(MailMessage)).one()
        assert "lu après la clôture" in row.problems[0]
    assert len(box.get_folder("&AMA- revoir")) == 1


def test_two_runs_at_once_on_a_maildir_process_each_message_once_and_neither_fails(
        loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two `releve` at once (two processes, each its own view of the Maildir): the second listed the
    messages before the first moved them; it finds them gone, or known and gone, and only says so."""
    import mailbox

    from flows.mailbox import process_one
    from notifications.inbox import MaildirInbox, Vanished
    from tests.mails import ARRAS, CLAIRE, good, mail

    open_call(loaded)
    root = tmp_path / "boite"
    box = mailbox.Maildir(root, create=True)
    for raw, when in ((good(ARRAS, CLAIRE, "<m1@example.org>", READ_AT), "2015-04-20T10:00"),
                      (mail(CLAIRE, "Vide", [], message_id="<m2@example.org>", when=READ_AT), "2015-04-21T10:00")):
        message = mailbox.MaildirMessage(raw)
        message.set_date(at(when).timestamp())
        box.add(message)
    monkeypatch.setenv("MAILDIR", str(root))
    reset_settings()
    settings = get_settings()
    late = MaildirInbox(root, settings.imap_done, settings.imap_review)
    listed = late.envelopes()
    early = MaildirInbox(root, settings.imap_done, settings.imap_review)
    early_bytes = early.message(listed[0].uid)  # read by the first run, which then loses the race
    assert read_mailbox(loaded, at=READ_AT).outcomes == Counter({"candidature": 1, "reponse": 1})
    assert [process_one(loaded, late, envelope, at=READ_AT, settings=settings) for envelope in listed] == [
        "deja_traite", "deja_traite"]
    with pytest.raises(Vanished):  # moved meanwhile: the transport says so, process_one shrugs
        early.move(listed[0].uid, review=False)
    assert early_bytes and len(box) == 0 and len(box.get_folder("Trait&AOk-es")) == 2
    assert outcomes(loaded) == Counter({"candidature": 1, "reponse": 1})
