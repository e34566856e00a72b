"""Delivery channels. Each hands a `Message` over (as an e-mail, a file or a webhook call), or raises."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from models.wording import os_reason
from notifications.message import Message


class DeliveryError(Exception):
    """A failed hand-over; `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


def build_email(message: Message, sender: str) -> EmailMessage:
    """The message in MIME: plain text first, HTML alternative, stable Message-ID."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = f"{message.recipient.name} <{message.recipient.email}>"
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    email["X-Transitions-Kind"] = message.kind
    email["X-Transitions-Key"] = message.key
    for name, value in message.headers:
        email[name] = value
    email.set_content(message.text, charset="utf-8")
    email.add_alternative(message.html, subtype="html", charset="utf-8")
    if message.calendar:  # RFC 6047: the invitation as a text/calendar alternative with its METHOD
        method = next((line.split(":", 1)[1].strip() for line in message.calendar.splitlines()
                       if line.startswith("METHOD:")), "PUBLISH")
        email.add_alternative(message.calendar, subtype="calendar", charset="utf-8", cte="base64",
                              params={"method": method})
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return email


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
            temporary.write_bytes(bytes(build_email(message, self.sender)))
            os.replace(temporary, target)
        except OSError as exc:
            raise DeliveryError(f"écriture impossible dans {self.directory} : {os_reason(exc)}") from exc

    def close(self) -> None:
        return None
