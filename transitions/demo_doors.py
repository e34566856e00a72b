"""The doors the demo's 2015 applications come by (issue 22): a file the Cerdd records (`fichier`),
the online application (`en_ligne`: `models.drafts`, the functions the portal's routers call) and a
mail to the call's address carrying the filled annex (`courriel`: delivered into the demo's Maildir,
then read by the call's mailbox, `flows.mailbox.read_mailbox`, at the next quarter hour of office
hours, as the deployment `releve-candidatures` would).

Each act is its own transaction, at the script's instant; the real time the portal would use for
its rate limit (`now`) is that instant too, so that two replays write the same rows."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from enum import StrEnum
from pathlib import Path, PurePosixPath

from sqlmodel import col, select

from config.settings import Settings, get_settings
from documents.annex import annex_docx, read_annex
from models import drafts
from models.applications import Receipt
from models.attachments import MEDIA_TYPES, WORD_PROCESSOR
from models.clock import paris, utc
from models.context import load_ctx
from models.db import session_scope
from models.errors import NotFound
from models.links import holder
from models.tables import Application, MailMessage, MailOutcome
from notifications.render import portal_linker, render_notice
from transitions.intake import Submission, submit_form
from transitions.portal.application_form import explain


class Door(StrEnum):
    """How an application reaches the Cerdd."""

    FILE = "fichier"
    ONLINE = "en_ligne"
    MAIL = "courriel"


ATTACHMENTS = ("formulaire", "documents_complementaires")
OFFICE = (time(8, 0), time(17, 45))
"""The mailbox's first and last reading of a working day (`releve-candidatures`, cron
`*/15 8-17 * * 1-5`, Paris time)."""


def next_reading(arrival: datetime) -> datetime:
    """The first reading of the call's mailbox at or after `arrival` (UTC): a quarter hour from
    08:00 to 17:45 Paris time, Monday to Friday (the deployment's cron knows no public holiday)."""
    local = paris(arrival).replace(tzinfo=None)
    minutes = -(-(local.minute * 60 + local.second + local.microsecond / 1e6) // (15 * 60)) * 15
    candidate = local.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)
    if candidate.time() < OFFICE[0]:
        candidate = datetime.combine(candidate.date(), OFFICE[0])
    while candidate.time() > OFFICE[1] or candidate.weekday() >= 5:
        candidate = datetime.combine(candidate.date() + timedelta(days=1), OFFICE[0])
    return utc(candidate)


def _ctx(session):  # noqa: ANN001, ANN202
    return load_ctx(session, renderer=render_notice, linker=portal_linker())


def _contact(received: Submission) -> str:
    return received.form.responsables_operationnels[0].courriel.lower()


# --- fichier ---------------------------------------------------------------------------------------

def record_file(url: str, received: Submission, at: datetime) -> Receipt:
    """The Cerdd records the application file (`transitions submit`); Refused past the deadline."""
    return submit_form(url, received, at, None)


# --- en ligne --------------------------------------------------------------------------------------

def start_online(url: str, received: Submission, at: datetime) -> drafts.Started:
    """« Commencer »: the lead's SIREN and its first operational contact's address; the draft's link
    is mailed to that address (`lien_candidature`)."""
    with session_scope(url) as session:
        return drafts.start(_ctx(session), siren=received.form.collectivite_chef_de_file.siren,
                            email=_contact(received), at=at, now=at)


def deposit_online(url: str, received: Submission, at: datetime) -> tuple[Receipt, bool]:
    """Back by the mailed link: « Enregistrer » the form's answers, the files attached (those of the
    draft that differ removed first), then « Déposer ». Returns the receipt and whether a version
    was recorded. A lead without a draft starts one at this instant."""
    siren, person = received.form.collectivite_chef_de_file.siren, _contact(received)
    by = holder(drafts.applicant_bearer(siren, person))  # who the portal's audit names
    with session_scope(url) as session:
        try:
            drafts.find_draft(_ctx(session), siren)
        except NotFound:
            start_online(url, received, at)
    with session_scope(url) as session:
        ctx = _ctx(session)
        drafts.save(ctx, drafts.find_draft(ctx, siren), received.form.model_dump(mode="json", exclude=set(ATTACHMENTS)),
                    at=at, by=by)
    wanted = {piece.filename: piece for piece in received.pieces}
    with session_scope(url) as session:
        ctx = _ctx(session)
        draft = drafts.find_draft(ctx, siren)
        kept = set()
        for row in drafts.files(ctx, draft):
            piece = wanted.get(row.filename)
            if piece is not None and piece.sha256 == row.sha256 and (row.role == "formulaire") == (
                    piece.role == "formulaire"):
                kept.add(row.filename)
            else:
                drafts.remove_file(ctx, draft, row.id or 0, at=at, by=by)
    described = {PurePosixPath(item.fichier).name: item.description or ""
                 for item in [*received.form.formulaire, *received.form.documents_complementaires]}
    for piece in received.pieces:
        if piece.filename in kept:
            continue
        with session_scope(url) as session:
            ctx = _ctx(session)
            drafts.add_file(ctx, drafts.find_draft(ctx, siren), role="formulaire" if piece.role == "formulaire"
                            else "complementaire", filename=piece.filename, data=piece.content, at=at, by=by,
                            description=described.get(piece.filename, ""))
    with session_scope(url) as session:
        ctx = _ctx(session)
        return drafts.deposit(ctx, drafts.find_draft(ctx, siren), explain, at=at, by=f"portail:{person}")


# --- courriel --------------------------------------------------------------------------------------

def application_mail(url: str, received: Submission, at: datetime, to: str) -> bytes:
    """The mail a lead's first operational contact sends to the call's address `to` at `at`: the annex
    filled with the application's answers (`annex_docx`, named as the form's word-processor file), the
    form's PDF and the complementary documents. Deterministic bytes (Message-ID and MIME boundary
    derived from the lead and the instant)."""
    form = received.form
    with session_scope(url) as session:
        annex = annex_docx(_ctx(session).definition, form.model_dump(mode="json"))
    person, lead = form.responsables_operationnels[0], form.collectivite_chef_de_file
    stamp = paris(at).strftime("%Y%m%dT%H%M%S")
    message = EmailMessage()
    message["From"] = formataddr((person.nom, person.courriel))
    message["To"] = to
    message["Subject"] = f"Candidature de {lead.nom} à l'appel « Transitions économiques des territoires »"
    message["Date"] = format_datetime(paris(at))
    message["Message-ID"] = f"<candidature-{lead.siren}-{stamp}@{person.courriel.rsplit('@', 1)[1]}>"
    others = [p for p in received.pieces if p.role != "formulaire"]
    message.set_content(f"Bonjour,\n\nVeuillez trouver ci-joint la candidature de {lead.nom} : le formulaire de "
                        f"candidature (.docx et PDF) et {len(others)} document(s) complémentaire(s).\n\n"
                        f"Bien cordialement,\n{person.nom}\n{person.qualite or ''}\n")
    for piece in received.pieces:  # the word-processor form replaced by the filled annex
        word = piece.kind in WORD_PROCESSOR
        maintype, subtype = (MEDIA_TYPES["docx"] if word else piece.media_type).split("/", 1)
        message.add_attachment(annex if word else piece.content, maintype=maintype, subtype=subtype,
                               filename=str(Path(piece.filename).with_suffix(".docx")) if word else piece.filename)
    message.set_boundary(f"=_candidature-{lead.siren}-{stamp}")
    return message.as_bytes()


def deliver_mail(maildir: Path, data: bytes, at: datetime) -> None:
    """Put the message into the Maildir's new mail, dated (file time) with its arrival `at`."""
    message = mailbox.MaildirMessage(data)
    message.set_date(at.timestamp())
    mailbox.Maildir(maildir, factory=None, create=True).add(message)


def mailbox_settings(maildir: Path) -> Settings:
    """The settings with the demo's Maildir as the call's mailbox (never an IMAP server of the
    environment)."""
    return get_settings().model_copy(update={"imap_host": None, "maildir": maildir})


OUTCOME_WORDS: dict[str, str] = {MailOutcome.ANSWERED: "réponse à l'expéditeur listant les problèmes",
                 MailOutcome.LATE: "réponse à l'expéditeur : arrivé après la date limite",
                 MailOutcome.DUPLICATE: "doublon d'un courriel déjà traité, ignoré",
                 MailOutcome.REVIEW: "« À revoir » par le Cerdd"}
"""What the console says of a message that became no application."""


@dataclass(frozen=True)
class ReadMail:
    """A message the mailbox processed: who sent it, when it arrived, what it became."""

    sender: str
    received_at: datetime
    outcome: str
    receipt: str | None
    version: int | None


def read_box(url: str, maildir: Path, at: datetime, log: Callable[[str], None] = lambda _: None) -> list[ReadMail]:
    """Read the demo's mailbox at `at` (`read_mailbox`); the messages it processed then."""
    from flows.mailbox import read_mailbox  # imports Prefect's task decorator

    read_mailbox(url, at=at, settings=mailbox_settings(maildir), reader=read_annex, log=log)
    with session_scope(url) as session:
        rows = session.exec(select(MailMessage, Application).join(
            Application, col(MailMessage.application_id) == Application.id, isouter=True)
            .where(MailMessage.processed_at == at).order_by(col(MailMessage.id))).all()
        return [ReadMail(row.sender, row.received_at, row.outcome,
                         application.receipt_number if application and row.outcome == MailOutcome.APPLICATION
                         else None, application.version if application else None) for row, application in rows]
