"""The map of the personal data the programme holds (RGPD art. 30): for each table and column,
what kind of personal data it is, what its retention follows (`Follows`: an application, a pilot,
a notice…), how it reaches a person (the columns holding their e-mail address) and, when a person
asks for erasure (art. 17), what is kept and on which basis. The purge (`models.purge`), the
person's export (`models.read.person`) and erasure (`models.rights`) read this map, and
`tests/models/test_personal_data.py` fails when a table gains a name-, e-mail- or text-like column
that is classified neither here nor in `NOT_PERSONAL`.

Files people send (applications' and drafts' files, deliverables) live in the database, as bytes
(`ApplicationFile`, `DraftFile`, `DeliverableFile`: `models.attachments` checks them,
`models.userfiles` only reads from disk); mailed annexes are stored as the application's files, the
ledger (`MailMessage`) keeping only hashes, sender and subject. On disk: the outbox's `.eml` files
(`OUTBOX`). The call's mailbox (IMAP server or Maildir, folder « Traitées ») keeps the messages
themselves: it is outside this programme's database and is not purged by it (`OUTSIDE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a column holds, in the words of the register of processing."""

    EMAIL = "adresse électronique"
    NAME = "nom de personne"
    PHONE = "téléphone"
    TEXT = "texte libre"
    FILE = "fichier"
    RECORD = "données structurées (formulaire, ligne, détails)"
    LINK = "lien personnel"
    NETWORK = "adresse IP"


class Follows(StrEnum):
    """Whose retention a row follows (`models.retention`)."""

    APPLICATION = "candidature"
    PILOT = "pilote"
    DRAFT = "brouillon"
    MAILBOX = "courriel reçu"
    NOTICE = "avis"
    AUDIT = "journal"
    PROGRAMME = "programme"
    STAFF = "équipe du Cerdd"


@dataclass(frozen=True)
class Kept:
    """Why an erasure request keeps a row's personal data, and on which basis."""

    reason: str
    basis: str
    pilots_only: bool = False
    """Kept only while it belongs to a pilot within its retention (otherwise erased)."""


ARCHIVES = Kept("acte public (décision du jury, charte signée) conservé pour les archives",
                "RGPD art. 17-3-b et 17-3-d ; code du patrimoine, art. L211-4")
RUNNING = Kept("nécessaire pour mener l'accompagnement du territoire pilote, jusqu'à la fin de sa conservation",
               "RGPD art. 6-1-e (mission d'intérêt public) et 17-3-b", pilots_only=True)
PROGRAMME = Kept("définition du programme installé (organisateur, jurés) : changée par un nouveau fichier",
                 "RGPD art. 6-1-e")
ADDRESSEE = Kept("corps effacé ; l'adresse du destinataire reste tant que la personne est contact d'un pilote "
                 "(elle est la clé qui empêche un avis de repartir)", "RGPD art. 6-1-e et 17-3-b", pilots_only=True)
ACCOUNT = Kept("compte de l'équipe du Cerdd : désactivé par « transitions staff disable », puis anonymisé par la "
               "purge à l'échéance que fixe le registre des traitements",
               "RGPD art. 6-1-b (relation de travail)")


@dataclass(frozen=True)
class Held:
    """One table's personal data."""

    table: str
    columns: dict[str, Kind]
    follows: Follows
    via: str
    """How a row reaches a person and an application or organisation (English, for the register)."""
    person: tuple[str, ...] = ()
    """Columns holding a person's e-mail address (exactly, or inside a JSON value)."""
    kept: Kept | None = None
    name: str = ""
    """The column naming the person whose address the row holds (never an organisation's name)."""


