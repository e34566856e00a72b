"""The call's mailbox as the domain sees it (issue 22): each message processed once, into an
application (the same `submit` as file intake), a French reply listing its problems, a refusal
as late, or « À revoir » for a person. The ledger row (`MailMessage`), the application, the audit
entry and the notices are written in the caller's one transaction; the message is moved by the
caller after the commit, and a message found in the ledger is only moved again.

The call (« Comment candidater ? ») asks for the form « en version électronique par courriel »,
« en version .doc et pdf »; the deadline is the message's arrival at the server (IMAP INTERNALDATE),
not the instant it is read."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models.applications import assess, log_refused, submit
from models.attachments import WORD_PROCESSOR, Piece, check_pieces, sniff, zip_problem
from models.clock import format_paris
from models.context import ProgrammeContext
from models.errors import InvalidInput, Refused
from models.forms import ApplicationForm
from models.mailparse import MailFile, ParsedMail
from models.notices import NoticeKind, Recipient
from models.recipients import manager
from models.tables import Application, Contact, MailMessage, MailOutcome, ProgrammeState
from models.userfiles import french_errors, validate_text

AnnexReader = Callable[[str, bytes], dict[str, Any]]
"""Reads a filled annex (`documents.annex.read_annex`), given by the caller: the domain imports
no document library."""

DONE = frozenset({MailOutcome.APPLICATION, MailOutcome.ANSWERED, MailOutcome.LATE, MailOutcome.DUPLICATE})
"""Outcomes whose message goes to the « Traitées » folder; `REVIEW` goes to « À revoir »."""
ACTOR = "boîte de l'appel"
DATA_FILES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Arrival:
    """A message as the mailbox hands it over: what it says (`mail`), when it reached the server
    (`received_at`, UTC: IMAP INTERNALDATE or the Maildir file's delivery time)."""

    mail: ParsedMail
    received_at: datetime


def known(session: Session, programme_id: int, key: str) -> MailMessage | None:
    """The ledger row of the message known by `key` (`ParsedMail.key`), if it was processed."""
    return session.exec(select(MailMessage).where(MailMessage.programme_id == programme_id,
                                                  MailMessage.message_key == key)).first()


def goes_to_review(row: MailMessage) -> bool:
    """Whether the message of this ledger row belongs in « À revoir » (else « Traitées »)."""
    return row.outcome == MailOutcome.REVIEW


def read_submission(files: list[MailFile], read_annex: AnnexReader | None) -> tuple[ApplicationForm, list[Piece]]:
    """The application a message's files make: an application file (YAML or JSON, the format of
    `transitions submit`, its attachments named by file name), or a filled annex (.docx, .odt,
    .doc, read by `read_annex`) with its PDF and any complementary documents. Raises InvalidInput
    listing every problem."""
    if not files:
        raise InvalidInput("Aucune pièce jointe.", ["le courriel n'a aucune pièce jointe : joignez le formulaire de "
                                                    "candidature (.docx, .odt ou .doc) et sa version PDF"])
    data_files = [f for f in files if f.filename.lower().endswith(DATA_FILES)]
    if data_files:
        return _from_data_file(data_files[0], files)
    return _from_annex(files, read_annex)


def _from_data_file(source: MailFile, files: list[MailFile]) -> tuple[ApplicationForm, list[Piece]]:
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("Fichier illisible.", [f"{source.filename} n'est pas un texte en UTF-8"]) from None
    form = validate_text(text, source.filename, ApplicationForm, "de candidature",
                         refusal=f"Candidature {source.filename} refusée")
    by_name = {f.filename: f.data for f in files}
    received = {item.fichier: by_name[PurePosixPath(item.fichier).name]
                for item in [*form.formulaire, *form.documents_complementaires]
                if PurePosixPath(item.fichier).name in by_name}
    return form, check_pieces(form, received)


def _from_annex(files: list[MailFile], read_annex: AnnexReader | None) -> tuple[ApplicationForm, list[Piece]]:
    problems: list[str] = []
    kinds = {f.filename: sniff(f.data) for f in files}
    annexes = [f for f in files if kinds[f.filename] in WORD_PROCESSOR]
    pdfs = [f for f in files if kinds[f.filename] == "pdf"]
    if not annexes:
        problems.append("le formulaire de candidature en version traitement de texte (.docx, .odt ou .doc) "
                        "manque parmi les pièces jointes")
    elif len(annexes) > 1:
        problems.append(f"{len(annexes)} formulaires en traitement de texte sont joints "
                        f"({', '.join(f.filename for f in annexes)}) : joignez-en un seul")
    if not pdfs:
        problems.append("joignez le formulaire en version PDF (l'appel demande .doc et .pdf)")
    payload: dict[str, Any] | None = None
    if len(annexes) == 1:
        annex = annexes[0]
        bomb = zip_problem(annex.data) if kinds[annex.filename] in ("docx", "odt") else None
        if bomb:
            problems.append(f"{annex.filename} est refusé : {bomb}")
        elif read_annex is None:
            problems.append(f"{annex.filename} : la lecture du formulaire en traitement de texte n'est pas "
                            "disponible ; joignez un fichier de candidature ou déposez-la en ligne")
        else:
            try:
                payload = dict(read_annex(annex.filename, annex.data))
            except InvalidInput as exc:
                problems.extend([exc.message, *exc.details])
            except NotImplementedError:
                problems.append(f"{annex.filename} : la lecture du formulaire en traitement de texte n'est pas "
                                "encore disponible ; joignez un fichier de candidature ou déposez-la en ligne")
    if payload is None or problems:
        raise InvalidInput("Courriel refusé.", problems)
    form_pdf = next((p for p in pdfs if PurePosixPath(p.filename).stem == PurePosixPath(annexes[0].filename).stem),
                    pdfs[0])
    chosen = {annexes[0].filename, form_pdf.filename}
    payload["formulaire"] = [{"fichier": annexes[0].filename, "description": "Formulaire (traitement de texte)"},
                             {"fichier": form_pdf.filename, "description": "Formulaire (PDF)"}]
    payload["documents_complementaires"] = [{"fichier": f.filename, "description": "Document complémentaire"}
                                            for f in files if f.filename not in chosen]
    try:
        form = ApplicationForm.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput("Formulaire refusé.", french_errors(exc)) from None
    return form, check_pieces(form, {f.filename: f.data for f in files})


def receive(ctx: ProgrammeContext, arrival: Arrival, *, at: datetime,
            read_annex: AnnexReader | None = None) -> tuple[MailMessage, bool]:
    """Process one message read at `at` (UTC), unless the ledger knows it already: returns its ledger
    row and whether it was processed now (False: known, nothing written). Writes, in the caller's
    transaction, the ledger row and what the message causes: an application or a new version (`submit`,
    acknowledged to the application's contacts), a reply to the sender (`reponse_courriel`: its
    problems, or the deadline passed, audited as `candidature.refusee`), a duplicate noted in the audit
    log, « À revoir » without any notice for an automatic message (RFC 3834: a vacation reply, a bounce,
    our own notices coming back: answering would loop), or « À revoir » with the Cerdd's manager told
    (`courriel_a_revoir`): no address to answer, or a
    sender who is not one of the contacts on file of the lead's existing application (a forged From:
    overwrites nothing)."""
    mail, received_at = arrival.mail, arrival.received_at
    row = known(ctx.session, ctx.programme_id, mail.key)
    if row is not None:
        return row, False
    row = MailMessage(programme_id=ctx.programme_id, message_key=mail.key, content_sha256=mail.content_sha256,
                      raw_sha256=mail.raw_sha256, sender=mail.sender or "", subject=mail.subject, size=mail.size,
                      received_at=received_at, processed_at=at, outcome=MailOutcome.ANSWERED)
    summary = _decide(ctx, arrival, row, at, read_annex)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit(at, mail.sender or ACTOR, "courriel.traite", "mailmessage", row.id, summary, resultat=row.outcome,
              message=mail.key[:200], problemes=row.problems)
    return row, True


def _decide(ctx: ProgrammeContext, arrival: Arrival, row: MailMessage, at: datetime,
            read_annex: AnnexReader | None) -> str:
    """Fill `row` (its outcome, problems, application) and queue what the message causes; returns
    the audit entry's summary."""
    mail, received_at = arrival.mail, arrival.received_at
    shown = f"Courriel « {mail.subject or '(sans objet)'} » de {mail.sender or 'expéditeur inconnu'}"
    first = ctx.session.exec(select(MailMessage).where(
        MailMessage.programme_id == ctx.programme_id, MailMessage.content_sha256 == mail.content_sha256,
        col(MailMessage.outcome) != MailOutcome.REVIEW)).first()
    if first is not None:
        row.outcome = MailOutcome.DUPLICATE
        return f"{shown} : même contenu qu'un courriel déjà traité le {format_paris(first.processed_at)}, ignoré."
    if mail.automatic is not None:
        # RFC 3834: never answer a machine, nor tell anyone by a notice (a notice may come back as mail).
        return _review(ctx, row, arrival, at, f"{mail.automatic} : pas de réponse", mail.problems, shown, tell=False)
    if mail.sender is None:
        return _review(ctx, row, arrival, at, "aucune adresse d'expéditeur à laquelle répondre", mail.problems, shown)
    deadline = ctx.definition.call.deadline
    if received_at >= deadline:
        row.outcome = MailOutcome.LATE
        reason = (f"Candidature refusée : la date limite était le {format_paris(deadline)} (heure de Paris) ; "
                  f"le courriel est arrivé le {format_paris(received_at)}.")
        ctx.audit(at, mail.sender, "candidature.refusee", "application", None, f"Courriel refusé : {reason}",
                  motif=reason, expediteur=mail.sender)
        _reply(ctx, row, arrival, at, [], late=True)
        return f"{shown} : {reason}"
    try:
        if mail.problems:
            raise InvalidInput("Courriel illisible.", mail.problems)
        form, pieces = read_submission(mail.files, read_annex)
    except InvalidInput as exc:
        _reply(ctx, row, arrival, at, exc.details or [exc.message])
        return f"{shown} : réponse envoyée ({len(row.problems)} problème(s))."
    verdict = assess(form, ctx.register, ctx.definition.call.inadmissible_reason)
    if not verdict.admissible:
        _reply(ctx, row, arrival, at, [verdict.reason or "la collectivité chef de file n'est pas un EPCI"])
        return f"{shown} : réponse envoyée (chef de file non recevable)."
    lead = form.collectivite_chef_de_file
    application = ctx.session.exec(select(Application).where(Application.programme_id == ctx.programme_id,
                                                             Application.lead_siren == lead.siren)).first()
    if application is not None and mail.sender.lower() not in _contacts_on_file(ctx.session, application):
        return _review(ctx, row, arrival, at, f"l'expéditeur n'est pas un contact connu de la candidature "
                       f"{application.receipt_number} ({application.lead_name}) : une nouvelle version n'est "
                       "acceptée que de l'un d'eux", [], shown)
    if ctx.programme.state not in (ProgrammeState.READY, ProgrammeState.CALL_OPEN):
        # Arrived in time, read once the admissibility was decided (the mailbox unreachable at noon, or
        # read after the closing tick): the arrival counts, not the reading, so the sender is not told
        # « appel clos »; a person of the Cerdd decides what to do with it.
        return _review(ctx, row, arrival, at, f"arrivé le {format_paris(received_at)}, avant la date limite, mais "
                       "lu après la clôture de l'appel (recevabilité déjà décidée) : au Cerdd de l'examiner",
                       [], shown)
    savepoint = ctx.session.begin_nested()
    try:
        receipt = submit(ctx, form, pieces, at=received_at, submitted_by=mail.sender)
    except Refused as exc:
        savepoint.rollback()
        log_refused(ctx, form, at=at, submitted_by=mail.sender, reason=exc.message)
        _reply(ctx, row, arrival, at, [exc.message])
        return f"{shown} : {exc.message}"
    savepoint.commit()
    row.outcome = MailOutcome.APPLICATION
    row.application_id = ctx.session.exec(select(Application.id).where(
        Application.receipt_number == receipt.receipt_number)).one()
    return f"{shown} : candidature {receipt.receipt_number}, version {receipt.version}."


def _contacts_on_file(session: Session, application: Application) -> set[str]:
    """The addresses of the lead's people on file (lower case), from its versions so far."""
    return {c.email.lower() for c in session.exec(
        select(Contact).where(Contact.organisation_id == application.organisation_id)).all()}


def _notice_key(row: MailMessage) -> str:
    return f"courriel:{hashlib.sha256(row.message_key.encode('utf-8', 'replace')).hexdigest()[:32]}"


def _reply(ctx: ProgrammeContext, row: MailMessage, arrival: Arrival, at: datetime, problems: list[str], *,
           late: bool = False) -> None:
    row.outcome = MailOutcome.LATE if late else MailOutcome.ANSWERED
    row.problems = problems
    sender = arrival.mail.sender
    assert sender is not None
    ctx.notify(NoticeKind.MAIL_REPLY, [Recipient(sender, arrival.mail.sender_name or sender)], key=_notice_key(row),
               context={"objet": arrival.mail.subject or "(sans objet)", "recu_le": arrival.received_at,
                        "problemes": problems, "hors_delai": late, "appel": ctx.definition.call}, at=at)


def _review(ctx: ProgrammeContext, row: MailMessage, arrival: Arrival, at: datetime, reason: str,
            problems: list[str], shown: str, *, tell: bool = True) -> str:
    row.outcome = MailOutcome.REVIEW
    row.problems = [reason, *problems]
    if not tell:
        return f"{shown} : à revoir, {reason}."
    ctx.notify(NoticeKind.MAIL_REVIEW, manager(ctx), key=_notice_key(row),
               context={"objet": arrival.mail.subject, "expediteur": arrival.mail.sender or "",
                        "recu_le": arrival.received_at, "motif": reason, "problemes": problems}, at=at)
    return f"{shown} : à revoir, {reason}."
