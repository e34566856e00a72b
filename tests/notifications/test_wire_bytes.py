"""`email_bytes` (what the SMTP and file channels write) against the library's own serialisation
of `build_email`: the same bytes, the random multipart boundary aside, for any text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.generator import BytesGenerator
from io import BytesIO

from hypothesis import given, settings
from hypothesis import strategies as st

from models.notices import Recipient
from notifications.channels import build_email, email_bytes
from notifications.message import Attachment, Message

SENDER = "Cerdd <transitions@cerdd.org>"
CALENDARS = [None, "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
             "BEGIN:VCALENDAR\nMETHOD:CANCEL\nSUMMARY:" + "é" * 90 + "\nEND:VCALENDAR", "METHOD:bizarre; x=\"y\"\n"]
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=300)


def _library(message: Message, linesep: str) -> bytes:
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False).flatten(build_email(message, SENDER), linesep=linesep)
    return out.getvalue()


def _without_boundary(raw: bytes) -> bytes:
    return re.sub(rb"={15}\d{19}==(\.\d+)?", b"BOUNDARY", raw)


def _message(body: str, html: str, calendar: str | None, attachments: tuple[Attachment, ...] = ()) -> Message:
    return Message(recipient=Recipient("epci@example.org", "Communauté « d'Arras »"), subject="Rappel : livrable dû",
                   text=body, html=html, message_id="<n1.abc@transitions.cerdd.org>", kind="rappel_livrable",
                   key="k1", created_at=datetime(2015, 9, 1, 7, tzinfo=UTC), stem="s", notices=(1,),
                   calendar=calendar, attachments=attachments)


@settings(max_examples=150, deadline=None)
@given(body=text, html=text, calendar=st.sampled_from(CALENDARS), linesep=st.sampled_from(["\n", "\r\n"]))
def test_email_bytes_are_the_librarys_serialisation(body: str, html: str, calendar: str | None,
                                                     linesep: str) -> None:
    message = _message(body, html, calendar)
    raw, library = email_bytes(message, SENDER, linesep=linesep), _library(message, linesep)
    assert _without_boundary(raw) == _without_boundary(library)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Message-ID"] == message.message_id
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None
    expected = message_from_bytes(library, policy=policy.default).get_body(preferencelist=("plain",))
    assert expected is not None and plain.get_content() == expected.get_content()


def test_attachments_take_the_librarys_path() -> None:
    message = _message("Bonjour é\n", "<p>é</p>\n", None, (Attachment("charte.pdf", "application/pdf", b"%PDF\x00"),))
    raw = email_bytes(message, SENDER)
    assert _without_boundary(raw) == _without_boundary(bytes(build_email(message, SENDER)))
    parts = [p.get_filename() for p in message_from_bytes(raw, policy=policy.default).iter_attachments()]
    assert parts == ["charte.pdf"]