MAP: tuple[Held, ...] = (
    Held("contact", {"name": Kind.NAME, "role": Kind.TEXT, "email": Kind.EMAIL, "phone": Kind.PHONE},
         Follows.APPLICATION, "organisation_id -> the organisation's applications", ("email",), RUNNING, "name"),
    Held("application", {"warnings": Kind.TEXT, "decision_reason": Kind.TEXT, "withdrawal_reason": Kind.TEXT},
         Follows.APPLICATION, "the application itself (its lead is an organisation)", (), ARCHIVES),
    Held("applicationversion", {"submitted_by": Kind.EMAIL, "payload": Kind.RECORD, "warnings": Kind.TEXT},
         Follows.APPLICATION, "application_id", ("submitted_by", "payload"), RUNNING),
    Held("applicationfile", {"filename": Kind.TEXT, "content": Kind.FILE},
         Follows.APPLICATION, "version_id -> applicationversion.application_id", (), RUNNING),
    Held("applicationdraft", {"payload": Kind.RECORD, "holders": Kind.EMAIL},
         Follows.DRAFT, "(programme, lead_siren); application_id once deposited", ("holders", "payload")),
    Held("draftfile", {"filename": Kind.TEXT, "content": Kind.FILE, "description": Kind.TEXT},
         Follows.DRAFT, "draft_id"),
    Held("partnerconfirmation", {"contact_email": Kind.EMAIL, "line": Kind.RECORD, "excerpt": Kind.TEXT,
                                 "requested_by": Kind.EMAIL},
         Follows.APPLICATION, "(programme, lead_siren)", ("contact_email", "requested_by", "line")),
    Held("intent", {"contact_name": Kind.NAME, "contact_email": Kind.EMAIL},
         Follows.APPLICATION, "(programme, siren): the application of that lead, if any", ("contact_email",),
         None, "contact_name"),
    Held("juryscore", {"juror": Kind.NAME, "comment": Kind.TEXT}, Follows.APPLICATION, "application_id",
         (), ARCHIVES),
    Held("conflictofinterest", {"juror": Kind.NAME, "reason": Kind.TEXT}, Follows.APPLICATION, "application_id",
         (), ARCHIVES),
    Held("jurynotapplicable", {"juror": Kind.NAME}, Follows.APPLICATION, "application_id", (), ARCHIVES),
    Held("jurysubmission", {"juror": Kind.NAME}, Follows.PROGRAMME, "programme_id", (), ARCHIVES),
    Held("pilot", {"withdraw_reason": Kind.TEXT}, Follows.PILOT, "application_id", (), ARCHIVES),
    Held("chartersignature", {"signatory": Kind.NAME, "role": Kind.TEXT, "via": Kind.LINK, "via_person": Kind.EMAIL},
         Follows.PILOT, "pilot_id; via_person: the holder of the link it was signed with", ("via_person",), ARCHIVES),
    Held("trainingsession", {"location": Kind.TEXT, "audience": Kind.TEXT, "cancel_reason": Kind.TEXT},
         Follows.PILOT, "pilot_id", (), RUNNING),
    Held("attendance", {"person": Kind.NAME, "organisation": Kind.TEXT}, Follows.PILOT, "session_id -> pilot",
         (), RUNNING),
    Held("sessionanswer", {"respondent": Kind.EMAIL, "people": Kind.TEXT}, Follows.PILOT, "session_id -> pilot",
         ("respondent",), RUNNING),
    Held("deliverable", {"review_comment": Kind.TEXT}, Follows.PILOT, "pilot_id", (), RUNNING),
    Held("deliverablefile", {"filename": Kind.TEXT, "content": Kind.FILE}, Follows.PILOT, "deliverable_id -> pilot",
         (), RUNNING),
    Held("duedaterequest", {"reason": Kind.TEXT, "requested_by": Kind.EMAIL}, Follows.PILOT,
         "deliverable_id -> pilot", ("requested_by",), RUNNING),
    Held("notice", {"recipient_email": Kind.EMAIL, "recipient_name": Kind.NAME, "subject": Kind.TEXT,
                    "body_text": Kind.TEXT, "body_html": Kind.TEXT, "core_text": Kind.TEXT, "calendar": Kind.TEXT,
                    "link_subject": Kind.LINK, "link_person": Kind.EMAIL, "last_error": Kind.TEXT,
                    "dedup_key": Kind.EMAIL},
         Follows.NOTICE, "recipient_email; its .eml in the outbox (OUTBOX)", ("recipient_email",), ADDRESSEE),
    Held("auditentry", {"actor": Kind.NAME, "summary": Kind.TEXT, "details": Kind.RECORD}, Follows.AUDIT,
         "any of its texts naming the person; changed only by models.audit.redact_entries", ("actor", "details")),
    Held("portalgrant", {"subject": Kind.EMAIL, "person": Kind.EMAIL}, Follows.APPLICATION,
         "subject (territoire:SIREN, candidat:SIREN, jure:EMAIL…) and person", ("person",), RUNNING),
    Held("portalformuse", {"subject": Kind.EMAIL}, Follows.APPLICATION, "subject (a bearer, jure:EMAIL)",
         ("subject",)),
    Held("mailmessage", {"sender": Kind.EMAIL, "subject": Kind.TEXT, "problems": Kind.TEXT}, Follows.MAILBOX,
         "application_id when it became one", ("sender",)),
    Held("programme", {"definition": Kind.RECORD}, Follows.PROGRAMME, "the organiser's team and the jurors",
         (), PROGRAMME),
    Held("programme_version", {"definition": Kind.RECORD, "actor": Kind.NAME, "reason": Kind.TEXT},
         Follows.PROGRAMME, "programme_id: every definition it ran under (the organiser's team and the jurors), "
         "who applied it and why", (), PROGRAMME),
    Held("programme_preview", {"actor": Kind.NAME, "result": Kind.RECORD}, Follows.PROGRAMME,
         "programme_id: who previewed a change, and what it would send to whom", (), PROGRAMME),
    Held("staff_member", {"email": Kind.EMAIL, "name": Kind.NAME}, Follows.STAFF, "itself", ("email",), ACCOUNT,
         "name"),
    Held("staff_session", {"address": Kind.NETWORK}, Follows.STAFF, "staff_id", (), ACCOUNT),
    Held("staff_signin_failure", {"email": Kind.EMAIL, "address": Kind.NETWORK}, Follows.STAFF,
         "the address typed", ("email",), ACCOUNT),
)
"""Every table holding personal data, and its columns that do."""

