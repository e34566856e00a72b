"""Delivery channels. Each hands a `Message` over (as an e-mail, a file or a webhook call), or raises."""

from __future__ import annotations

import base64
import os
import random
import re
import sys
from contextlib import suppress
from email import policy
from email.contentmanager import _encode_base64, _encode_text  # type: ignore[attr-defined]
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Protocol

from models.addresses import deliverable_address, header_text, mailbox
from models.failures import disk_full, is_disk_full
from models.wording import os_reason
from notifications.message import Message


class DeliveryError(Exception):
    """A failed hand-over; `permanent` failures are not retried. `channel_down` failures (server
    unreachable, login refused) concern the channel, not the message: the rest of the run leaves
    that channel alone and its notices wait, untried, for the next run."""

    def __init__(self, message: str, *, permanent: bool = False, channel_down: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.channel_down = channel_down


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


HEADERS = policy.default.clone(refold_source="none")
"""The standard policy, except that headers written here are never refolded by the library: its
folder adds a space where it splits an encoded word, so accents would not survive a long name or
subject. We fold ourselves (`encode_mailbox`, `encode_text`)."""

_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$")


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _fold(header: str, tokens: list[str]) -> str:
    """Tokens joined by single spaces, lines broken (at those spaces) before 76 characters."""
    lines, line = [], f"{header}:"
    for token in tokens:
        if len(line) + 1 + len(token) > 76 and line != f"{header}:":
            lines.append(line)
            line = " " + token
        else:
            line += " " + token
    lines.append(line)
    return "\n".join(lines)[len(header) + 2:]


def encode_mailbox(header: str, box: Address) -> str:
    """A mailbox as header text a parser reads back exactly: a short ASCII name quoted as needed;
    otherwise plain words kept and each run of other words (accents, quotes, commas…) one RFC 2047
    encoded word, so that no decoder, strict or lenient, adds or loses a space."""
    name = box.display_name
    if not name or (name.isascii() and len(name) <= 60):
        return formataddr((name, box.addr_spec))
    tokens: list[str] = []
    run: list[str] = []
    for word in name.split(" "):
        if word and _ATOM.match(word) and not word.startswith("=?"):
            if run:
                tokens.append(_encoded_word(" ".join(run)))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens.append(_encoded_word(" ".join(run)))
    return _fold(header, [*tokens, f"<{box.addr_spec}>"])


def encode_text(header: str, text: str) -> str:
    """Unstructured header text (a subject): as it is when short and ASCII, otherwise RFC 2047
    encoded words split on character boundaries, which every decoder joins back exactly."""
    if text.isascii() and len(header) + 2 + len(text) <= 76:
        return text
    return Header(text, "utf-8", header_name=header).encode(linesep="\n")


@lru_cache(maxsize=32)
def sender_mailbox(sender: str) -> Address:
    """The sender setting (`Name <address>` or a bare address) as a header mailbox."""
    name, address = parseaddr(sender)
    return Address(display_name=header_text(name), addr_spec=deliverable_address(address or sender))


@lru_cache(maxsize=32)
def _from_header(sender: str) -> str:
    return encode_mailbox("From", sender_mailbox(sender))


def _set_ascii(email: EmailMessage, name: str, value: str) -> None:
    """A header whose value is short printable ASCII on one line goes in as it is; otherwise the
    policy parses and encodes it."""
    if value.isascii() and value.isprintable() and len(name) + 2 + len(value) <= 76:
        email.set_raw(name, value)
    else:
        email[name] = value


def recipient_mailbox(message: Message) -> Address:
    """The To mailbox of `message`; its `addr_spec` is the envelope recipient (the stored address,
    `models.addresses.deliverable_address`). Raises ValueError like `build_email`."""
    return _mailbox(message.recipient.name, message.recipient.email)


_mailbox = lru_cache(maxsize=1024)(mailbox)
"""The same people receive most notices: their address is checked and parsed once (a third of
the headers' cost). Only results are cached; a refused address raises each time."""


def _headers(message: Message, sender: str, to: Address | None = None) -> EmailMessage:
    """The message's own headers (everything but MIME-Version and the Content-* headers), in order.
    `to`: `recipient_mailbox(message)` when the caller already has it."""
    email = EmailMessage(policy=HEADERS)
    email.set_raw("From", _from_header(sender))
    email.set_raw("To", encode_mailbox("To", to or recipient_mailbox(message)))
    email.set_raw("Subject", _subject(header_text(message.subject)))
    # Short ASCII values the code writes itself go in raw (parsing them back into header objects
    # was a tenth of the delivery's time); anything people typed goes through the policy.
    _set_ascii(email, "Date", format_datetime(message.date))
    _set_ascii(email, "Message-ID", message.message_id)
    email.set_raw("Auto-Submitted", "auto-generated")  # RFC 3834: no vacation replies, no loops
    email.set_raw("X-Auto-Response-Suppress", "All")
    _set_ascii(email, "X-Transitions-Kind", message.kind)
    key = header_text(message.key)
    if "=?" in key:  # read back as an encoded word otherwise: the policy encodes it
        email["X-Transitions-Key"] = key
    else:
        _set_ascii(email, "X-Transitions-Key", key)
    if message.notices:
        _set_ascii(email, "X-Transitions-Notices", " ".join(str(n) for n in message.notices))
    for name, value in message.headers:
        email[name] = header_text(value)
    return email


@lru_cache(maxsize=256)
def _subject(text: str) -> str:
    """The Subject header's text: one subject is usually sent to many recipients."""
    return encode_text("Subject", text)


def _add_body(email: EmailMessage, message: Message) -> None:
    email.set_content(message.text, charset="utf-8")
    email.add_alternative(message.html, subtype="html", charset="utf-8")
    if message.calendar:  # RFC 6047: the invitation as a text/calendar alternative with its METHOD
        email.add_alternative(calendar_bytes(message.calendar), maintype="text", subtype="calendar", cte="base64",
                              params={"charset": "utf-8", "method": _calendar_method(message.calendar)})
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)


