"""The rows of one unit past retention anonymised (`models.purge`): an application's versions,
files, contacts, intent, drafts, partners' confirmations, mails and jurors' comments; a pilot's
attendance, answers, files and requests; and the people whose data stays (`kept_people`), whom
no other unit's purge scrubs (RGPD art. 5-1-e)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import col, delete, select

from models.context import ProgrammeContext
from models.erasure import ERASED, Needles, anonymise_payload, people_of_payload
from models.retention import DRAFT_ERASED, NOT_RETAINED
from models.tables import (
    Application,
    ApplicationDraft,
    ApplicationFile,
    ApplicationVersion,
    Attendance,
    ConflictOfInterest,
    Contact,
    Deliverable,
    DeliverableFile,
    DraftFile,
    DueDateRequest,
    Intent,
    JuryScore,
    MailMessage,
    PartnerConfirmation,
    Pilot,
    SessionAnswer,
    TrainingSession,
)


def kept_people(ctx: ProgrammeContext, leaving: set[int]) -> Needles:
    """The people whose data stays (applications other than `leaving` not erased yet, the
    programme file's team and jurors): never scrubbed by another unit's purge."""
    kept = Needles()
    session = ctx.session
    for application in session.exec(select(Application).where(Application.programme_id == ctx.programme_id)):
        if application.id in leaving:
            continue
        for version in _versions(ctx, application):
            people_of_payload(version.payload, kept)
        for contact in session.exec(select(Contact).where(Contact.organisation_id == application.organisation_id)):
            kept.add(contact.name, contact.email, contact.phone)
    _walk_definition(ctx.programme.definition, kept)
    return kept


def _versions(ctx: ProgrammeContext, application: Application) -> list[ApplicationVersion]:
    return list(ctx.session.exec(select(ApplicationVersion).where(ApplicationVersion.application_id == application.id)))


def _walk_definition(value: Any, kept: Needles) -> None:
    if isinstance(value, dict):
        kept.add(value.get("name"), value.get("email"))
        for item in value.values():
            _walk_definition(item, kept)
    elif isinstance(value, list):
        for item in value:
            _walk_definition(item, kept)


def application_needles(ctx: ProgrammeContext, application: Application) -> Needles:
    session, found = ctx.session, Needles()
    for version in _versions(ctx, application):
        people_of_payload(version.payload, found)
        found.add(None, version.submitted_by)
    for contact in session.exec(select(Contact).where(Contact.organisation_id == application.organisation_id)):
        found.add(contact.name, contact.email, contact.phone)
    for intent in session.exec(select(Intent).where(Intent.programme_id == ctx.programme_id,
                                                    Intent.siren == application.lead_siren)):
        found.add(intent.contact_name, intent.contact_email)
    for draft in _drafts(ctx, application.lead_siren):
        people_of_payload(draft.payload, found)
        for holder in draft.holders:
            found.add(None, holder)
    for mail in session.exec(select(MailMessage).where(MailMessage.application_id == application.id)):
        found.add(None, mail.sender)
    return found


def _drafts(ctx: ProgrammeContext, siren: str) -> list[ApplicationDraft]:
    return list(ctx.session.exec(select(ApplicationDraft).where(ApplicationDraft.programme_id == ctx.programme_id,
                                                                ApplicationDraft.lead_siren == siren)))


def erase_draft(ctx: ProgrammeContext, draft: ApplicationDraft, counts: Counter[str]) -> None:
    draft.payload, draft.holders = dict(DRAFT_ERASED), []
    ctx.session.add(draft)
    for file in ctx.session.exec(select(DraftFile).where(DraftFile.draft_id == draft.id)):
        file.content, file.filename, file.description, file.sha256 = b"", f"fichier-efface-{file.id}", "", ""
        ctx.session.add(file)
        counts["fichiers vidés"] += 1
    counts["brouillons effacés"] += 1


def erase_application(ctx: ProgrammeContext, application: Application, needles: Needles,
                       counts: Counter[str]) -> None:
    session = ctx.session
    for version in _versions(ctx, application):
        version.payload = anonymise_payload(version.payload)
        version.submitted_by, version.warnings = ERASED, [needles.scrub(w) for w in version.warnings]
        session.add(version)
        counts["versions de candidature anonymisées"] += 1
        for file in session.exec(select(ApplicationFile).where(ApplicationFile.version_id == version.id)):
            file.content, file.filename, file.sha256 = b"", f"fichier-efface-{file.id}", ""
            session.add(file)
            counts["fichiers vidés"] += 1
    application.warnings = [needles.scrub(w) for w in application.warnings]
    application.withdrawal_reason = application.withdrawal_reason and needles.scrub(application.withdrawal_reason)
    session.add(application)
    others = session.exec(select(Application).where(Application.organisation_id == application.organisation_id,
                                                    Application.id != application.id)).all()
    if all(other.status in NOT_RETAINED for other in others):  # nobody else needs these contacts
        gone = session.exec(delete(Contact).where(col(Contact.organisation_id) == application.organisation_id))
        counts["contacts effacés"] += gone.rowcount or 0
    for intent in session.exec(select(Intent).where(
            Intent.programme_id == ctx.programme_id, Intent.siren == application.lead_siren,
            Intent.contact_email != "")):
        erase_intent(ctx, intent, counts)
    for draft in _drafts(ctx, application.lead_siren):
        erase_draft(ctx, draft, counts)
    for confirmation in session.exec(select(PartnerConfirmation).where(
            PartnerConfirmation.programme_id == ctx.programme_id,
            PartnerConfirmation.lead_siren == application.lead_siren)):
        confirmation.contact_email, confirmation.requested_by, confirmation.excerpt = "", ERASED, ""
        confirmation.line = needles.scrub_value({k: v for k, v in confirmation.line.items() if k != "contact"})
        session.add(confirmation)
        counts["confirmations de partenaires anonymisées"] += 1
    for mail in session.exec(select(MailMessage).where(MailMessage.application_id == application.id)):
        erase_mail(ctx, mail, needles, counts)
    for score in session.exec(select(JuryScore).where(JuryScore.application_id == application.id,
                                                      JuryScore.comment != "")):
        score.comment = ""
        session.add(score)
        counts["commentaires de jurés effacés"] += 1
    for conflict in session.exec(select(ConflictOfInterest).where(ConflictOfInterest.application_id == application.id)):
        conflict.reason = needles.scrub(conflict.reason)
        session.add(conflict)


def erase_intent(ctx: ProgrammeContext, intent: Intent, counts: Counter[str]) -> None:
    intent.contact_name, intent.contact_email = ERASED, ""
    ctx.session.add(intent)
    counts["intentions anonymisées"] += 1


def erase_mail(ctx: ProgrammeContext, mail: MailMessage, needles: Needles, counts: Counter[str]) -> None:
    mail.sender, mail.subject, mail.problems = "", ERASED, [needles.scrub(p) for p in mail.problems]
    ctx.session.add(mail)
    counts["courriels reçus anonymisés"] += 1


def erase_pilot(ctx: ProgrammeContext, pilot: Pilot, needles: Needles, counts: Counter[str]) -> None:
    """A pilot's year past its retention: attendance names, answers, files and comments go; the
    charter's signatures stay (archives)."""
    session = ctx.session
    sessions = [s.id for s in session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id))]
    for row in session.exec(select(Attendance).where(col(Attendance.session_id).in_(sessions))):
        row.person = f"{ERASED} {row.id}"
        session.add(row)
        counts["présences anonymisées"] += 1
    for answer in session.exec(select(SessionAnswer).where(col(SessionAnswer.session_id).in_(sessions))):
        answer.respondent, answer.people = ERASED, ""
        session.add(answer)
    deliverables = [d.id for d in session.exec(select(Deliverable).where(Deliverable.pilot_id == pilot.id))]
    for file in session.exec(select(DeliverableFile).where(col(DeliverableFile.deliverable_id).in_(deliverables))):
        file.content, file.filename, file.sha256 = b"", f"fichier-efface-{file.id}", ""
        session.add(file)
        counts["fichiers vidés"] += 1
    for request in session.exec(select(DueDateRequest).where(col(DueDateRequest.deliverable_id).in_(deliverables))):
        request.reason, request.requested_by = needles.scrub(request.reason), ERASED
        session.add(request)
