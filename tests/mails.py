"""Messages for the call's mailbox, built from the real example files (examples/): good applications,
broken ones, duplicates and hostile ones (huge, zip bomb, forged sender, nested, too deep)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import yaml

from tests.conftest import EXAMPLES, at

PIECES = EXAMPLES / "pieces"


def application_yaml(name: str, **changes: object) -> tuple[str, bytes]:
    """An example application file (`name` in examples/) with top-level fields changed."""
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    data.update(changes)
    return name, yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


def pieces_of(name: str) -> list[tuple[str, bytes]]:
    """The files an example application names, by their file names."""
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return [(item["fichier"].rsplit("/", 1)[-1], (EXAMPLES / item["fichier"]).read_bytes())
            for item in [*data.get("formulaire", []), *data.get("documents_complementaires", [])]]


def mail(sender: str | None, subject: str, files: list[tuple[str, bytes]], *, message_id: str | None,
         when: datetime, text: str = "Bonjour,\nveuillez trouver notre candidature.\n") -> bytes:
    message = EmailMessage()
    if sender is not None:
        message["From"] = sender
    message["To"] = "transitions@cerdd.org"
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    if message_id is not None:
        message["Message-ID"] = message_id
    message.set_content(text)
    for filename, data in files:
        maintype, subtype = ("text", "yaml") if filename.endswith(".yaml") else ("application", "octet-stream")
        if maintype == "text":
            message.add_attachment(data.decode(), subtype=subtype, filename=filename)
        else:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def good(name: str, sender: str, mid: str, when: datetime, **changes: object) -> bytes:
    return mail(sender, "Candidature Transitions", [application_yaml(name, **changes), *pieces_of(name)],
                message_id=mid, when=when)


def zip_bomb() -> bytes:
    """A .docx whose document inflates a thousand times (5 MiB of zeros)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (5 * 1024 * 1024))
    return buffer.getvalue()


def nested(depth: int) -> bytes:
    """A message whose multipart parts nest `depth` levels deep."""
    inner = EmailMessage()
    inner.set_content("fond")
    for _ in range(depth):
        outer = EmailMessage()
        outer.make_mixed()
        outer.attach(inner)
        inner = outer
    inner["From"] = "curieux@example.org"
    inner["Subject"] = "Poupées russes"
    inner["Message-ID"] = "<profond@example.org>"
    return inner.as_bytes()


def forwarded() -> bytes:
    """An application forwarded as an attached message (message/rfc822)."""
    outer = EmailMessage()
    outer["From"] = "Claire Dufour <claire.dufour@cu-arras.example.org>"
    outer["Subject"] = "TR: candidature"
    outer["Message-ID"] = "<transfert@cu-arras.example.org>"
    outer.set_content("Je vous transfère notre candidature.")
    inner = EmailMessage()
    inner["From"] = "quelquun@example.org"
    inner["Subject"] = "candidature"
    inner.set_content("pièces")
    outer.add_attachment(inner)
    return outer.as_bytes()


ARRAS, LENS, FLANDRE = "candidature-cu-arras.yaml", "candidature-ca-lens-lievin-v2.yaml", \
    "candidature-cc-flandre-interieure.yaml"
CLAIRE = "Claire Dufour <claire.dufour@cu-arras.example.org>"
READ_AT = at("2015-05-07T14:00")
"""When the twenty messages are read: after the deadline, each judged by its own arrival."""


