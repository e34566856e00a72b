"""Applications: submission before the deadline, versions, admissibility and partnership profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from models.attachments import Piece
from models.clock import format_paris
from models.context import ProgrammeContext, ensure_organisation
from models.db import lock_row
from models.errors import ALLOWED, InvalidInput, Refused, Verdict
from models.forms import ApplicationForm, LeadKind, PartnerKind, form_of, length_warnings
from models.notices import NoticeKind
from models.recipients import applicants, manager
from models.register import Register
from models.tables import (
    Application,
    ApplicationFile,
    ApplicationStatus,
    ApplicationVersion,
    Contact,
    OrgKind,
    Programme,
    ProgrammeState,
    label,
)
from models.text import multi_line


@dataclass(frozen=True)
class Receipt:
    receipt_number: str
    version: int
    lead_name: str
    warnings: list[str]


@dataclass
class Admissibility:
    admissible: bool
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)


def lead_kind(form: ApplicationForm, register: Register) -> OrgKind:
    """What the lead really is, by its SIREN in the register, whatever the form declares."""
    siren = form.collectivite_chef_de_file.siren
    if register.epci(siren):
        return OrgKind.EPCI
    if register.commune(siren) or form.collectivite_chef_de_file.type == LeadKind.COMMUNE:
        return OrgKind.COMMUNE
    if form.collectivite_chef_de_file.type == LeadKind.BUSINESS_NETWORK:
        return OrgKind.BUSINESS_NETWORK
    return OrgKind.OTHER


def assess(form: ApplicationForm, register: Register, reason: str) -> Admissibility:
    """The call's admissibility rule: an EPCI of the register leads; the rest are warnings."""
    lead = form.collectivite_chef_de_file
    epci = register.epci(lead.siren)
    if epci is None:
        commune = register.commune(lead.siren)
        if commune is not None:
            why = (f"la collectivité chef de file est une commune ({commune[0].name}, membre de "
                   f"{commune[1].name}), pas un EPCI")
        elif lead.type == LeadKind.BUSINESS_NETWORK:
            why = "la candidature est portée par un réseau d'entreprises seul, sans EPCI"
        else:
            why = f"le SIREN {lead.siren} n'est celui d'aucun EPCI du Nord ou du Pas-de-Calais au registre 2015"
        return Admissibility(False, f"{reason} Motif : {why}.")
    warnings = []
    if _norm(epci.name) != _norm(lead.nom):
        warnings.append(
            f"Le nom déclaré « {lead.nom} » diffère de celui du registre « {epci.name} » (SIREN {epci.siren})."
        )
    for partner in form.partenaires:
        if partner.type == PartnerKind.COMMUNE and partner.siren and not epci.has_commune(siren=partner.siren):
            warnings.append(f"La commune partenaire « {partner.nom} » n'est pas membre de {epci.name}.")
    return Admissibility(True, None, warnings)


def partnership_profile(form: ApplicationForm) -> dict[str, bool | int]:
    """The multi-partner shape the call values, computed for the jury."""
    kinds = [p.type for p in form.partenaires]
    return {
        "communes": sum(1 for k in kinds if k == PartnerKind.COMMUNE),
        "avec_communes": PartnerKind.COMMUNE in kinds,
        "reseau_entreprises": PartnerKind.BUSINESS_NETWORK in kinds,
        "ingenierie_territoriale": PartnerKind.DEVELOPMENT_AGENCY in kinds,
        "partenaires": len(kinds),
    }


def _norm(name: str) -> str:
    return " ".join(name.lower().replace("'", " ").replace("-", " ").split())


# A submission's queries, built once (see `models.context._PROGRAMMES`).
_APPLICATION_OF_LEAD = select(Application).where(Application.programme_id == bindparam("programme"),
                                                 Application.lead_siren == bindparam("siren"))
_DIRECTORY = select(Contact).where(Contact.organisation_id == bindparam("organisation")).order_by(col(Contact.id))


