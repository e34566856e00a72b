"""Delivery channels. Each turns an outbox row into a message and hands it over, or raises."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from models.errors import os_reason
from models.tables import Notice


class DeliveryError(Exception):
    """A failed hand-over; `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, notice: Notice) -> None: ...

    def close(self) -> None: ...


def build_email(notice: Notice, sender: str) -> EmailMessage:
    """The notice as a MIME message: plain text first, HTML alternative, stable Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"{notice.recipient_name} <{notice.recipient_email}>"
    message["Subject"] = notice.subject
    message["Date"] = format_datetime(notice.created_at)
    message["Message-ID"] = notice.message_id
    message["X-Transitions-Kind"] = notice.kind
    message["X-Transitions-Key"] = notice.dedup_key
    message.set_content(notice.body_text, charset="utf-8")
    message.add_alternative(notice.body_html, subtype="html", charset="utf-8")
    return message


def eml_name(notice: Notice) -> str:
    return f"{notice.created_at:%Y%m%d-%H%M}-{notice.id:05d}-{notice.kind}.eml"


class FileChannel:
    """Writes each notice as an .eml file; a redelivery rewrites the same file."""

    name = "file"

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, notice: Notice) -> None:
        target = self.directory / eml_name(notice)
        temporary = target.with_suffix(".tmp")
        try:
            temporary.write_bytes(bytes(build_email(notice, self.sender)))
            os.replace(temporary, target)
        except OSError as exc:
            raise DeliveryError(f"écriture impossible dans {self.directory} : {os_reason(exc)}") from exc

    def close(self) -> None:
        return None
