"""Mail transport in: the call's mailbox, over IMAP (imap-tools) or as a local Maildir (the demo, an
installation without a server), with the same three folders (new mail, « Traitées », « À revoir »).

An `Inbox` lists the messages waiting (id, size as announced, arrival time at the server), hands
over a message's bytes or its header block alone, and moves a message to one of the two folders.
Folder names are encoded in IMAP's modified UTF-7 (« À revoir » is `&AMA- revoir` on the wire
and, for Maildir++, on disk, as Dovecot stores it)."""

from __future__ import annotations

import imaplib
import mailbox
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError
from imap_tools.imap_utf7 import utf7_encode

from config.settings import ImapSecurity, Settings
from models.errors import InvalidInput, Unavailable


class Vanished(LookupError):
    """The message is no longer in the new-mail folder: another run of the mailbox moved it (two
    `releve` at once), after recording it."""


@dataclass(frozen=True)
class Envelope:
    """A message waiting in the mailbox: its id in the folder, its size as the server announces
    it (bytes), and when it reached the server (UTC)."""

    uid: str
    size: int
    received_at: datetime


class Inbox(Protocol):
    """The call's mailbox, whatever its transport."""

    def envelopes(self) -> list[Envelope]: ...

    # message, header and move raise Vanished for a message another run moved meanwhile
    def message(self, uid: str) -> bytes: ...

    def header(self, uid: str) -> bytes: ...

    def move(self, uid: str, *, review: bool) -> None: ...


_FETCHED = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)|INTERNALDATE \"([^\"]+)\"")


class ImapInbox:
    """The mailbox on an IMAP server (a logged-in imap-tools `BaseMailBox`, its new-mail folder
    selected)."""

    def __init__(self, box: MailBox | MailBoxStartTls | MailBoxUnencrypted, done: str, review: str) -> None:
        self.box, self.done, self.review = box, done, review

    def envelopes(self) -> list[Envelope]:
        typ, data = self.box.client.uid("FETCH", "1:*", "(UID RFC822.SIZE INTERNALDATE)")
        found: list[Envelope] = []
        for line in data if typ == "OK" else []:
            if not isinstance(line, bytes):
                continue
            uid = size = date = None
            for match in _FETCHED.finditer(line):
                uid = match.group(1) or uid
                size = match.group(2) or size
                date = match.group(3) or date
            stamp = _internal_date(date) if date else None
            if uid and size and stamp:
                found.append(Envelope(uid.decode(), int(size), stamp))
        return sorted(found, key=lambda e: (e.received_at, int(e.uid)))

    def _fetch(self, uid: str, part: str) -> bytes:
        typ, data = self.box.client.uid("FETCH", uid, f"({part})")
        for item in data if typ == "OK" else []:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise Vanished(uid)

    def message(self, uid: str) -> bytes:
        return self._fetch(uid, "BODY.PEEK[]")

    def header(self, uid: str) -> bytes:
        return self._fetch(uid, "BODY.PEEK[HEADER]<0.65536>")

    def move(self, uid: str, *, review: bool) -> None:
        self.box.move(uid, self.review if review else self.done)


def _internal_date(text: bytes) -> datetime | None:
    """IMAP's INTERNALDATE (`17-Jul-1996 02:44:25 -0700`, RFC 3501) as an aware UTC datetime."""
    try:
        return datetime.strptime(text.decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)
    except (ValueError, UnicodeDecodeError):
        return None


class MaildirInbox:
    """The mailbox as a Maildir on disk: new mail in its root (new/ and cur/), the two folders as
    Maildir++ sub-folders named in modified UTF-7 (as Dovecot writes them)."""

    def __init__(self, root: Path, done: str, review: str) -> None:
        self.box = mailbox.Maildir(root, factory=None, create=True)
        self.folders = {False: self._folder(done), True: self._folder(review)}

    def _folder(self, name: str) -> mailbox.Maildir:
        encoded = utf7_encode(name).decode("ascii")
        return (self.box.get_folder(encoded) if encoded in self.box.list_folders()
                else self.box.add_folder(encoded))

    def envelopes(self) -> list[Envelope]:
        found = []
        for key in self.box.keys():
            with self.box.get_file(key) as handle:
                handle.seek(0, 2)
                size = handle.tell()
            when = self.box.get_message(key).get_date()
            found.append(Envelope(key, size, datetime.fromtimestamp(when, UTC)))
        return sorted(found, key=lambda e: (e.received_at, e.uid))

    def message(self, uid: str) -> bytes:
        try:
            return self.box.get_bytes(uid)
        except (KeyError, FileNotFoundError):
            raise Vanished(uid) from None

    def header(self, uid: str) -> bytes:
        try:
            with self.box.get_file(uid) as handle:
                return bytes(handle.read(65536)).split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0] + b"\n\n"
        except (KeyError, FileNotFoundError):
            raise Vanished(uid) from None

    def move(self, uid: str, *, review: bool) -> None:
        try:
            message = self.box.get_message(uid)
        except (KeyError, FileNotFoundError):
            raise Vanished(uid) from None
        self.folders[review].add(message)
        self.box.discard(uid)


@contextmanager
def open_inbox(settings: Settings) -> Iterator[Inbox]:
    """The call's mailbox named by the settings (IMAP when IMAP_HOST is set, else MAILDIR), its two
    folders created if missing. Unavailable (French) when the server cannot be reached or refuses
    the credentials; InvalidInput when neither is configured."""
    if settings.imap_host is None:
        if settings.maildir is None:
            raise InvalidInput("Ni IMAP_HOST ni MAILDIR n'est défini : la boîte de l'appel n'est pas configurée.")
        yield MaildirInbox(settings.maildir, settings.imap_done, settings.imap_review)
        return
    host, port, timeout = settings.imap_host, settings.imap_port, settings.imap_timeout
    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    try:
        if settings.imap_security == ImapSecurity.TLS:
            box: MailBox | MailBoxStartTls | MailBoxUnencrypted = MailBox(host, port, timeout=timeout)
        elif settings.imap_security == ImapSecurity.STARTTLS:
            box = MailBoxStartTls(host, port, timeout=timeout)
        else:
            box = MailBoxUnencrypted(host, port, timeout=timeout)
        box.login(settings.imap_user or "", password, initial_folder=None)
        for name in (settings.imap_done, settings.imap_review):
            if not box.folder.exists(name):
                box.folder.create(name)
        box.folder.set(settings.imap_folder)
    except MailboxLoginError:
        raise Unavailable(f"Le serveur IMAP {host} refuse l'identifiant ou le mot de passe de la boîte de l'appel "
                          "(IMAP_USER, IMAP_PASSWORD).") from None
    except (OSError, imaplib.IMAP4.error) as exc:  # ssl.SSLError and timeouts are OSErrors
        raise Unavailable(f"Le serveur IMAP {host}:{port} est injoignable ou a refusé la connexion "
                          f"({type(exc).__name__}) : réessayez plus tard.") from None
    try:
        yield ImapInbox(box, settings.imap_done, settings.imap_review)
    finally:
        try:
            box.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
