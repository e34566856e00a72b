"""A message received in the call's mailbox, read as hostile input: raw bytes (RFC 5322, MIME) to
the few facts the intake needs (who sent it, its Message-ID, its subject, its attached files) and
every reason it cannot be read, in French. Standard library only (`email`, `policy.default`);
nothing here touches the network or the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import PurePosixPath

from models.addresses import deliverable_address
from models.text import visible

MAX_DEPTH = 6
"""How deeply MIME parts may nest: a mail client writes 3 levels (mixed > alternative > text)."""
MAX_PARTS = 60
"""How many MIME parts a message may hold (a handful of attachments and their text)."""
MAX_FILES = 20
"""How many attached files one application message may carry."""
MAX_HEADER_TEXT = 300
AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list"})
"""`Precedence:` values of mass or automatic mail, never answered (RFC 3834, section 2)."""


@dataclass(frozen=True)
class MailFile:
    """One attached file: its name as shown (last path component, controls made visible) and bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    """What a message says, safely: `sender` is a deliverable address or None; `key` identifies the
    message (its Message-ID, or the SHA-256 of its raw bytes without one); `content_sha256` what it
    carries (sender and each file's name and digest, or its text without files), so that the same
    content sent again under a new Message-ID is recognised; `problems` lists, in French, why it
    cannot become an application as it stands (empty when it may)."""

    key: str
    message_id: str | None
    raw_sha256: str
    content_sha256: str
    size: int
    sender: str | None
    sender_name: str
    subject: str
    files: list[MailFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    automatic: str | None = None
    """Why the message was sent by a machine (RFC 3834: `Auto-Submitted`, `Precedence: bulk`, a
    delivery report…), in French; None for a person's. An automatic message is never answered."""


def _header(message: Message, name: str) -> str:
    """A header's decoded text (RFC 2047), controls and bidi marks made visible, bounded; '' when
    absent or unreadable."""
    try:
        value = message.get(name)
        text = "" if value is None else str(value)
    except Exception:  # noqa: BLE001 — a malformed header must not stop the reading
        return ""
    return visible(" ".join(text.split()))[:MAX_HEADER_TEXT]


def _sender(message: Message, problems: list[str]) -> tuple[str | None, str]:
    try:
        header = message.get("From")
        addresses = list(getattr(header, "addresses", ()) or ())
    except Exception:  # noqa: BLE001
        addresses = []
    if len(addresses) != 1:
        problems.append("l'expéditeur (From:) est absent, illisible ou multiple")
        return None, ""
    address = addresses[0]
    try:
        email = deliverable_address(address.addr_spec)
    except (ValueError, AttributeError):
        problems.append("l'adresse de l'expéditeur (From:) n'est pas une adresse à laquelle répondre")
        return None, ""
    return email, visible(" ".join(str(address.display_name or "").split()))[:120]


def _automatic(message: Message) -> str | None:
    """Why `message` comes from a machine (a vacation reply, a bounce, a list, our own notices), in
    French, or None (RFC 3834, sections 2 and 5: `Auto-Submitted` other than « no », `Precedence`
    bulk, junk or list; a null return path; a delivery report)."""
    submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"message automatique (Auto-Submitted: {submitted[:40]})"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"message automatique (Precedence: {precedence})"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "message automatique (réponse automatique)"
    if _header(message, "Return-Path").strip() == "<>":
        return "message automatique (chemin de retour vide : un avis de non-remise)"
    if message.get_content_type() == "multipart/report":
        return "message automatique (rapport de remise)"
    return None


def _filename(part: Message, index: int) -> str:
    try:
        given = part.get_filename() or ""
    except Exception:  # noqa: BLE001 — a broken RFC 2231 parameter
        given = ""
    name = PurePosixPath(given.replace("\\", "/")).name.strip()
    return visible(name)[:120] if name and name not in (".", "..") else f"piece-jointe-{index}"


def _walk(part: Message, depth: int, found: list[Message], problems: list[str], counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_PARTS:
        if counter[0] == MAX_PARTS + 1:
            problems.append(f"le message compte plus de {MAX_PARTS} parties MIME : il n'est pas lu")
        return
    if depth > MAX_DEPTH:
        problems.append(f"le message imbrique ses parties sur plus de {MAX_DEPTH} niveaux : il n'est pas lu")
        counter[0] = MAX_PARTS + 2
        return
    kind = part.get_content_type()
    if kind.startswith("message/"):
        problems.append("le message contient un autre message joint (message/rfc822 ou transfert en pièce "
                        "jointe) : envoyez les fichiers eux-mêmes en pièces jointes")
        return
    if part.is_multipart():
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                _walk(child, depth + 1, found, problems, counter)
        return
    found.append(part)


def _decoded(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return b""
    return data if isinstance(data, bytes) else b""


def _text(part: Message) -> str:
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else ""
    except Exception:  # noqa: BLE001 — an unknown charset
        content = _decoded(part).decode("utf-8", "replace")
    return content if isinstance(content, str) else ""


def parse_mail(raw: bytes, *, max_bytes: int) -> ParsedMail:
    """Read `raw` (a whole message, at most `max_bytes`; a longer one is refused unread) into a
    `ParsedMail`. Attachments are the parts with a file name or an « attachment » disposition, and
    any non-text part; nested messages (message/rfc822) and a MIME tree deeper than MAX_DEPTH or
    wider than MAX_PARTS are refused. Never raises on content."""
    raw_sha = hashlib.sha256(raw).hexdigest()
    problems: list[str] = []
    if len(raw) > max_bytes:
        return ParsedMail(f"sha256:{raw_sha}", None, raw_sha, raw_sha, len(raw), None, "", "", [],
                          [f"le message dépasse la taille permise ({len(raw) // 1024} Ko ; limite "
                           f"{max_bytes // 1024} Ko)"])
    message = message_from_bytes(raw, policy=policy.default)
    message_id = _header(message, "Message-ID").strip() or None
    if message_id is not None and not (message_id.startswith("<") and message_id.endswith(">")):
        message_id = None  # not a Message-ID: the message is known by its bytes
    sender, sender_name = _sender(message, problems)
    subject = _header(message, "Subject")
    parts: list[Message] = []
    _walk(message, 0, parts, problems, [0])
    files: list[MailFile] = []
    texts: list[str] = []
    for index, part in enumerate(parts, start=1):
        disposition = (part.get_content_disposition() or "").lower()
        named = False
        try:
            named = part.get_filename() is not None
        except Exception:  # noqa: BLE001
            named = True
        if part.get_content_maintype() == "text" and disposition != "attachment" and not named:
            texts.append(_text(part))
            continue
        files.append(MailFile(_filename(part, index), _decoded(part)))
    if len(files) > MAX_FILES:
        problems.append(f"le message porte {len(files)} pièces jointes (limite {MAX_FILES})")
        files = files[:MAX_FILES]
    digest = hashlib.sha256((sender or "").lower().encode())
    for item in sorted(files, key=lambda f: f.filename):
        digest.update(b"\0" + item.filename.encode("utf-8", "replace") + b"\0" + hashlib.sha256(item.data).digest())
    if not files:
        digest.update(b"\0" + " ".join(" ".join(texts).split()).encode("utf-8", "replace"))
    return ParsedMail(message_id or f"sha256:{raw_sha}", message_id, raw_sha, digest.hexdigest(), len(raw), sender,
                      sender_name, subject, files, problems, _automatic(message))


def oversized(header: bytes, size: int, *, max_bytes: int) -> ParsedMail:
    """A message larger than `max_bytes` (`size` as the server announces it), known by its header
    block alone (`header`, fetched without the body): who sent it and its Message-ID, so that the
    sender is told, and nothing else read."""
    head = parse_mail(header[:max_bytes], max_bytes=max_bytes)
    return ParsedMail(head.key, head.message_id, head.raw_sha256, head.raw_sha256, size, head.sender,
                      head.sender_name, head.subject, [],
                      [f"le message dépasse la taille permise ({size // 1024} Ko ; limite {max_bytes // 1024} Ko) : "
                       "il n'a pas été lu ; allégez les pièces jointes (10 Mo au plus chacune)"], head.automatic)
