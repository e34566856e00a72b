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
    """What stage a programme is at (`Programme.state`, French words in `STATE_LABELS`), moved
    forward only, by the stages and the jury's decision: ready (installed) -> call open (the launch instant,
    `call.launch_call`) -> call closed (the deadline: admissibility decided, jury convened,
    `call.close_call`) -> pilots selected (the jury's choice recorded, `jury.apply_selection`) ->
    finished (every pilot finished or withdrawn, one at least finished, `accompaniment.close`)."""

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
    """What an organisation is (`Organisation.kind`, `Application.lead_kind`): the Cerdd and the
    consultancy, recorded when a programme is installed; an application's lead, recorded when it
    applies, is what its SIREN says in the register (an EPCI, a commune), else what the form declares
    (a business network, another kind): only an EPCI is admissible."""

    EPCI = "epci"
    COMMUNE = "commune"
    BUSINESS_NETWORK = "reseau_entreprises"
    ORGANISER = "cerdd"
    CONSULTANCY = "prestataire"
    OTHER = "autre"


class ApplicationStatus(StrEnum):
    """Where an application stands (`Application.status`): received (each submission until the
    deadline) -> at the deadline admissible or not admissible, with the reason
    (`applications.decide_admissibility`) -> for an admissible one, at the jury's choice, selected
    (it becomes a `Pilot`) or not selected (`jury.apply_selection`). A not-selected application with
    every score, at or above the threshold, becomes selected later if a pilot's withdrawal offers it
    the place (`withdrawal.withdraw`). Not admissible and selected are final."""

    RECEIVED = "recue"
    ADMISSIBLE = "recevable"
    INADMISSIBLE = "non_recevable"
    SELECTED = "retenue"
    NOT_SELECTED = "non_retenue"
    WITHDRAWN = "retiree"
    """Withdrawn by its lead before the jury met (`applications.withdraw_application`): final."""


class PilotStatus(StrEnum):
    """Where a pilot stands (`Pilot.status`): charter pending (chosen, waiting for every party's
    signature by `Pilot.sign_by`) -> active (signed by all and kick-off reached: its year is laid out,
    `kickoff`) -> finished (its `accompaniment.duration` elapsed, `accompaniment.close`). Withdrawn
    (`pilot withdraw`, with a reason) from charter pending or active; finished and withdrawn are final."""

    CHARTER_PENDING = "charte_en_attente"
    ACTIVE = "en_cours"
    FINISHED = "termine"
    WITHDRAWN = "retire"


class SessionStatus(StrEnum):
    """A training session's state (`TrainingSession.status`): planned -> cancelled (by the Cerdd before
    it starts, `training.cancel`, or when its pilot is withdrawn), final. A move keeps it planned and
    raises its `sequence`; « held » is no state: it is read from the attendance recorded."""

    PLANNED = "prevue"
    CANCELLED = "annulee"


class CharterParty(StrEnum):
    """The three parties who sign a pilot's charter (`CharterSignature.party`), also the roles a
    personal link to the portal names (`territoire:SIREN`, `cerdd:SIREN`, `prestataire:SIREN`)."""

    TERRITORY = "territoire"
    ORGANISER = "cerdd"
    CONSULTANCY = "prestataire"


class DueDateRequestStatus(StrEnum):
    """Where a consultancy's request for a new due date stands (`DueDateRequest.status`): pending ->
    granted (the due date moves, `deliverables.postpone`) or refused, by the Cerdd
    (`deliverables.decide_due_date`); pending -> moot when the deliverable is handed in before the
    decision. Granted, refused and moot are final; one request at most is pending per deliverable."""

    PENDING = "en_attente"
    GRANTED = "accordee"
    REFUSED = "refusee"
    MOOT = "sans_objet"


