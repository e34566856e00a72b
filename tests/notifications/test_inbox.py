"""The mailbox's transport: IMAP on a real Dovecot (folder names in modified UTF-7, INTERNALDATE,
header-only reads) and a Maildir with the same folders; its settings refused in French."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import Settings
from models.errors import InvalidInput, Unavailable
from notifications.inbox import Vanished, open_inbox
from tests.dovecot import Dovecot, dovecot  # noqa: F401 — the session fixture

RAW = b"From: a@example.org\r\nSubject: essai\r\nMessage-ID: <x@example.org>\r\n\r\ncorps\r\n"
ARRIVED = datetime(2015, 5, 7, 9, 59, 59, tzinfo=UTC)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_folders_with_accents_are_created_in_modified_utf7_and_messages_move_there(dovecot: Dovecot) -> None:  # noqa: F811
    dovecot.reset()
    dovecot.deliver(RAW, ARRIVED)
    settings = _settings(**{k.lower(): v for k, v in dovecot.settings_env().items()})
    with open_inbox(settings) as inbox:
        [envelope] = inbox.envelopes()
        assert envelope.received_at == ARRIVED and envelope.size == len(RAW)
        assert inbox.header(envelope.uid).startswith(b"From: a@example.org") and b"corps" not in inbox.header(
            envelope.uid)
        assert inbox.message(envelope.uid) == RAW
        inbox.move(envelope.uid, review=True)
    assert dovecot.count("À revoir") == 1 and dovecot.count("INBOX") == 0
    on_disk = {p.name for p in (dovecot.root / "mail" / "appel").iterdir()}
    assert ".&AMA- revoir" in on_disk and ".Trait&AOk-es" in on_disk  # RFC 3501 modified UTF-7


def test_a_message_another_run_moved_meanwhile_is_vanished_not_unavailable(dovecot: Dovecot) -> None:  # noqa: F811
    """Two `releve` at once: the second session listed a message the first moves; reading it says
    `Vanished` (process_one counts it as already processed), moving it again changes nothing."""
    dovecot.reset()
    dovecot.deliver(RAW, ARRIVED)
    settings = _settings(**{k.lower(): v for k, v in dovecot.settings_env().items()})
    with open_inbox(settings) as first, open_inbox(settings) as second:
        [envelope] = second.envelopes()
        first.move(envelope.uid, review=False)
        with pytest.raises(Vanished):
            second.message(envelope.uid)
        with pytest.raises(Vanished):
            second.header(envelope.uid)
        second.move(envelope.uid, review=True)
    assert dovecot.count("Traitées") == 1 and dovecot.count("À revoir") == 0


def test_wrong_credentials_and_an_unreachable_server_are_told_in_french(dovecot: Dovecot) -> None:  # noqa: F811
    env = {k.lower(): v for k, v in dovecot.settings_env().items()}
    with pytest.raises(Unavailable, match="refuse l'identifiant"):
        with open_inbox(_settings(**{**env, "imap_password": "pas-le-bon-mot-de-passe"})):
            pass
    with pytest.raises(Unavailable, match="injoignable"):
        with open_inbox(_settings(**{**env, "imap_port": 1})):
            pass


def test_a_maildir_has_the_same_folders(tmp_path: Path) -> None:
    import mailbox

    box = mailbox.Maildir(tmp_path / "boite", create=True)
    message = mailbox.MaildirMessage(RAW)
    message.set_date(ARRIVED.timestamp())
    box.add(message)
    with open_inbox(_settings(maildir=tmp_path / "boite")) as inbox:
        [envelope] = inbox.envelopes()
        assert envelope.received_at == ARRIVED
        assert inbox.header(envelope.uid).startswith(b"From: a@example.org")
        inbox.move(envelope.uid, review=False)
        assert inbox.envelopes() == []
    assert len(mailbox.Maildir(tmp_path / "boite").get_folder(".Trait&AOk-es".lstrip("."))) == 1
    with pytest.raises(InvalidInput, match="ni MAILDIR"):
        with open_inbox(_settings()):
            pass


@pytest.mark.parametrize(("values", "words"), [
    ({"imap_host": "imap.example.org"}, "IMAP_USER et IMAP_PASSWORD"),
    ({"imap_host": "imap.example.org", "imap_user": "u", "imap_password": "p-1234", "imap_security": "aucune"},
     "n'est permis que vers un serveur de cette machine"),
    ({"imap_host": "imaps://imap.example.org:993"}, "sans schéma ni port"),
    ({"imap_review": "À\x00revoir"}, "nom de dossier"),
    ({"imap_host": "127.0.0.1", "imap_user": "u", "imap_password": "p-1234", "imap_done": "INBOX"},
     "trois dossiers différents"),
    ({"imap_password": "changeme"}, "valeur d'exemple"),
    ({"mail_max_bytes": 10}, "mail_max_bytes"),
])
def test_mailbox_settings_are_validated(values: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        _settings(**values)
