"""The programme's persistent state: one SQLModel table per domain entity.

Status columns hold the French words users read (stable identifiers, shown as they are);
timestamps are UTC and timezone-aware (see `UTCDateTime`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db import UTCDateTime


def instant(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware UTC timestamp column."""
    return Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index)
    )


def json_column(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class ProgrammeState(StrEnum):
    READY = "pret"
    CALL_OPEN = "appel_ouvert"
    CALL_CLOSED = "appel_clos"
    PILOTS_SELECTED = "pilotes_selectionnes"
    FINISHED = "termine"


class ProgrammeMode(StrEnum):
    """A live programme acts at the real time (scheduled runs); a replay or simulation only when
    someone drives it with explicit instants."""

    LIVE = "direct"
    REPLAY = "rejeu"


class OrgKind(StrEnum):
    EPCI = "epci"
    COMMUNE = "commune"
    BUSINESS_NETWORK = "reseau_entreprises"
    ORGANISER = "cerdd"
    CONSULTANCY = "prestataire"
    OTHER = "autre"


class ApplicationStatus(StrEnum):
    RECEIVED = "recue"
    ADMISSIBLE = "recevable"
    INADMISSIBLE = "non_recevable"
    SELECTED = "retenue"
    NOT_SELECTED = "non_retenue"


class PilotStatus(StrEnum):
    CHARTER_PENDING = "charte_en_attente"
    ACTIVE = "en_cours"
    FINISHED = "termine"
    WITHDRAWN = "retire"


class SessionStatus(StrEnum):
    PLANNED = "prevue"
    CANCELLED = "annulee"


class CharterParty(StrEnum):
    TERRITORY = "territoire"
    ORGANISER = "cerdd"
    CONSULTANCY = "prestataire"


class DueDateRequestStatus(StrEnum):
    PENDING = "en_attente"
    GRANTED = "accordee"
    REFUSED = "refusee"
    MOOT = "sans_objet"


class NoticeStatus(StrEnum):
    PENDING = "en_attente"
    SENT = "envoye"
    DEAD = "abandonne"
    EXPIRED = "expire"


STATE_LABELS: dict[str, str] = {
    "pret": "prêt, appel pas encore lancé",
    "appel_ouvert": "appel à candidature ouvert",
    "appel_clos": "appel clos, en attente du jury",
    "pilotes_selectionnes": "territoires pilotes sélectionnés, accompagnement",
    "termine": "programme terminé",
}


STATUS_LABELS: dict[str, str] = {
    "recue": "reçue",
    "recevable": "recevable",
    "non_recevable": "non recevable",
    "retenue": "retenue",
    "non_retenue": "non retenue",
    "charte_en_attente": "charte en attente",
    "en_cours": "en cours",
    "termine": "terminé",
    "retire": "retiré du programme",
    "prevue": "prévue",
    "annulee": "annulée",
    "epci": "EPCI",
    "commune": "commune",
    "reseau_entreprises": "réseau d'entreprises",
    "cerdd": "Cerdd",
    "prestataire": "prestataire",
    "autre": "autre",
    "territoire": "territoire",
    "agence_developpement": "agence de développement",
    "chambre_consulaire": "chambre consulaire",
    "acteur_social": "acteur social",
    "entreprise": "entreprise",
    "en_attente": "en attente",
    "envoye": "envoyé",
    "abandonne": "abandonné",
    "expire": "expiré",
    "accordee": "accordée",
    "refusee": "refusée",
    "sans_objet": "sans objet : livrable remis",
}


def label(status: str) -> str:
    """The word users read for a stored status."""
    return STATUS_LABELS.get(status, status)


class RegisterSnapshot(SQLModel, table=True):
    """The register of EPCI a programme was installed with (CSV text), stored by its SHA-256 so
    that nothing at run time reads a file path recorded in the database."""

    sha256: str = Field(primary_key=True, max_length=64)
    name: str
    content: str = Field(sa_column=Column(Text, nullable=False))


class Programme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    title: str
    definition: dict[str, Any] = json_column(dict)
    source: str = Field(default="", description="File name the programme was installed from (information only).")
    templates: dict[str, str] = json_column(dict)
    register_sha256: str | None = Field(default=None, foreign_key="registersnapshot.sha256")
    state: str = ProgrammeState.READY
    mode: str = Field(default=ProgrammeMode.LIVE, description="direct (real time) or rejeu (replay/simulation).")
    last_tick_at: datetime | None = instant(nullable=True)
    audit_seen: int | None = Field(default=None, description=(
        "The newest audit entry when the last tick began: a newer one means facts changed since, "
        "so the next tick runs every stage (see models.schedule.due_stages)."))
    next_due_at: datetime | None = instant(nullable=True)
    """The first of the programme's `PlannedEvent` rows, as the last re-planning tick wrote them
    (None: nothing planned): a copy for whoever reads the programme row; the tick reads the rows."""
    loaded_at: datetime = instant()
    launched_at: datetime | None = instant(nullable=True)
    call_closed_at: datetime | None = instant(nullable=True)
    selected_at: datetime | None = instant(nullable=True)
    finished_at: datetime | None = instant(nullable=True)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    name: str
    siren: str | None = Field(default=None, unique=True, index=True)


class Contact(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str
    role: str = ""
    email: str
    phone: str = ""


class Application(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("programme_id", "lead_siren"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    receipt_number: str = Field(unique=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    lead_name: str
    lead_siren: str
    lead_kind: str
    status: str = ApplicationStatus.RECEIVED
    version: int = 1
    first_submitted_at: datetime = instant()
    last_submitted_at: datetime = instant()
    decided_at: datetime | None = instant(nullable=True)
    decision_reason: str | None = Field(default=None, sa_column=Column(Text))
    warnings: list[str] = json_column(list)
    partnership: dict[str, Any] = json_column(dict)


class ApplicationVersion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("application_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    version: int
    submitted_at: datetime = instant()
    submitted_by: str
    payload: dict[str, Any] = json_column(dict)
    warnings: list[str] = json_column(list)


class ApplicationFile(SQLModel, table=True):
    """A file received with one version of an application; its bytes live in the database."""

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="applicationversion.id", index=True)
    role: str
    filename: str
    media_type: str
    size: int
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Intent(SQLModel, table=True):
    """An EPCI that said it would apply: it gets the reminders before the deadline until it submits."""

    __table_args__ = (UniqueConstraint("programme_id", "siren"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    siren: str
    name: str
    contact_name: str
    contact_email: str
    declared_at: datetime = instant()


class JuryScore(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("application_id", "juror", "criterion"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    juror: str
    criterion: str
    score: int
    comment: str = ""
    recorded_at: datetime = instant()


class Pilot(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    name: str
    rank: int
    status: str = PilotStatus.CHARTER_PENDING
    selected_at: datetime = instant()
    kickoff_at: datetime | None = instant(nullable=True)
    ends_at: datetime | None = instant(nullable=True)
    finished_at: datetime | None = instant(nullable=True)
    sign_by: datetime | None = instant(nullable=True)
    withdrawn_at: datetime | None = instant(nullable=True)
    withdraw_reason: str | None = Field(default=None, sa_column=Column(Text))


class CharterSignature(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("pilot_id", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", index=True)
    party: str
    signatory: str
    role: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    channel: str = Field(default="cli", sa_column=Column(Text, nullable=False, server_default="cli"))
    signed_at: datetime = instant()


class PilotPhase(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("pilot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", index=True)
    key: str
    title: str
    position: int
    starts_at: datetime = instant()
    ends_at: datetime = instant()
    started_at: datetime | None = instant(nullable=True)
    completed_at: datetime | None = instant(nullable=True)


class Milestone(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("pilot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", index=True)
    key: str
    title: str
    due_at: datetime = instant()
    reached_at: datetime | None = instant(nullable=True)
    missed_at: datetime | None = instant(nullable=True)


class TrainingSession(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("pilot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", index=True)
    key: str
    title: str
    location: str
    starts_at: datetime = instant()
    ends_at: datetime = instant()
    audience: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    sequence: int = Field(default=0, description="RFC 5545 SEQUENCE: raised by each reschedule or cancellation.")
    status: str = Field(default=SessionStatus.PLANNED)
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text))
    invited_at: datetime | None = instant(nullable=True)


class Attendance(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("session_id", "person"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trainingsession.id", index=True)
    person: str
    organisation: str
    present: bool
    recorded_at: datetime = instant()


class Deliverable(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("pilot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", index=True)
    key: str
    title: str
    due_at: datetime = instant()
    delivered_at: datetime | None = instant(nullable=True)
    accepted_at: datetime | None = instant(nullable=True)
    returned_at: datetime | None = instant(nullable=True)
    review_comment: str | None = Field(default=None, sa_column=Column(Text))
    revision: int = Field(default=0, description="Raised when the due date changes or the work is returned.")


class Notice(SQLModel, table=True):
    """The outbox: a notice is written with the change that causes it, then delivered."""

    __table_args__ = (Index("ix_notice_status_deliver_after", "status", "deliver_after"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True)
    programme_id: int | None = Field(default=None, foreign_key="programme.id", index=True)
    kind: str = Field(index=True)
    recipient_email: str
    recipient_name: str
    subject: str
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    core_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""),
                           description="The text without greeting and signature, as a digest lists it.")
    created_at: datetime = instant()
    deliver_after: datetime = instant(index=True)
    planned_at: datetime | None = instant(nullable=True)
    """When it was first due to leave (its working-day sending time); retries move deliver_after, not this."""
    expires_at: datetime | None = instant(nullable=True)
    """After this instant the notice no longer makes sense (the session started…): recorded as expired."""
    status: str = Field(default=NoticeStatus.PENDING, index=True)
    attempts: int = 0
    claimed_until: datetime | None = instant(nullable=True)
    sent_at: datetime | None = instant(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    message_id: str
    digest: bool = Field(default=False, description="May be grouped with others into one daily message.")
    digest_id: str | None = Field(default=None, description="Message-ID of the digest that carries it, "
                                  "recorded when claimed so that a redelivery regroups the same notices.")
    calendar: str | None = Field(default=None, sa_column=Column(Text),
                                 description="iCalendar text (RFC 5546) sent as a text/calendar part.")
    link: str | None = Field(default=None, sa_column=Column(Text),
                             description="The recipient's personal link to the portal the notice carries "
                                         "(its footer): a digest lists it beside the notice's core text.")


class PlannedEvent(SQLModel, table=True):
    """An instant at which a stage of a programme has work, as the stage's `planned` function gave
    it at the programme's last re-planning tick (`models.schedule.record_tick`, which rewrites a
    programme's rows from every stage's `planned`; nothing else plans). Only instants after that
    tick are kept, one row per (programme, instant, stage): the tick, `next_due` and the agenda
    read these rows through the primary key's index (programme, instant) instead of planning.
    Valid while no fact is newer than `Programme.audit_seen`."""

    __tablename__ = "planned_event"

    programme_id: int = Field(foreign_key="programme.id", primary_key=True)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    stage: str = Field(primary_key=True, description="The stage's name (a `models.stages.StageName` value).")


class AuditEntry(SQLModel, table=True):
    """Every state change: when (programme instant), who, what."""

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int | None = Field(default=None, foreign_key="programme.id", index=True)
    at: datetime = instant(index=True)
    recorded_at: datetime = instant()
    actor: str
    action: str = Field(index=True)
    entity: str
    entity_id: int | None = None
    summary: str = Field(sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = json_column(dict)


class PortalGrant(SQLModel, table=True):
    """Who may hold a personal link to the portal, and the link's current version: issuing a new
    link raises the version, so every older link is revoked (see `models.links`)."""

    __table_args__ = (UniqueConstraint("programme_id", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    subject: str = Field(description="territoire:SIREN, cerdd:SIREN, prestataire:SIREN, prestataire:* or jure:EMAIL.")
    version: int = 1
    issued_at: datetime = instant()


class PortalFormUse(SQLModel, table=True):
    """A portal form's one-time token (nonce), stored when the form is accepted: a replay is refused."""

    nonce: str = Field(primary_key=True, max_length=64)
    subject: str
    used_at: datetime = instant()


class SessionAnswer(SQLModel, table=True):
    """A pilot territory's answer to a session invitation: attending or not, and who will come."""

    __table_args__ = (UniqueConstraint("session_id", "respondent"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trainingsession.id", index=True)
    respondent: str
    attending: bool
    people: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    answered_at: datetime = instant()


class ConflictOfInterest(SQLModel, table=True):
    """A juror's declared conflict of interest on an application: their scores on it do not count."""

    __table_args__ = (UniqueConstraint("application_id", "juror"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    juror: str
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    declared_at: datetime = instant()


class JuryNotApplicable(SQLModel, table=True):
    """A juror's explicit « non applicable » on one criterion of one application: the criterion
    carries no score and no weight for that juror, and is not missing (a criterion left untouched is)."""

    __table_args__ = (UniqueConstraint("application_id", "juror", "criterion"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    juror: str
    criterion: str
    recorded_at: datetime = instant()


class JurySubmission(SQLModel, table=True):
    """A juror's score sheet submitted as final (before the jury meets)."""

    __table_args__ = (UniqueConstraint("programme_id", "juror"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    juror: str
    submitted_at: datetime = instant()


class DeliverableFile(SQLModel, table=True):
    """The file handed in with a deliverable (one per revision); its bytes live in the database."""

    __table_args__ = (UniqueConstraint("deliverable_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", index=True)
    revision: int
    filename: str
    media_type: str
    size: int
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = instant()


class DueDateRequest(SQLModel, table=True):
    """The consultancy asks the Cerdd for a new due date, with a reason; the Cerdd grants or refuses."""

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", index=True)
    requested_due: datetime = instant()
    reason: str = Field(sa_column=Column(Text, nullable=False))
    requested_at: datetime = instant()
    requested_by: str
    status: str = DueDateRequestStatus.PENDING
    decided_at: datetime | None = instant(nullable=True)