class MailOutcome(StrEnum):
    """What became of a message of the call's mailbox (`MailMessage.outcome`): an application or a
    new version; a reply listing its problems; refused as late; the same content again; or left to
    a person (`REVIEW`: a forged sender, a message too large or without an address to answer)."""

    APPLICATION = "candidature"
    ANSWERED = "reponse"
    LATE = "hors_delai"
    DUPLICATE = "doublon"
    REVIEW = "a_revoir"


class PartnerAnswer(StrEnum):
    """Where a partner's confirmation stands (`PartnerConfirmation.state`): asked by the lead, then
    confirmed or declined by the partner's contact (a later answer replaces the earlier one until
    the jury meets)."""

    ASKED = "demandee"
    CONFIRMED = "confirmee"
    DECLINED = "declinee"


class NoticeStatus(StrEnum):
    """Where a notice of the outbox stands (`Notice.status`): pending (queued, leaves at
    `deliver_after`) -> sent; or dead (given up: refused for good by its channel, or still failing
    `DELIVERY_MAX_AGE` after it was first due, the manager told by `avis_abandonne`); or expired (its
    `expires_at` passed first: the session started…). `outbox retry` puts a dead, expired or pending
    notice back to pending; sent is final."""

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
    "reponse": "réponse", "hors_delai": "hors délai", "a_revoir": "à revoir", "deja_traite": "déjà traité",
    "recue": "reçue",
    "recevable": "recevable",
    "non_recevable": "non recevable",
    "retenue": "retenue",
    "non_retenue": "non retenue",
    "retiree": "retirée par le territoire",
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
    "direction": "direction",
    "charge_de_mission": "chargé·e de mission",
    "lecture": "lecture seule",
    "demandee": "non confirmé",
    "confirmee": "partenaire confirmé",
    "declinee": "a décliné",
}


def label(status: str) -> str:
    """The word users read for a stored status."""
    return STATUS_LABELS.get(status, status)


class RegisterSnapshot(SQLModel, table=True):
    """The register of EPCI a programme was installed with (CSV text), stored by its SHA-256 so
    that nothing at run time reads a file path recorded in the database.
    Written when a programme is installed, never changed."""

    sha256: str = Field(primary_key=True, max_length=64)
    name: str
    content: str = Field(sa_column=Column(Text, nullable=False))


class Programme(SQLModel, table=True):
    """A programme as installed (`context.install_programme`, `transitions init`): its validated
    definition (the programme file, as JSON), its template overrides, its register's SHA-256. Installing
    the same slug again updates it (the dates only while the call is not launched). `state` moves
    through `ProgrammeState` as ticks run the stages; `last_tick_at`, `audit_seen` and `next_due_at`
    are the tick's bookkeeping. Unique: `slug`."""

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
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"},
                         description="The current `ProgrammeVersion` number of its definition.")
    next_due_at: datetime | None = instant(nullable=True)
    """The first of the programme's `PlannedEvent` rows, as the last re-planning tick wrote them
    (None: nothing planned): a copy for whoever reads the programme row; the tick reads the rows."""
    loaded_at: datetime = instant()
    launched_at: datetime | None = instant(nullable=True)
    call_closed_at: datetime | None = instant(nullable=True)
    selected_at: datetime | None = instant(nullable=True)
    finished_at: datetime | None = instant(nullable=True)


