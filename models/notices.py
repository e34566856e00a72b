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
    CALL_LAUNCHED = "appel_lance"
    DEADLINE_REMINDER = "rappel_date_limite"
    RECEIPT = "accuse_reception"
    ADMISSIBLE = "candidature_recevable"
    INADMISSIBLE = "candidature_non_recevable"
    CALL_REPORT = "bilan_cloture"
    JURY_CONVOCATION = "convocation_jury"
    JURY_REMINDER = "rappel_jury"
    SELECTED = "decision_retenue"
    NOT_SELECTED = "decision_non_retenue"
    SELECTION_BLOCKED = "selection_bloquee"
    DECISION_REQUESTED = "decision_attendue"
    CHARTER_TO_SIGN = "charte_a_signer"
    CHARTER_REMINDER = "relance_charte"
    KICKOFF = "lancement_accompagnement"
    PHASE_STARTED = "debut_phase"
    MILESTONE = "jalon_atteint"
    SESSION_INVITATION = "invitation_session"
    SESSION_REMINDER = "rappel_session"
    DELIVERABLE_REMINDER = "rappel_livrable"
    DELIVERABLE_OVERDUE = "livrable_en_retard"
    PILOT_CLOSED = "fin_accompagnement"
    SESSION_UPDATED = "session_modifiee"
    SESSION_CANCELLED = "session_annulee"
    MILESTONE_LATE = "jalon_en_retard"
    CHARTER_EXPIRED = "charte_non_signee"
    CHARTER_EXTENDED = "charte_prolongee"
    PILOT_WITHDRAWN = "pilote_retire"
    DELIVERABLE_ACCEPTED = "livrable_accepte"
    DELIVERABLE_RETURNED = "livrable_a_reprendre"
    DELIVERABLE_POSTPONED = "livrable_reporte"
    DUE_DATE_REQUESTED = "demande_report"
    PROGRAMME_CLOSED = "bilan_programme"
    DEAD_LETTER = "avis_abandonne"
    ATTENDANCE_MISSING = "presences_a_saisir"
    DIGEST = "recapitulatif"


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
        NoticeKind.DECISION_REQUESTED: ("classement", "proposition", "jury"),
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
        NoticeKind.PILOT_WITHDRAWN: ("pilote", "motif", "remplacant"),
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
}
"""Until when a notice of each kind is worth sending, read from its context: a reminder of a session
means nothing once the session has begun. A notice still waiting after that instant is recorded as
expired instead of being sent. Kinds not listed stay worth sending (until given up)."""

IMMEDIATE: frozenset[NoticeKind] = frozenset({NoticeKind.RECEIPT})
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