def twenty() -> list[tuple[bytes, datetime]]:
    """The twenty messages of the test inbox with their arrival times, in delivery order."""
    day = "2015-04-2"
    lens_contact = yaml.safe_load((EXAMPLES / LENS).read_text())["responsables_operationnels"][0]["courriel"]
    flandre_contact = yaml.safe_load((EXAMPLES / FLANDRE).read_text())["responsables_operationnels"][0]["courriel"]
    arras = good(ARRAS, CLAIRE, "<arras-1@cu-arras.example.org>", at(f"{day}0T10:00"))
    pdf = (PIECES / "formulaire-cu-arras.pdf").read_bytes()
    docx = (PIECES / "formulaire-cu-arras.docx").read_bytes()
    return [
        (arras, at(f"{day}0T10:00")),  # 1 an application
        (good(LENS, lens_contact, "<lens-1@example.org>", at(f"{day}0T11:00")), at(f"{day}0T11:00")),  # 2
        (good(FLANDRE, flandre_contact, "<flandre@example.org>", at(f"{day}1T09:00")), at(f"{day}1T09:00")),  # 3
        # 4 the same content under a new Message-ID: a duplicate
        (good(ARRAS, CLAIRE, "<arras-renvoi@cu-arras.example.org>", at(f"{day}1T10:00")), at(f"{day}1T10:00")),
        (arras, at(f"{day}1T10:05")),  # 5 the very same message delivered twice: processed once
        # 6 a new version from another contact on file
        (good(ARRAS, "mehdi.benali@cu-arras.example.org", "<arras-2@cu-arras.example.org>", at(f"{day}2T10:00"),
              partenaires_potentiels="CCI Artois, Chambre de métiers et CD2E, précisés en version 2."),
         at(f"{day}2T10:00")),
        # 7 a forged sender for Arras: « À revoir », nothing overwritten
        (good(ARRAS, "Claire Dufour <claire.dufour@evil.example.org>", "<faux@evil.example.org>",
              at(f"{day}2T11:00"), motivations="Nous retirons tout. " * 20), at(f"{day}2T11:00")),
        # 8 late by its arrival (12:00:00 Paris time)
        (good("candidature-ca-maubeuge-val-de-sambre.yaml", "dgs@maubeuge.example.org", "<tard@example.org>",
              at("2015-05-07T12:00")), at("2015-05-07T12:00:00")),
        # 9 the last second before the deadline
        (good("candidature-cc-pays-de-lumbres.yaml", "contact@lumbres.example.org", "<juste@example.org>",
              at("2015-05-07T11:59:59")), at("2015-05-07T11:59:59")),
        (mail(CLAIRE, "Sans pièce", [], message_id="<vide@example.org>", when=at(f"{day}3T09:00")),
         at(f"{day}3T09:00")),  # 10 no attachment
        (mail("dgs@lens.example.org", "Sans PDF", [application_yaml(LENS)] + [
            p for p in pieces_of(LENS) if not p[0].endswith(".pdf")], message_id="<sanspdf@example.org>",
              when=at(f"{day}3T10:00")), at(f"{day}3T10:00")),  # 11 the PDF missing
        (mail("dgs@example.org", "Champs invalides", [application_yaml(ARRAS, themes=["licornes"], motivations="")]
              + pieces_of(ARRAS), message_id="<invalide@example.org>", when=at(f"{day}3T11:00")),
         at(f"{day}3T11:00")),  # 12 invalid fields
        (good("candidature-commune-bethune.yaml", "mairie@bethune.example.org", "<commune@example.org>",
              at(f"{day}3T12:00")), at(f"{day}3T12:00")),  # 13 a commune, not an EPCI
        (mail("dgs@example.org", "Bombe", [application_yaml(ARRAS, formulaire=[
            {"fichier": "bombe.docx"}, {"fichier": "formulaire-cu-arras.pdf"}]), ("bombe.docx", zip_bomb()),
            ("formulaire-cu-arras.pdf", pdf)], message_id="<bombe@example.org>", when=at(f"{day}3T13:00")),
         at(f"{day}3T13:00")),  # 14 a zip bomb
        (forwarded(), at(f"{day}3T14:00")),  # 15 a nested message/rfc822
        (nested(12), at(f"{day}3T15:00")),  # 16 absurd MIME depth
        (mail(CLAIRE, "Trop lourd", [("formulaire-cu-arras.pdf", pdf + b"\0" * 400_000)],
              message_id="<lourd@example.org>", when=at(f"{day}3T16:00")), at(f"{day}3T16:00")),  # 17 huge
        # 18 hostile headers: an encoded name with a bidi override and a control, a path as file name
        (mail("=?utf-8?b?" + __import__("base64").b64encode("Mallory \u202egpj.exe\x1b[31m".encode()).decode()
              + "?= <mallory@example.org>", "Objet =?utf-8?q?pi=C3=A8ge=0D=0A?=",
              [("../../etc/passwd.pdf", b"not a pdf")], message_id="<entetes@example.org>",
              when=at(f"{day}3T17:00")), at(f"{day}3T17:00")),
        (mail(None, "Sans expéditeur", pieces_of(ARRAS), message_id="<anonyme@example.org>",
              when=at(f"{day}4T09:00")), at(f"{day}4T09:00")),  # 19 no From: « À revoir »
        (mail("dgs@example.org", "Annexe Word", [("formulaire-cu-arras.docx", docx), ("formulaire-cu-arras.pdf", pdf)],
              message_id="<annexe@example.org>", when=at(f"{day}4T10:00")), at(f"{day}4T10:00")),  # 20 a Word annex
    ]