def submit(ctx: ProgrammeContext, form: ApplicationForm, pieces: list[Piece], *, at: datetime,
           submitted_by: str) -> Receipt:
    """Record a submission (new application or new version) and queue its acknowledgement. Refused
    (French): before the launch, from the deadline on (12:00:00 Paris time is late), once the call is
    closed, older than the current version, or for a lead whose application was withdrawn (final)."""
    call = ctx.definition.call
    if at < call.launch:
        raise Refused(
            f"L'appel à candidature n'est pas encore ouvert : il ouvre le {format_paris(call.launch)}."
        )
    if at >= call.deadline:
        raise Refused(
            f"Candidature refusée : la date limite était le {format_paris(call.deadline)} "
            f"(heure de Paris) ; elle a été reçue le {format_paris(at)}."
        )
    if ctx.programme.state not in (ProgrammeState.READY, ProgrammeState.CALL_OPEN):
        raise Refused("L'appel est clos : la recevabilité des candidatures a déjà été décidée.")
    session = ctx.session
    # The programme's lock: two submissions at once take receipt numbers (and versions) in turn.
    lock_row(session, Programme.id, ctx.programme_id)
    lead = form.collectivite_chef_de_file
    kind = lead_kind(form, ctx.register)
    warnings = form.merged + length_warnings(form) + assess(form, ctx.register, call.inadmissible_reason).warnings
    # Everything is read before anything changes, then written in few round trips (a flush is a
    # unit-of-work pass): the application, its contacts, the version and the audit entry in one
    # flush (a new application is flushed first, for its id), the files in one INSERT, the
    # notices in another.
    application = session.exec(_APPLICATION_OF_LEAD,
                               params={"programme": ctx.programme_id, "siren": lead.siren}).first()
    # The lead's organisation (by its SIREN): a known application's since its first version.
    organisation_id = (application.organisation_id if application is not None
                       else ensure_organisation(session, kind, lead.nom, lead.siren).id or 0)
    contacts = _directory(session, organisation_id)
    if application is None:
        count = session.exec(
            select(func.count(col(Application.id))).where(Application.programme_id == ctx.programme_id)
        ).one()
        application = Application(
            programme_id=ctx.programme_id,
            receipt_number=f"{ctx.definition.slug.upper()}-{count + 1:04d}",
            organisation_id=organisation_id,
            lead_name=lead.nom,
            lead_siren=lead.siren,
            lead_kind=kind,
            first_submitted_at=at,
            last_submitted_at=at,
        )
    elif application.status == ApplicationStatus.WITHDRAWN:  # final: no door brings it back to the jury
        raise Refused(f"La candidature {application.receipt_number} a été retirée le "
                      f"{format_paris(application.withdrawn_at or at)} : elle ne peut plus recevoir de nouvelle "
                      "version. Écrivez au Cerdd.")
    elif at < application.last_submitted_at:
        raise Refused(f"Une version plus récente de la candidature {application.receipt_number} a été déposée "
                      f"le {format_paris(application.last_submitted_at)} : celle-ci ne peut pas la remplacer.")
    else:
        application.version += 1
        application.last_submitted_at = at
        application.lead_name = lead.nom
    _record_contacts(session, organisation_id, form, contacts)
    application.warnings = warnings
    application.partnership = partnership_profile(form)
    session.add(application)
    if application.id is None:
        session.flush()
    version = ApplicationVersion(
        application_id=application.id or 0,
        version=application.version,
        submitted_at=at,
        submitted_by=submitted_by,
        payload=form.model_dump(mode="json"),
        warnings=warnings,
    )
    session.add(version)
    ctx.audit(at, submitted_by, "candidature.deposee", "application", application.id,
              f"Candidature {application.receipt_number} de {lead.nom}, version {application.version}.",
              version=application.version, avertissements=warnings,
              pieces={p.filename: p.sha256 for p in pieces})
    session.flush()
    if pieces:  # one INSERT for them all, no row objects: nothing reads them back in this transaction
        session.connection().execute(ApplicationFile.__table__.insert(), [  # type: ignore[attr-defined]
            {"version_id": version.id, "role": piece.role, "filename": piece.filename,
             "media_type": piece.media_type, "size": piece.size, "sha256": piece.sha256, "content": piece.content}
            for piece in pieces])
    ctx.notify(NoticeKind.RECEIPT,
               recipients=applicants(form), key=f"{application.receipt_number}:v{application.version}",
               context={"candidature": application, "formulaire": form, "avertissements": warnings,
                        "pieces": [f"{p.describe()}, SHA-256 {p.sha256}" for p in pieces], "recu_le": at,
                        "jury": ctx.definition.jury},
               at=at,
               )
    return Receipt(application.receipt_number, application.version, lead.nom, warnings)


def _directory(session: Session, organisation_id: int) -> dict[str, Contact]:
    """The organisation's directory of people by e-mail address (one query, not one per person)."""
    known: dict[str, Contact] = {}
    for row in session.exec(_DIRECTORY, params={"organisation": organisation_id}).all():
        known.setdefault(row.email, row)
    return known


def _record_contacts(session: Session, organisation_id: int, form: ApplicationForm,
                     known: dict[str, Contact]) -> None:
    """Keep the organisation's directory of people (`known`, see `_directory`) up to date with
    the latest form; the changes are flushed with the submission's next flush."""
    people = [*form.responsables_operationnels, *form.referents_politiques, *form.referents_techniques]
    for person in people:
        contact = known.get(person.courriel)
        if contact is None:
            contact = known[person.courriel] = Contact(organisation_id=organisation_id, email=person.courriel,
                                                       name=person.nom)
        latest = (person.nom, person.qualite, person.telephone or "")
        if contact.id is None or (contact.name, contact.role, contact.phone) != latest:
            contact.name, contact.role, contact.phone = latest  # an unchanged contact stays out of the flush
            session.add(contact)