def build_email(message: Message, sender: str) -> EmailMessage:
    """The message in MIME: plain text first, HTML alternative, stable Message-ID.

    Addresses are built as `email.headerregistry.Address` objects (display name and the stored
    address), never by joining text, so a name with quotes, commas or angle brackets stays a name
    and the one recipient is the stored address. Every header is one line (control characters in
    names or subjects become spaces) and encoded so that `email.policy.default` reads back exactly
    the rendered text. Adds `Auto-Submitted: auto-generated` (RFC 3834). Raises ValueError for
    an address no channel can carry (see `models.addresses.deliverable_address`)."""
    email = _headers(message, sender)
    _add_body(email, message)
    return email


_METHOD = re.compile(r"^[A-Z][A-Z-]{0,30}$")


def calendar_bytes(calendar: str) -> bytes:
    """A calendar part's content: UTF-8, every line ended by CRLF (RFC 5545 §3.1, which Outlook
    enforces), whatever line ends the stored text has. Sent in base64, so no channel's line ends
    (the .eml file's LF) reach it: a text part would have its line ends rewritten by the library."""
    return b"".join(line + b"\r\n" for line in calendar.encode("utf-8").splitlines())


def _calendar_method(calendar: str) -> str:
    return next((line.split(":", 1)[1].strip() for line in calendar.splitlines()
                 if line.startswith("METHOD:")), "PUBLISH")


def _text_part(text: str, headers: list[str], cte: str | None, nl: str) -> tuple[list[str], str]:
    """One text part as `set_content` encodes it (same heuristics: 7bit, 8bit, quoted-printable
    or base64), its header lines given with `{cte}` where the transfer encoding goes."""
    chosen, payload = _encode_text(text, "utf-8", cte, HEADERS)
    body = nl.join(_LINES.split(payload))
    return [line.format(cte=chosen) for line in headers], body


_LINES = re.compile(r"\r\n|\r|\n")


def _body_bytes(message: Message, linesep: str) -> bytes:
    """MIME-Version, Content-Type and the parts, as `bytes(build_email(...))` writes them after
    the message's own headers, without building the MIME tree: `set_content`'s header objects
    were most of the message's cost. Messages with attachments or an unusual calendar METHOD take
    the library's path."""
    method = _calendar_method(message.calendar) if message.calendar else None
    if message.attachments or (method is not None and not _METHOD.match(method)):
        part = EmailMessage(policy=HEADERS)
        _add_body(part, message)
        out = BytesIO()
        BytesGenerator(out, mangle_from_=False, policy=HEADERS.clone(linesep=linesep)).flatten(part)
        return out.getvalue()
    parts = [
        _text_part(message.text, ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: {cte}"],
                   None, linesep),
        _text_part(message.html, ['Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: {cte}",
                                  "MIME-Version: 1.0"], None, linesep),
    ]
    if message.calendar:
        parts.append(([
            "Content-Transfer-Encoding: base64",
            f'Content-Type: text/calendar; charset="utf-8"; method="{method}"', "MIME-Version: 1.0"],
            linesep.join(_LINES.split(_encode_base64(calendar_bytes(message.calendar), HEADERS.max_line_length)))))
    boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
    if any(boundary in body for _, body in parts):  # as unlikely as it is, the library handles it
        part = EmailMessage(policy=HEADERS)
        _add_body(part, message)
        out = BytesIO()
        BytesGenerator(out, mangle_from_=False, policy=HEADERS.clone(linesep=linesep)).flatten(part)
        return out.getvalue()
    nl = linesep
    rendered = [nl.join(headers) + nl + nl + body for headers, body in parts]
    text = (f"MIME-Version: 1.0{nl}Content-Type: multipart/alternative;{nl} boundary=\"{boundary}\"{nl}{nl}"
            f"--{boundary}{nl}" + f"{nl}--{boundary}{nl}".join(rendered) + f"{nl}--{boundary}--{nl}")
    return text.encode("utf-8", "surrogateescape")


def email_bytes(message: Message, sender: str, *, linesep: str = "\n", to: Address | None = None) -> bytes:
    """`build_email(message, sender)` serialised (RFC 5322 bytes, lines ending with `linesep`:
    "\r\n" on the wire), built without flattening the whole message each time: the headers are
    folded as `bytes(build_email(...))` folds them, followed by the body, encoded once for every
    message with the same parts. Only the multipart boundary may differ from `build_email`'s (it is
    random there). `to`: `recipient_mailbox(message)` when the caller already has it. Raises
    ValueError like `build_email`."""
    email = _headers(message, sender, to)
    fold = HEADERS.clone(linesep=linesep).fold_binary
    head = b"".join(fold(name, value) for name, value in email.raw_items())
    return head + _body_bytes(message, linesep)


class FileChannel:
    """Writes each notice as an .eml file; a redelivery rewrites the same file."""

    name = "file"

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message) -> None:
        target = self.directory / f"{message.stem}.eml"
        temporary = target.with_suffix(".tmp")
        try:
            temporary.write_bytes(email_bytes(message, self.sender))
            os.replace(temporary, target)
        except OSError as exc:
            with suppress(OSError):  # no half-written file left behind
                temporary.unlink(missing_ok=True)
            if is_disk_full(exc):  # the disk, not this message: the others wait, untried, for the next run
                raise DeliveryError(disk_full(self.directory).message, channel_down=True) from exc
            raise DeliveryError(f"écriture impossible dans {self.directory} : {os_reason(exc)}") from exc

    def close(self) -> None:
        return None
