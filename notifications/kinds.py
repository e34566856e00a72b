"""The kinds of notice the programme sends; each has `<kind>.txt` and `<kind>.html` templates."""

from enum import StrEnum


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
    CHARTER_TO_SIGN = "charte_a_signer"
    CHARTER_REMINDER = "relance_charte"
    KICKOFF = "lancement_accompagnement"
    PHASE_STARTED = "debut_phase"
    MILESTONE = "jalon_atteint"
    SESSION_INVITATION = "invitation_session"
    SESSION_REMINDER = "rappel_session"
    TASK_REMINDER = "rappel_tache"
    TASK_OVERDUE = "tache_en_retard"
    PILOT_CLOSED = "fin_accompagnement"
    PROGRAMME_CLOSED = "bilan_programme"
    DEAD_LETTER = "avis_abandonne"
    DIGEST = "recapitulatif"


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
    NoticeKind.CHARTER_TO_SIGN: "Charte à signer",
    NoticeKind.CHARTER_REMINDER: "Relance de signature de la charte",
    NoticeKind.KICKOFF: "Lancement de l'accompagnement",
    NoticeKind.PHASE_STARTED: "Début de phase",
    NoticeKind.MILESTONE: "Jalon atteint",
    NoticeKind.SESSION_INVITATION: "Invitation à une session",
    NoticeKind.SESSION_REMINDER: "Rappel de session",
    NoticeKind.TASK_REMINDER: "Rappel d'échéance (prestataire)",
    NoticeKind.TASK_OVERDUE: "Livrable en retard",
    NoticeKind.PILOT_CLOSED: "Fin de l'accompagnement",
    NoticeKind.PROGRAMME_CLOSED: "Bilan du programme",
    NoticeKind.DEAD_LETTER: "Avis abandonné (alerte)",
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
        NoticeKind.SELECTED: ("candidature", "note", "rang"),
        NoticeKind.NOT_SELECTED: ("candidature",),
        NoticeKind.SELECTION_BLOCKED: ("motif", "classement"),
        NoticeKind.CHARTER_TO_SIGN: ("pilote", "partie", "partie_libelle", "charte", "lancement"),
        NoticeKind.CHARTER_REMINDER: ("pilote", "partie", "partie_libelle", "charte", "en_retard", "signees"),
        NoticeKind.KICKOFF: ("pilote", "accompagnement"),
        NoticeKind.PHASE_STARTED: ("pilote", "phase", "rang", "total"),
        NoticeKind.MILESTONE: ("pilote", "jalon", "avancement"),
        NoticeKind.SESSION_INVITATION: ("pilote", "session"),
        NoticeKind.SESSION_REMINDER: ("pilote", "session"),
        NoticeKind.TASK_REMINDER: ("pilote", "livrable"),
        NoticeKind.TASK_OVERDUE: ("pilote", "livrable"),
        NoticeKind.PILOT_CLOSED: ("pilote", "avancement"),
        NoticeKind.PROGRAMME_CLOSED: ("bilans",),
        NoticeKind.DEAD_LETTER: ("avis",),
        NoticeKind.DIGEST: ("elements", "jour"),
    }.items()
}
"""The variables each kind of notice gives its templates, besides programme, destinataire and organisateur."""