class Organisation(SQLModel, table=True):
    """An organisation the programme deals with (`OrgKind`): the Cerdd and the consultancy, recorded
    when a programme is installed; each applicant's lead territory, when it applies. Unique: `siren`
    (when known)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    name: str
    siren: str | None = Field(default=None, unique=True, index=True)


class Contact(SQLModel, table=True):
    """A person to write to at an organisation, from an application's contacts: written at a
    submission, their name, role and phone updated by the next version. Unique: (organisation, email)."""

    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str
    role: str = ""
    email: str
    phone: str = ""


class Application(SQLModel, table=True):
    """One lead territory's application to a programme: written at its first submission (with its
    receipt number), updated by each new version before the deadline (`version`,
    `last_submitted_at`), then decided (`status`, see `ApplicationStatus`; `decided_at`,
    `decision_reason`). Unique: (programme, lead SIREN), `receipt_number`."""

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
    withdrawn_at: datetime | None = instant(nullable=True)
    withdrawal_reason: str | None = Field(default=None, sa_column=Column(Text))


class ApplicationVersion(SQLModel, table=True):
    """Every version of an application as submitted: the form's content (JSON), who sent it, the
    warnings it got; written at each submission, never changed. Unique: (application, version)."""

    __table_args__ = (UniqueConstraint("application_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    version: int
    submitted_at: datetime = instant()
    submitted_by: str
    payload: dict[str, Any] = json_column(dict)
    warnings: list[str] = json_column(list)


class ApplicationFile(SQLModel, table=True):
    """A file received with one version of an application; its bytes live in the database.
    Written with its version, never changed."""

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="applicationversion.id", index=True)
    role: str
    filename: str
    media_type: str
    size: int
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ApplicationDraft(SQLModel, table=True):
    """An application being written online by its lead (one per lead and programme,
    `models.drafts`): what was saved so far (`payload`, in the form's shape, unchecked), who holds
    its link (`holders`, the addresses on file) and the application its deposits became."""

    __table_args__ = (UniqueConstraint("programme_id", "lead_siren"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    lead_siren: str
    lead_name: str
    payload: dict[str, Any] = json_column(dict)
    holders: list[str] = json_column(list)
    created_at: datetime = instant()
    updated_at: datetime = instant()
    requested_at: datetime | None = instant(nullable=True)
    application_id: int | None = Field(default=None, foreign_key="application.id")


class DraftFile(SQLModel, table=True):
    """A file attached to a draft (the form as .docx/.odt/.doc and PDF, or a complementary
    document), checked by the attachments' rules when uploaded; its bytes live in the database."""

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="applicationdraft.id", index=True)
    role: str
    filename: str
    media_type: str
    size: int
    sha256: str
    added_at: datetime = instant()
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    description: str = ""
    """What the file is, as the application names it (the form's `description`, kept from a version
    the draft started from, or typed with the upload)."""


class PartnerConfirmation(SQLModel, table=True):
    """A partner named in an application asked to confirm its participation, by its own link
    (`partenaire:<lead SIREN>:<number>`, held by the contact's address): the partner's line as the
    lead sent it (`line`, the form's `Partner` in JSON) and its `fingerprint` (what must not change
    for the answer to count: `models.partners.fingerprint`), an excerpt of the motivations shown
    to the partner, and the answer. One row per lead and fingerprint: a line changed (name, SIREN,
    type, contact's name or address) is a new request. Written by `models.partners`."""

    __table_args__ = (UniqueConstraint("programme_id", "lead_siren", "number"),
                      UniqueConstraint("programme_id", "lead_siren", "fingerprint"))

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    lead_siren: str
    lead_name: str
    number: int
    fingerprint: str
    partner_name: str
    contact_email: str
    line: dict[str, Any] = json_column(dict)
    excerpt: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = PartnerAnswer.ASKED
    requested_at: datetime = instant()
    requested_by: str
    answered_at: datetime | None = instant(nullable=True)