@dataclass(frozen=True)
class VersionSummary:
    version: int
    submitted_at: datetime
    submitted_by: str
    warnings: list[str]
    files: list[str]


def history(session: Session, application: Application) -> list[VersionSummary]:
    """Every version of an application: who sent what, and when."""
    versions = session.exec(select(ApplicationVersion).where(ApplicationVersion.application_id == application.id)
                            .order_by(col(ApplicationVersion.version))).all()
    files = session.exec(select(ApplicationFile).where(
        col(ApplicationFile.version_id).in_([v.id for v in versions]))).all()
    return [VersionSummary(v.version, v.submitted_at, v.submitted_by, v.warnings,
                           [f"{f.filename} ({f.size} octets, sha256 {f.sha256[:12]}…)"
                            for f in files if f.version_id == v.id])
            for v in versions]


def log_refused(ctx: ProgrammeContext, form: ApplicationForm, *, at: datetime, submitted_by: str, reason: str) -> None:
    """Keep a trace of a submission refused at the door (late or early): nothing else is stored."""
    lead = form.collectivite_chef_de_file
    ctx.audit(at, submitted_by, "candidature.refusee", "application", None,
              f"Dépôt refusé pour {lead.nom} : {reason}", lead=lead.nom, siren=lead.siren, motif=reason)


def decide_admissibility(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Decide the admissibility of every received application; returns how many were decided."""
    session = ctx.session
    applications = session.exec(
        select(Application)
        .where(Application.programme_id == ctx.programme_id, Application.status == ApplicationStatus.RECEIVED)
        .order_by(col(Application.id))
    ).all()
    for application in applications:
        form = form_of(session, application)
        decision = assess(form, ctx.register, ctx.definition.call.inadmissible_reason)
        application.status = ApplicationStatus.ADMISSIBLE if decision.admissible else ApplicationStatus.INADMISSIBLE
        application.decided_at = as_of
        application.decision_reason = decision.reason
        session.add(application)
        kind = NoticeKind.ADMISSIBLE if decision.admissible else NoticeKind.INADMISSIBLE
        ctx.notify(kind,
                   recipients=applicants(form), key=application.receipt_number,
                   context={"candidature": application, "jury": ctx.definition.jury}, at=as_of)
        ctx.audit(as_of, "système", f"candidature.{application.status}", "application", application.id,
                  f"Candidature {application.receipt_number} ({application.lead_name}) : "
                  f"{'recevable' if decision.admissible else 'non recevable'}.",
                  motif=decision.reason)
    return len(applications)


WITHDRAWABLE = (ApplicationStatus.RECEIVED, ApplicationStatus.ADMISSIBLE)


def may_withdraw(ctx: ProgrammeContext, application: Application, at: datetime) -> Verdict:
    """Whether the lead may still withdraw its application at `at`: received or admissible, before
    the jury meets (at the meeting, the jury has seen it: too late)."""
    meeting = ctx.definition.jury.meeting
    if application.status == ApplicationStatus.WITHDRAWN:
        return Verdict(f"La candidature {application.receipt_number} est déjà retirée.")
    if at >= meeting:
        return Verdict(f"La candidature ne peut plus être retirée : le jury s'est réuni le {format_paris(meeting)}. "
                       "Écrivez au Cerdd.")
    if application.status not in WITHDRAWABLE:
        return Verdict(f"La candidature {application.receipt_number} ne peut plus être retirée : elle est "
                       f"« {label(application.status)} ».")
    return ALLOWED


def withdraw_application(ctx: ProgrammeContext, application: Application, *, reason: str, at: datetime,
                         by: str) -> None:
    """The lead withdraws its application before the jury meets (`may_withdraw`): status
    « retirée » (final; neither admissibility, the jurors' sheets nor the ranking count it any
    more), audited, the Cerdd's manager told (`candidature_retiree`)."""
    lock_row(ctx.session, Programme.id, ctx.programme_id)
    ctx.session.refresh(application)
    may_withdraw(ctx, application, at).enforce()
    try:
        reason = multi_line(reason).strip()[:2000] if reason else ""
    except ValueError as exc:
        raise InvalidInput(f"Motif du retrait : {exc}. Rien n'a été enregistré.") from None
    before = application.status
    application.status = ApplicationStatus.WITHDRAWN
    application.withdrawn_at = at
    application.withdrawal_reason = reason or None
    ctx.session.add(application)
    ctx.audit(at, by, "candidature.retiree", "application", application.id,
              f"Candidature {application.receipt_number} ({application.lead_name}) retirée par le territoire.",
              motif=reason, statut_precedent=before)
    ctx.notify(NoticeKind.APPLICATION_WITHDRAWN, manager(ctx), key=application.receipt_number,
               context={"candidature": application, "motif": reason, "par": by}, at=at)
