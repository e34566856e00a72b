"""A received message read as hostile input: headers decoded and neutralised, attachments found,
nesting refused, the same content recognised under a new Message-ID."""

from __future__ import annotations

from email.message import EmailMessage

from models.mailparse import MAX_DEPTH, oversized, parse_mail
from tests.mails import forwarded, nested

LIMIT = 1024 * 1024


def _message(message_id: str | None = "<a@example.org>", sender: str = "Claire <claire@example.org>",
             files: tuple[tuple[str, bytes], ...] = (("f.pdf", b"%PDF-1.4 x"),)) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = "=?utf-8?q?Candidature_=E2=80=AEfdp.exe?="
    if message_id:
        message["Message-ID"] = message_id
    message.set_content("Bonjour")
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def test_headers_are_decoded_and_bidi_controls_shown_not_obeyed() -> None:
    mail = parse_mail(_message(files=(("../../etc/passwd.pdf", b"%PDF-1.4"),)), max_bytes=LIMIT)
    assert mail.problems == []
    assert mail.sender == "claire@example.org" and mail.sender_name == "Claire"
    assert mail.subject == "Candidature \\u202efdp.exe"
    assert [f.filename for f in mail.files] == ["passwd.pdf"]
    assert mail.key == "<a@example.org>"


def test_the_same_content_under_a_new_message_id_has_the_same_content_digest() -> None:
    first, again = parse_mail(_message(), max_bytes=LIMIT), parse_mail(_message("<b@example.org>"), max_bytes=LIMIT)
    assert first.key != again.key and first.content_sha256 == again.content_sha256
    other = parse_mail(_message(files=(("f.pdf", b"%PDF-1.4 y"),)), max_bytes=LIMIT)
    assert other.content_sha256 != first.content_sha256


def test_without_message_id_a_message_is_known_by_its_bytes() -> None:
    raw = _message(None)
    assert parse_mail(raw, max_bytes=LIMIT).key.startswith("sha256:")
    assert parse_mail(raw, max_bytes=LIMIT).key == parse_mail(raw, max_bytes=LIMIT).key


def test_nested_messages_absurd_depth_and_excess_size_are_refused() -> None:
    assert "message/rfc822" in parse_mail(forwarded(), max_bytes=LIMIT).problems[0]
    assert f"plus de {MAX_DEPTH} niveaux" in parse_mail(nested(MAX_DEPTH + 3), max_bytes=LIMIT).problems[0]
    assert parse_mail(nested(2), max_bytes=LIMIT).problems == []
    raw = _message()
    assert "dépasse la taille permise" in parse_mail(raw, max_bytes=len(raw) - 1).problems[0]
    head = oversized(raw.split(b"\n\n")[0] + b"\n\n", 50_000_000, max_bytes=LIMIT)
    assert head.sender == "claire@example.org" and head.files == [] and "48828 Ko" in head.problems[0]


def test_a_sender_that_cannot_be_answered_is_a_problem() -> None:
    for sender in ("", "a@example.org, b@example.org", "pas une adresse", "x@\u202eexample.org"):
        mail = parse_mail(_message(sender=sender), max_bytes=LIMIT)
        assert mail.sender is None and mail.problems, sender