BY_TABLE: dict[str, Held] = {held.table: held for held in MAP}

NOT_PERSONAL: dict[str, frozenset[str]] = {
    "organisation": frozenset({"name"}),  # a public body, a company or a network: a legal person
    "programme_preview": frozenset({"problems"}),  # how many rules a previewed change breaks: a count
    "application": frozenset({"lead_name", "partnership"}),  # the lead's name; counts and booleans
    "applicationdraft": frozenset({"lead_name"}),
    "partnerconfirmation": frozenset({"lead_name", "partner_name"}),
    "intent": frozenset({"name"}),
    "pilot": frozenset({"name", "sign_by"}),  # sign_by: a date
    "programme": frozenset({"title", "source"}),
    "registersnapshot": frozenset({"name", "content"}),  # the public register of EPCI
    "applicationfile": frozenset({"media_type", "role"}),  # role: a code (formulaire, complement)
    "draftfile": frozenset({"media_type", "role"}),
    "deliverablefile": frozenset({"media_type"}),
    "staff_member": frozenset({"password_hash", "role"}),  # role: a code  # a hash, no personal datum by itself
    "mailmessage": frozenset({"message_key", "content_sha256"}),
    # the chain's salted digest of an entry's personal part; `redact_entries` drops the salt
    "auditentry": frozenset({"personal_parts", "personal_sha256"}),  # a Message-ID or a hash
    "notice": frozenset({"link_version", "link_expires"}),  # a number and an instant: the link's, not a person's
    "service_lease": frozenset({"name", "holder"}),  # a service's name; a machine, a process id, a random part
}
"""Columns whose name looks personal but that hold no personal data, with why."""

OUTBOX = ("the outbox folder (settings.outbox_dir): one .eml per message, named "
          "<created %Y%m%d-%H%M>-<notice id>-<kind>.eml, its header X-Transitions-Notices listing the "
          "notices it carries; removed by models.purge.sweep_outbox once a notice's body is erased")
OUTSIDE = ("the call's mailbox (IMAP_HOST or MAILDIR), folder « Traitées »: the messages as received, "
           "kept by the mail server; to purge there by its own rules")


def erasable_for_person(held: Held, *, pilot: bool) -> bool:
    """Whether a person's erasure request erases this table's data about them (`pilot`: the row
    belongs to a pilot within its retention)."""
    return held.kept is None or (held.kept.pilots_only and not pilot)


@dataclass(frozen=True)
class Shown:
    """How a table's rows are told to the person (French): the export's section title, the word
    for its rows in an erasure's report, and the columns shown with their labels (the others,
    bookkeeping such as deduplication keys, claims, attempts, hashes, stay in the JSON only)."""

    title: str
    word: str
    labels: dict[str, str]


