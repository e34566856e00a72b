"""The notice vocabulary the domain speaks: kinds, their French labels, the variables each kind's
templates receive, and the renderer the domain is given to turn a notice into text.

The domain decides *that* a notice is due and *what* it says (its kind and context); how it reads
(Jinja templates, `notifications.render`) is injected, so `models` imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class NoticeKind(StrEnum):
    """What a notice is about, one member per occasion. The value names the notice's templates
    (`notifications/templates/<kind>.txt` and `<kind>.html`, which a programme's `templates_dir` may
    override under the same names), is stored in the outbox (`Notice.kind`) and heads its
    deduplication key (`kind:key:email`, `models.outbox.dedup_key`), is what `outbox list --kind`
    and a programme's `reminders.digest` name, and is sent to webhooks as the payload's `kind`:
    renaming one takes a migration (0013 did, `RENAMED_KINDS`). Beside each: who receives it, when."""

    CALL_LAUNCHED = "appel_lance"  # the Cerdd's team, when the call opens
    DEADLINE_REMINDER = "rappel_date_limite"  # an EPCI that said it would apply and has not, before the deadline
    RECEIPT = "accuse_reception"  # the application's contacts, at each submission (leaves at once)
    ADMISSIBLE = "candidature_recevable"  # the application's contacts, when the call closes
    INADMISSIBLE = "candidature_non_recevable"  # the application's contacts, when the call closes, with the reason
    CALL_REPORT = "bilan_cloture"  # the Cerdd's team, when the call closes: what was received and decided
    JURY_CONVOCATION = "convocation_jury"  # every juror, when the call closes, with their link to the score sheet
    JURY_REMINDER = "rappel_jury"  # a juror with applications left to score, before the meeting
    SELECTED = "decision_retenue"  # the application's contacts, when chosen (or offered a freed place)
    NOT_SELECTED = "decision_non_retenue"  # the application's contacts, when the jury does not choose it
    SELECTION_BLOCKED = "selection_bloquee"  # the Cerdd's manager, daily while the selection waits
    DECISION_REQUESTED = "decision_attendue"  # the Cerdd's manager, once the ranking awaits the secretary
    CHARTER_TO_SIGN = "charte_a_signer"  # each party of a new pilot, with the deadline to sign
    CHARTER_REMINDER = "relance_charte"  # each party yet to sign (and the manager when escalated)
    KICKOFF = "lancement_accompagnement"  # every party, when all have signed and the year of accompaniment starts
    PHASE_STARTED = "debut_phase"  # the territory's people and the consultancy, when a phase starts
    MILESTONE = "jalon_atteint"  # every party, when a milestone is reached, with the pilot's progress
    SESSION_INVITATION = "invitation_session"  # the territory's people and the consultancy, ahead of a session
    SESSION_REMINDER = "rappel_session"  # the same people, shortly before the session
    DELIVERABLE_REMINDER = "rappel_livrable"  # the consultancy (and the manager when escalated), before the due date
    DELIVERABLE_OVERDUE = "livrable_en_retard"  # the consultancy (and the manager when escalated), once overdue
    PILOT_CLOSED = "fin_accompagnement"  # every party, when the pilot's year ends, with its progress
    SESSION_UPDATED = "session_modifiee"  # the people invited, when a session moves (iCalendar update)
    SESSION_CANCELLED = "session_annulee"  # the people invited, when a session is cancelled (iCalendar CANCEL)
    MILESTONE_LATE = "jalon_en_retard"  # the Cerdd's manager, once a milestone's date passes unmet
    CHARTER_EXPIRED = "charte_non_signee"  # the Cerdd's manager, once the deadline passes with signatures missing
    CHARTER_EXTENDED = "charte_prolongee"  # every party, when the Cerdd extends the deadline to sign
    PILOT_WITHDRAWN = "pilote_retire"  # every party, when a pilot is withdrawn (and who takes its place, if anyone)
    DELIVERABLE_ACCEPTED = "livrable_accepte"  # the consultancy and the Cerdd's manager, on acceptance
    DELIVERABLE_RETURNED = "livrable_a_reprendre"  # the consultancy and the Cerdd's manager, on a return for rework
    DELIVERABLE_POSTPONED = "livrable_reporte"  # the consultancy and the Cerdd's manager, when a due date moves
    DUE_DATE_REQUESTED = "demande_report"  # the Cerdd's manager, when the consultancy asks for a new due date
    PROGRAMME_CLOSED = "bilan_programme"  # the Cerdd's manager, when the programme ends, with its results
    DEAD_LETTER = "avis_abandonne"  # the Cerdd's manager, once per delivery run, listing the notices given up
    ATTENDANCE_MISSING = "presences_a_saisir"  # the Cerdd's manager, when a session ended without attendance
    DIGEST = "recapitulatif"  # one message listing a person's `reminders.digest` notices of a day
    NEW_LINK = "nouveau_lien"  # a person whose link no longer works, at their request (or sent by the Cerdd; at once)
    DRAFT_LINK = "lien_candidature"  # who started an online application (or its holders on file), its link (at once)
    APPLICATION_WITHDRAWN = "candidature_retiree"  # the Cerdd's manager, when a lead withdraws its application
    MAIL_REPLY = "reponse_courriel"  # the sender of a mail to the call's mailbox that is no application: why (at once)
    MAIL_REVIEW = "courriel_a_revoir"  # the Cerdd's manager, when a mail of the call's mailbox awaits a person
    STAFF_INVITATION = "invitation_equipe"  # a member of the Cerdd's team, their back-office invitation (at once)
    STAFF_RESET = "reinitialisation_equipe"  # a member of the team who forgot their password, its reset link (at once)
    PARTNER_REQUEST = "confirmation_partenaire"  # a partner's contact, when the lead asks it to confirm (its link)
    PARTNER_ANSWER = "reponse_partenaire"  # the online application's holders, when a partner confirms or declines
    DRAFT_CLAIMED = "brouillon_revendique"  # the Cerdd's manager, when an address not on file asks for a draft's link
    PROGRAMME_CHANGED = "changement_programme"  # each person a programme change concerns, once: what moved for them


RENAMED_KINDS: dict[str, NoticeKind] = {
    "rappel_tache": NoticeKind.DELIVERABLE_REMINDER,
    "tache_en_retard": NoticeKind.DELIVERABLE_OVERDUE,
}
"""Kinds stored and written under an earlier name (« tâche » for the consultancy's deliverables): a
programme file may still list them (with a warning); migration 0013 rewrote the stored ones."""


LABELS: dict[NoticeKind, str] = {
    NoticeKind.CALL_LAUNCHED: "Lancement de l'appel",
    NoticeKind.DEADLINE_REMINDER: "Rappel de la date limite",
    NoticeKind.RECEIPT: "Accusé de réception",
    NoticeKind.ADMISSIBLE: "Candidature recevable",
    NoticeKind.INADMISSIBLE: "Candidature non recevable",
    NoticeKind.CALL_REPORT: "Bilan de clôture de l'appel",
    NoticeKind.JURY_CONVOCATION: "Convocation du jury",
    NoticeKind.JURY_REMINDER: "Rappel aux jurés",
    NoticeKind.SELECTED: "Décision : territoire retenu",
    NoticeKind.NOT_SELECTED: "Décision : candidature non retenue",
    NoticeKind.SELECTION_BLOCKED: "Sélection en attente",
    NoticeKind.DECISION_REQUESTED: "Décision du jury à confirmer",
    NoticeKind.CHARTER_TO_SIGN: "Charte à signer",
    NoticeKind.CHARTER_REMINDER: "Relance de signature de la charte",
    NoticeKind.KICKOFF: "Lancement de l'accompagnement",
    NoticeKind.PHASE_STARTED: "Début de phase",
    NoticeKind.MILESTONE: "Jalon atteint",
    NoticeKind.SESSION_INVITATION: "Invitation à une session",
    NoticeKind.SESSION_REMINDER: "Rappel de session",
    NoticeKind.DELIVERABLE_REMINDER: "Rappel d'échéance (prestataire)",
    NoticeKind.DELIVERABLE_OVERDUE: "Livrable en retard",
    NoticeKind.PILOT_CLOSED: "Fin de l'accompagnement",
    NoticeKind.SESSION_UPDATED: "Session déplacée (mise à jour d'agenda)",
    NoticeKind.SESSION_CANCELLED: "Session annulée",
    NoticeKind.MILESTONE_LATE: "Jalon en retard (alerte)",
    NoticeKind.CHARTER_EXPIRED: "Charte non signée à la date (décision à prendre)",
    NoticeKind.CHARTER_EXTENDED: "Délai de signature prolongé",
    NoticeKind.PILOT_WITHDRAWN: "Territoire retiré du programme",
    NoticeKind.DELIVERABLE_ACCEPTED: "Livrable accepté",
    NoticeKind.DELIVERABLE_RETURNED: "Livrable à reprendre",
    NoticeKind.DELIVERABLE_POSTPONED: "Échéance de livrable reportée",
    NoticeKind.DUE_DATE_REQUESTED: "Nouvelle échéance demandée (décision à prendre)",
    NoticeKind.PROGRAMME_CLOSED: "Bilan du programme",
    NoticeKind.DEAD_LETTER: "Avis abandonné (alerte)",
    NoticeKind.ATTENDANCE_MISSING: "Émargement à saisir (rappel)",
    NoticeKind.DIGEST: "Récapitulatif des avis du jour",
    NoticeKind.NEW_LINK: "Nouveau lien personnel (à la demande, ou envoyé par le Cerdd)",
    NoticeKind.DRAFT_LINK: "Lien vers la candidature en ligne",
    NoticeKind.APPLICATION_WITHDRAWN: "Candidature retirée par le territoire",
    NoticeKind.MAIL_REPLY: "Réponse à un courriel de candidature",
    NoticeKind.MAIL_REVIEW: "Courriel de candidature à revoir (alerte)",
    NoticeKind.STAFF_INVITATION: "Invitation à l'espace de l'équipe",
    NoticeKind.STAFF_RESET: "Réinitialisation du mot de passe (équipe)",
    NoticeKind.PARTNER_REQUEST: "Confirmation de partenariat demandée",
    NoticeKind.PARTNER_ANSWER: "Réponse d'un partenaire",
    NoticeKind.DRAFT_CLAIMED: "Lien d'une candidature en ligne demandé par une autre adresse (alerte)",
    NoticeKind.PROGRAMME_CHANGED: "Changement de programme",
}


CONTEXT: dict[NoticeKind, frozenset[str]] = {
    kind: frozenset(keys)
    for kind, keys in {
        NoticeKind.CALL_LAUNCHED: (),
        NoticeKind.DEADLINE_REMINDER: ("intention", "appel"),
        NoticeKind.RECEIPT: ("candidature", "formulaire", "avertissements", "pieces", "recu_le", "jury"),
        NoticeKind.ADMISSIBLE: ("candidature", "jury"),
        NoticeKind.INADMISSIBLE: ("candidature", "jury"),
        NoticeKind.CALL_REPORT: ("candidatures", "recevables", "refus_guichet", "jury"),
        NoticeKind.JURY_CONVOCATION: ("candidatures", "recevables", "refus_guichet", "jury"),
        NoticeKind.JURY_REMINDER: ("jury", "a_noter"),
        NoticeKind.SELECTED: ("candidature", "note", "rang", "echeance", "remplace"),
        NoticeKind.NOT_SELECTED: ("candidature",),
        NoticeKind.SELECTION_BLOCKED: ("motif", "classement"),
        NoticeKind.DECISION_REQUESTED: ("classement", "proposition", "jury", "egalite"),
        NoticeKind.CHARTER_TO_SIGN: ("pilote", "partie", "partie_libelle", "charte", "lancement", "echeance"),
        NoticeKind.CHARTER_REMINDER: ("pilote", "partie", "partie_libelle", "charte", "en_retard", "signees",
                                      "echeance"),
        NoticeKind.KICKOFF: ("pilote", "accompagnement"),
        NoticeKind.PHASE_STARTED: ("pilote", "phase", "rang", "total"),
        NoticeKind.MILESTONE: ("pilote", "jalon", "avancement", "acquis", "en_retard"),
        NoticeKind.SESSION_INVITATION: ("pilote", "session"),
        NoticeKind.SESSION_UPDATED: ("pilote", "session", "motif", "ancienne_date", "ancien_lieu"),
        NoticeKind.SESSION_CANCELLED: ("pilote", "session", "motif"),
        NoticeKind.MILESTONE_LATE: ("pilote", "jalon", "manquants", "acquis"),
        NoticeKind.CHARTER_EXPIRED: ("pilote", "charte", "echeance", "manquantes"),
        NoticeKind.CHARTER_EXTENDED: ("pilote", "charte", "echeance", "motif"),
        NoticeKind.PILOT_WITHDRAWN: ("pilote", "motif", "remplacant", "retrait"),
        NoticeKind.DELIVERABLE_ACCEPTED: ("pilote", "livrable"),
        NoticeKind.DELIVERABLE_RETURNED: ("pilote", "livrable", "commentaire"),
        NoticeKind.DELIVERABLE_POSTPONED: ("pilote", "livrable", "ancienne_echeance", "motif"),
        NoticeKind.DUE_DATE_REQUESTED: ("pilote", "livrable", "demande", "motif"),
        NoticeKind.SESSION_REMINDER: ("pilote", "session"),
        NoticeKind.DELIVERABLE_REMINDER: ("pilote", "livrable"),
        NoticeKind.DELIVERABLE_OVERDUE: ("pilote", "livrable"),
        NoticeKind.PILOT_CLOSED: ("pilote", "avancement"),
        NoticeKind.PROGRAMME_CLOSED: ("bilans",),
        NoticeKind.DEAD_LETTER: ("avis",),
        NoticeKind.ATTENDANCE_MISSING: ("pilote", "session", "depuis", "siren"),
        NoticeKind.DIGEST: ("elements", "jour", "jours"),
        NoticeKind.NEW_LINK: ("porteur", "partie_libelle", "par_le_cerdd"),
        NoticeKind.DRAFT_LINK: ("porteur", "chef_de_file", "appel", "candidature"),
        NoticeKind.APPLICATION_WITHDRAWN: ("candidature", "motif", "par"),
        NoticeKind.MAIL_REPLY: ("objet", "recu_le", "problemes", "hors_delai", "appel"),
        NoticeKind.MAIL_REVIEW: ("objet", "expediteur", "recu_le", "motif", "problemes"),
        NoticeKind.STAFF_INVITATION: ("membre", "adresse", "jusqu_au"),
        NoticeKind.STAFF_RESET: ("membre", "adresse", "jusqu_au"),
        NoticeKind.PARTNER_REQUEST: ("porteur", "chef_de_file", "partenaire", "jury"),
        NoticeKind.PARTNER_ANSWER: ("porteur", "chef_de_file", "partenaire"),
        NoticeKind.DRAFT_CLAIMED: ("chef_de_file", "siren", "demandeur", "titulaires", "depose"),
        NoticeKind.PROGRAMME_CHANGED: ("motif", "changements", "version"),
    }.items()
}
"""The variables each kind of notice gives its templates, besides programme, destinataire and organisateur."""


WORTH_SENDING_UNTIL: dict[NoticeKind, Callable[[Mapping[str, Any]], datetime]] = {
    NoticeKind.DEADLINE_REMINDER: lambda c: c["appel"].deadline,
    NoticeKind.JURY_CONVOCATION: lambda c: c["jury"].meeting,
    NoticeKind.JURY_REMINDER: lambda c: c["jury"].meeting,
    NoticeKind.SESSION_INVITATION: lambda c: c["session"].starts_at,
    NoticeKind.SESSION_REMINDER: lambda c: c["session"].starts_at,
    NoticeKind.DELIVERABLE_REMINDER: lambda c: c["livrable"].due_at,
    NoticeKind.PARTNER_REQUEST: lambda c: c["jury"].meeting,
}
"""Until when a notice of each kind is worth sending, read from its context: a reminder of a session
means nothing once the session has begun. A notice still waiting after that instant is recorded as
expired instead of being sent. Kinds not listed stay worth sending (until given up)."""

IMMEDIATE: frozenset[NoticeKind] = frozenset({NoticeKind.RECEIPT, NoticeKind.NEW_LINK, NoticeKind.DRAFT_LINK,
                                          NoticeKind.MAIL_REPLY, NoticeKind.PARTNER_REQUEST,
                                          NoticeKind.STAFF_INVITATION, NoticeKind.STAFF_RESET})
"""Direct answers to a person's own action, sent at once whatever the day or hour; every other
kind waits for a working day within the programme's sending hours."""


def worth_sending_until(kind: NoticeKind, context: Mapping[str, Any]) -> datetime | None:
    """The instant after which a notice of `kind` with this context no longer makes sense, if any."""
    until = WORTH_SENDING_UNTIL.get(kind)
    return until(context) if until is not None else None


COMMON_VARIABLES = frozenset({"programme", "destinataire", "organisateur", "subject", "lien"})
"""What every notice template receives, whatever its kind (`lien`: the recipient's personal link
to the portal, or None; a digest has none)."""


@dataclass(frozen=True)
class Recipient:
    """A person a notice is addressed to: the stored address, and the name shown beside it."""

    email: str
    name: str


def unique_recipients(recipients: list[Recipient]) -> list[Recipient]:
    """Recipients without repeats (addresses compared case-insensitively), first one kept."""
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.email.lower(), recipient)
    return list(seen.values())


@dataclass(frozen=True)
class RenderedNotice:
    """A notice as people read it: subject, plain text, HTML, and the core text (without greeting
    and signature) that a digest lists."""

    subject: str
    text: str
    html: str
    core_text: str


class Renderer(Protocol):
    """Turns a notice kind and its context into text; `overrides` maps template file names
    (`<kind>.txt`, `<kind>.html`) to a programme's own wording, stored with the programme."""

    def __call__(self, kind: NoticeKind, context: Mapping[str, Any],
                 overrides: Mapping[str, str]) -> RenderedNotice: ...