class Intent(SQLModel, table=True):
    """An EPCI that said it would apply: it gets the reminders before the deadline until it submits.
    Written by `intents.declare` (`transitions announce`). Unique: (programme, SIREN)."""

    __table_args__ = (UniqueConstraint("programme_id", "siren"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    siren: str
    name: str
    contact_name: str
    contact_email: str
    declared_at: datetime = instant()


class JuryScore(SQLModel, table=True):
    """A juror's score on one criterion of one admissible application, with a comment: recorded by
    `jury score` or the juror's page, replaced by a new score, until the juror's sheet is submitted
    or the jury meets. Unique: (application, juror, criterion); indexed by juror (a juror's list)."""

    __table_args__ = (UniqueConstraint("application_id", "juror", "criterion"),
                      Index("ix_juryscore_juror_application", "juror", "application_id"))

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    juror: str
    criterion: str
    score: int
    comment: str = ""
    recorded_at: datetime = instant()


class Pilot(SQLModel, table=True):
    """A pilot territory: an application the jury chose, or that took a withdrawn pilot's place;
    written by the selection with its rank (and a charter deadline, `sign_by`, when it replaces one).
    Its `status` moves through `PilotStatus`: kick-off (`kickoff_at`, `ends_at`), end (`finished_at`)
    or withdrawal (`withdrawn_at`, `withdraw_reason`). Unique: its application."""

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


class CharterText(SQLModel, table=True):
    """The words of a pilot's charter as its parties sign them, frozen at its first signature
    (`models.charter_text.freeze`): the text (UTF-8), its SHA-256 (hex), when it was frozen.
    Unique: its pilot."""

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    frozen_at: datetime = instant()


class CharterSignature(SQLModel, table=True):
    """One party's signature of a pilot's charter (signatory, role, channel `cli`, `portail` or
    `equipe`), recorded once by `sign` or the portal: the SHA-256 of exactly the text it signed
    (`text_sha256`, the frozen `CharterText`'s), the link (subject and version) or account it came by
    (`via`, never a token) and the link's holder (`via_person`), and the id of its audit entry
    (`audit_entry_id`). Unique: (pilot, party)."""

    __table_args__ = (UniqueConstraint("pilot_id", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", index=True)
    party: str
    signatory: str
    role: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    channel: str = Field(default="cli", sa_column=Column(Text, nullable=False, server_default="cli"))
    signed_at: datetime = instant()
    text_sha256: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    via: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    via_person: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    """The address of the link's holder (empty: a link of the party as a whole, or no link)."""
    audit_entry_id: int | None = None


class PilotPhase(SQLModel, table=True):
    """A phase of a pilot's year, laid out at its kick-off from the programme's phases (planned
    `starts_at` and `ends_at`); the phases stage records when it started and completed.
    Unique: (pilot, key)."""

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
    """A milestone of a pilot's year, laid out at its kick-off with its date (`due_at`): reached
    (`reached_at`) when the facts it requires are all recorded, late if after its date; `missed_at`
    when its date passed without them (the manager told once). Unique: (pilot, key)."""

    __table_args__ = (UniqueConstraint("pilot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int = Field(foreign_key="pilot.id", index=True)
    key: str
    title: str
    due_at: datetime = instant()
    reached_at: datetime | None = instant(nullable=True)
    missed_at: datetime | None = instant(nullable=True)


class TrainingSession(SQLModel, table=True):
    """A training session of one pilot, laid out at its kick-off from the programme's sessions (a free
    slot at its place); invited (`invited_at`) and reminded by the sessions stage; moved
    (`training.reschedule`) or cancelled (`training.cancel`) by the Cerdd until it starts, each raising
    `sequence`. Held once attendance is recorded (`Attendance`). Unique: (pilot, key)."""

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
    """Whether one person attended a session, recorded by the Cerdd once it has started
    (`transitions attend`); a correction replaces it. The first record makes the session held.
    Unique: (session, person)."""

    __table_args__ = (UniqueConstraint("session_id", "person"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trainingsession.id", index=True)
    person: str
    organisation: str
    present: bool
    recorded_at: datetime = instant()


class Deliverable(SQLModel, table=True):
    """A deliverable the consultancy owes a pilot, laid out at its kick-off with its due date:
    handed in (`delivered_at`, its file a `DeliverableFile`), then accepted (`accepted_at`) or returned
    for rework (`returned_at`, `review_comment`) by the Cerdd; its due date moves only with a reason
    (postponement, a granted `DueDateRequest`), and `revision` rises each time. Unique: (pilot, key)."""

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
    """The outbox: a notice is written with the change that causes it, then delivered.
    Written by `ProgrammeContext.notify` (`models.outbox.enqueue`) in the transaction of the
    change that causes it, at most once per `dedup_key` (unique); claimed and delivered by
    `models.delivery`, its `status` a `NoticeStatus`."""

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
    link_subject: str | None = Field(default=None, sa_column=Column(Text),
                                     description="The personal link the notice carries (its footer; a digest "
                                                 "lists it beside the notice's core text), never stored itself: its "
                                                 "bearer's subject (`models.link_tokens.LinkRef`); the bodies hold "
                                                 "a placeholder, delivery signs the token again (migration 0022).")
    link_person: str | None = Field(default=None, sa_column=Column(Text))
    link_version: int | None = None
    link_expires: datetime | None = instant(nullable=True)


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
    """Every state change: when (programme instant), who, what.
    Written by `ProgrammeContext.audit` with every act, never changed (but for the erasure of its
    personal part, `models.audit.redact_entries`); `details` keep the values an act replaced
    (`models.history`). Each entry is chained to the previous one of its chain (its programme, 0
    without one) by SHA-256: `models.audit_chain`. Unique: (chain, seq)."""

    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_auditentry_chain_seq"),
                      Index("ix_auditentry_programme_at", "programme_id", "at"))

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
    chain: int = Field(default=0, description="The chain: the programme's id, 0 for entries without one.")
    seq: int = Field(default=0, description="The entry's position in its chain, from 1 (negative, pending, until "
                                            "its transaction commits: `models.audit_hash`).")
    hash_version: int = Field(default=1, description="The version of the canonical serialisation hashed.")
    prev_hash: str = Field(default="", max_length=64, description="The previous entry's `entry_hash` (64 zeros first).")
    entry_hash: str = Field(default="", max_length=64, description="SHA-256 (hex) of the entry's chained fields.")
    personal_parts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"),
        description="Each part of the personal part (`actor`, `summary`, `details.<key>`) → [its salted "
                    "SHA-256, its 16-byte salt (hex), None once the part is erased].")
    personal_sha256: str = Field(
        default="", max_length=64,
        description="SHA-256 (hex) of `personal_parts`' hashes: what the chain covers of the personal part.")
    redacted_at: datetime | None = instant(nullable=True)
    """When the personal part was erased (`models.audit.redact_entries`), None while it is whole."""


class PortalGrant(SQLModel, table=True):
    """Who may hold a personal link to the portal, and the link's current version: issuing a new
    link raises the version, so every older link of that person is revoked (see `models.links`).
    Unique: (programme, subject, person): each contact of a party has their own version."""

    __table_args__ = (UniqueConstraint("programme_id", "subject", "person", name="uq_portalgrant_person"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    subject: str = Field(description="territoire:SIREN, cerdd:SIREN, prestataire:SIREN, prestataire:* or jure:EMAIL.")
    person: str = Field(default="", sa_column_kwargs={"server_default": ""},
                        description="The holder's address, lower case (empty: a link of the party, not a person).")
    version: int = 1
    issued_at: datetime = instant()
    requested_at: datetime | None = instant(nullable=True)
    """The real instant a new link was last asked for from the portal (« recevoir un nouveau lien »)."""


class PortalFormUse(SQLModel, table=True):
    """A portal form's one-time token (nonce), stored when the form is accepted: a replay is refused."""

    nonce: str = Field(primary_key=True, max_length=64)
    subject: str
    used_at: datetime = instant()


class SessionAnswer(SQLModel, table=True):
    """A pilot territory's answer to a session invitation: attending or not, and who will come.
    Written by `training.answer_invitation`; a new answer replaces it. Unique: (session, respondent)."""

    __table_args__ = (UniqueConstraint("session_id", "respondent"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trainingsession.id", index=True)
    respondent: str
    attending: bool
    people: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    answered_at: datetime = instant()


class ConflictOfInterest(SQLModel, table=True):
    """A juror's declared conflict of interest on an application: their scores on it do not count.
    Unique: (application, juror)."""

    __table_args__ = (UniqueConstraint("application_id", "juror"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    juror: str
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    declared_at: datetime = instant()


class JuryNotApplicable(SQLModel, table=True):
    """A juror's explicit « non applicable » on one criterion of one application: the criterion
    carries no score and no weight for that juror, and is not missing (a criterion left untouched is).
    Unique: (application, juror, criterion); indexed by juror (a juror's list)."""

    __table_args__ = (UniqueConstraint("application_id", "juror", "criterion"),
                      Index("ix_jurynotapplicable_juror_application", "juror", "application_id"))

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    juror: str
    criterion: str
    recorded_at: datetime = instant()


class JurySubmission(SQLModel, table=True):
    """A juror's score sheet submitted as final (before the jury meets).
    Written once, by the juror's page (`jury.submit_sheet`). Unique: (programme, juror)."""

    __table_args__ = (UniqueConstraint("programme_id", "juror"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    juror: str
    submitted_at: datetime = instant()


class DeliverableFile(SQLModel, table=True):
    """The file handed in with a deliverable (one per revision); its bytes live in the database.
    Written by a hand-in, never changed. Unique: (deliverable, revision)."""

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
    """The consultancy asks the Cerdd for a new due date, with a reason; the Cerdd grants or refuses.
    Its `status` a `DueDateRequestStatus`, decided once."""

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", index=True)
    requested_due: datetime = instant()
    reason: str = Field(sa_column=Column(Text, nullable=False))
    requested_at: datetime = instant()
    requested_by: str
    status: str = DueDateRequestStatus.PENDING
    decided_at: datetime | None = instant(nullable=True)


class MailMessage(SQLModel, table=True):
    """The ledger of the call's mailbox: one row per message processed, written in the transaction
    that records what it caused (the application, its audit entry, the replies), before the message
    is moved; a message found here is only moved (`models.mailbox`). Unique: (programme,
    `message_key`: the Message-ID, or the SHA-256 of the raw bytes without one)."""

    __table_args__ = (UniqueConstraint("programme_id", "message_key", name="uq_mailmessage_key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    message_key: str = Field(sa_column=Column(Text, nullable=False))
    content_sha256: str = Field(index=True)
    raw_sha256: str
    sender: str = ""
    subject: str = ""
    size: int = 0
    received_at: datetime = instant()
    processed_at: datetime = instant()
    outcome: str
    application_id: int | None = Field(default=None, foreign_key="application.id")
    problems: list[str] = json_column(list)


class StaffRole(StrEnum):
    """What a member of the Cerdd's team may do (`models.staff.PERMISSIONS`)."""

    DIRECTION = "direction"
    PROJECT_OFFICER = "charge_de_mission"
    READER = "lecture"


class StaffMember(SQLModel, table=True):
    """A member of the Cerdd's team with an account on the back office (`models.staff`): an
    address, a role, a password (argon2id) and a TOTP second factor, both set from an invitation
    link. Not per programme: one team. Unique: `email` (lower case)."""

    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)
    name: str
    role: str = Field(description="A `StaffRole` value.")
    active: bool = True
    password_hash: str | None = Field(default=None, sa_column=Column(Text))
    totp_secret: str | None = Field(default=None, description="Base32; set by the invitation, confirmed at enrolment.")
    totp_last_step: int | None = Field(default=None, description="The last TOTP time step accepted (no replay).")
    enrolled_at: datetime | None = instant(nullable=True)
    created_at: datetime = instant()
    disabled_at: datetime | None = instant(nullable=True)


class StaffToken(SQLModel, table=True):
    """A single-use link mailed to a staff member (invitation or password reset): only the SHA-256
    of its random key is stored. Used once (`used_at`), or past `expires_at`: refused."""

    __tablename__ = "staff_token"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    purpose: str = Field(description="invitation or reinitialisation.")
    digest: str = Field(unique=True, max_length=64)
    created_at: datetime = instant()
    expires_at: datetime = instant()
    used_at: datetime | None = instant(nullable=True)


class StaffRecoveryCode(SQLModel, table=True):
    """One of a staff member's single-use recovery codes (when the authenticator is lost): its
    SHA-256 only (the code carries 80 random bits)."""

    __tablename__ = "staff_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    digest: str = Field(max_length=64)
    used_at: datetime | None = instant(nullable=True)


class StaffSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a signed random key whose SHA-256 is `digest`.
    Refused once revoked (sign-out, « se déconnecter partout », `staff disable`), idle too long or
    past `expires_at` (absolute lifetime)."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    digest: str = Field(unique=True, max_length=64)
    address: str = ""
    created_at: datetime = instant()
    last_seen_at: datetime = instant()
    expires_at: datetime = instant()
    revoked_at: datetime | None = instant(nullable=True)


class StaffSignInFailure(SQLModel, table=True):
    """A refused sign-in (wrong password or code, unknown address): counted per address typed and
    per client address over `models.staff.THROTTLE_WINDOW` to throttle guessing."""

    __tablename__ = "staff_signin_failure"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = instant(index=True)
    email: str = Field(index=True)
    address: str = Field(index=True)


class ServiceLease(SQLModel, table=True):
    """Who runs a service on this database (`transitions serve`: one per database), until when:
    the holder renews `expires_at` while it runs and deletes the row when it stops; a holder that
    crashed leaves a row whose expiry passes, and the next one takes it over (`models.lease`)."""

    __tablename__ = "service_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120, description="The holding process's own key (host, pid, a random part).")
    host: str = Field(max_length=255)
    pid: int
    since: datetime = instant()
    heartbeat_at: datetime = instant()
    expires_at: datetime = instant()


class ProgrammeVersion(SQLModel, table=True):
    """One definition a programme ran under (`models.programme_versions`): the first install is
    version 1, each applied change (`transitions programme apply`) the next; the previous ones are
    kept, diffable. `Programme.version` names the current one. Unique: (programme, number)."""

    __tablename__ = "programme_version"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    number: int
    definition: dict[str, Any] = json_column(dict)
    sha256: str = Field(max_length=64, description="SHA-256 of the canonical JSON of the definition.")
    source: str = Field(default="", description="File name the definition was read from.")
    applied_at: datetime = instant()
    actor: str
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ProgrammePreview(SQLModel, table=True):
    """One preview of a change of a programme (`transitions programme diff`), kept: the previewed
    file's name and definition hash (SHA-256 of its canonical JSON), the version it was compared
    with, the instant it replayed from (`at`), when and by whom it was made, and its result as
    `--json` prints it (`models.read.programme_diff.preview_json`). `apply` refuses a file that is
    not the last preview without broken rules, or a preview made against an older version."""

    __tablename__ = "programme_preview"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    sha256: str = Field(max_length=64)
    version: int
    at: datetime = instant()
    made_at: datetime = instant()
    actor: str
    source: str = Field(default="", description="File name the previewed definition was read from.")
    differences: int = Field(default=0, description="How many differences the preview found.")
    problems: int = Field(default=0, description="How many rules the change breaks (0: it may be applied).")
    result: dict[str, Any] = json_column(dict)


class PilotChange(SQLModel, table=True):
    """One change to the rows a pilot's year is read from (the pilot, its application, charter
    signatures and text, phases, milestones, sessions, their answers and attendance, deliverables),
    written by the database itself: a trigger on each of those tables adds a row for every row
    inserted, updated or deleted (migration 0026), whichever code or tool wrote it. Never updated,
    never deleted: the count and the sum of the random `token`s of a pilot's rows change with each
    committed change, and are what `models.read.pilot_year.YearCache` checks a kept year against.
    No foreign key: a row outlives nothing it would have to follow."""

    __tablename__ = "pilot_change"
    __table_args__ = (Index("ix_pilot_change_pilot_token", "pilot_id", "token"),)

    id: int | None = Field(default=None, primary_key=True)
    pilot_id: int
    token: int = Field(description="A random number in [0, 2^31): two histories of one pilot do not share a sum.")