SHOWN: dict[str, Shown] = {
    "contact": Shown("Vos coordonnées de contact", "coordonnées de contact",
                     {"name": "Nom", "role": "Fonction", "email": "Adresse électronique", "phone": "Téléphone"}),
    "intent": Shown("Vos annonces de candidature", "annonces de candidature",
                    {"name": "Territoire", "contact_name": "Nom", "contact_email": "Adresse électronique",
                     "declared_at": "Annoncée le"}),
    "applicationversion": Shown("Vos candidatures", "versions de candidature",
                                {"version": "Version", "submitted_at": "Déposée le", "submitted_by": "Déposée par",
                                 "payload": "Contenu du formulaire"}),
    "applicationdraft": Shown("Vos brouillons de candidature", "brouillons de candidature",
                              {"lead_name": "Territoire", "holders": "Adresses autorisées", "created_at": "Ouvert le",
                               "updated_at": "Enregistré le", "payload": "Contenu"}),
    "partnerconfirmation": Shown("Confirmations de partenariat demandées", "confirmations de partenaires",
                                 {"lead_name": "Territoire candidat", "partner_name": "Partenaire",
                                  "contact_email": "Adresse du contact", "requested_at": "Demandée le",
                                  "requested_by": "Demandée par", "answered_at": "Répondue le"}),
    "sessionanswer": Shown("Vos réponses aux invitations", "réponses aux invitations",
                           {"respondent": "Adresse", "attending": "Présent(e)", "people": "Personnes annoncées",
                            "answered_at": "Répondu le"}),
    "duedaterequest": Shown("Vos demandes de report", "demandes de report",
                            {"requested_due": "Échéance demandée", "reason": "Motif", "requested_at": "Demandée le",
                             "requested_by": "Demandée par", "decided_at": "Décidée le"}),
    "notice": Shown("Avis qui vous ont été envoyés", "avis",
                    {"recipient_name": "Destinataire", "recipient_email": "Adresse", "subject": "Objet",
                     "created_at": "Créé le", "sent_at": "Envoyé le", "body_text": "Texte"}),
    "portalgrant": Shown("Vos liens personnels", "liens personnels",
                         {"person": "Adresse", "version": "Version du lien", "issued_at": "Émis le"}),
    "mailmessage": Shown("Courriels que vous avez envoyés à l'appel", "courriels reçus",
                         {"sender": "Expéditeur", "subject": "Objet", "received_at": "Reçu le",
                          "processed_at": "Traité le"}),
    "staff_member": Shown("Votre compte de l'équipe", "comptes de l'équipe",
                          {"name": "Nom", "email": "Adresse électronique", "active": "Actif",
                           "created_at": "Créé le", "disabled_at": "Désactivé le"}),
    "staff_signin_failure": Shown("Connexions refusées", "connexions refusées",
                                  {"at": "Le", "email": "Adresse saisie", "address": "Adresse IP"}),
    "programme": Shown("Programme qui vous nomme (organisation, jury)", "définition du programme",
                       {"title": "Programme"}),
    "programme_version": Shown("Versions du programme qui vous nomment (organisation, jury)",
                               "versions du programme", {"number": "Version", "applied_at": "Appliquée le",
                                                         "actor": "Par", "reason": "Motif"}),
    "chartersignature": Shown("Vos signatures", "signatures de charte",
                              {"signatory": "Signataire", "role": "Qualité", "signed_at": "Signée le",
                               "via_person": "Lien utilisé (titulaire)"}),
    "attendance": Shown("Vos présences aux sessions", "présences aux sessions",
                        {"person": "Nom", "organisation": "Organisation", "present": "Présent(e)",
                         "recorded_at": "Enregistrée le"}),
    "juryscore": Shown("Vos notes de juré", "notes de juré",
                       {"criterion": "Critère", "score": "Note", "comment": "Commentaire", "recorded_at": "Le"}),
    "jurysubmission": Shown("Vos feuilles de notes remises", "feuilles de notes", {"submitted_at": "Remise le"}),
    "auditentry": Shown("Journal des actions qui vous nomment", "journal d'audit",
                        {"at": "Le", "actor": "Auteur", "summary": "Action"}),
}
"""The person-facing words of each table (export, erasure's report)."""
