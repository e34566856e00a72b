"""The register of processing activities of a programme run with Transitions (RGPD art. 30-1), as
data: one `Processing` per purpose, in French, with its legal basis (art. 6), the persons and data
concerned, recipients, retention (art. 5-1-e), transfers (art. 44 ff.: none) and security measures
(art. 32). One source: `reports.register` renders it into `docs/registre-des-traitements.md`
(`transitions registre`), `models.read.legal` into the portal's « Données personnelles » page.

The three durations the programme file may state (`retention:` with `applications_not_selected`,
`pilots`, `notices`, ISO 8601) are read from the definition when it has them (`retention_texts`);
the team accounts' durations are `models.staff_retention`'s (the team belongs to no programme); the
other durations are this register's own choices, marked « hypothèse » where the law sets none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from models.clock import InstantError, format_duration
from models.staff_retention import ACCOUNTS_KEPT, SESSIONS_KEPT, SIGN_INS_KEPT

RETENTION_KEYS = {"applications_not_selected": "après la décision du jury",
                  "pilots": "après la fin de l'accompagnement du pilote",
                  "notices": "après l'envoi de l'avis (ou son abandon)"}
"""The programme file's retention keys (`retention:`), each with the event its duration counts from."""
TO_COMPLETE = "durée fixée par le programme (à compléter)"
ARCHIVES = ("conservé pour les archives publiques (code du patrimoine, art. L. 211-4 et L. 212-2) : 10 ans "
            "après la clôture du programme (durée d'utilité administrative, hypothèse), puis sort final "
            "décidé avec les Archives départementales")
NO_TRANSFER = "Aucun transfert hors de l'Union européenne."
PUBLIC_MISSION = ("Exécution d'une mission d'intérêt public dont est investi le responsable du traitement "
                  "(RGPD art. 6-1-e).")
COMMON_SECURITY = ("Base de données seule source de vérité, accessible au seul serveur de l'application ; "
                   "portail servi derrière HTTPS, sans aucun script, en-têtes de sécurité, formulaires à jeton "
                   "à usage unique.",
                   "Fichiers de l'application (base SQLite, boîte d'envoi, ancres, journaux) lisibles par son "
                   "seul compte système (0600, dossiers 0700), resserrés au démarrage s'ils ne l'étaient pas.",
                   "Chaque action est inscrite au journal d'audit (qui, quoi, quand).")


@dataclass(frozen=True)
class Processing:
    """One processing activity of the register (RGPD art. 30-1 b to g); texts in French."""

    key: str
    title: str
    purpose: str
    legal_basis: str
    persons: tuple[str, ...]
    data: tuple[str, ...]
    recipients: tuple[str, ...]
    retention: tuple[str, ...]
    security: tuple[str, ...]
    transfers: str = NO_TRANSFER


@dataclass(frozen=True)
class Register:
    """The register: who is responsible (RGPD art. 30-1 a), whom to write to, and the processings."""

    controller: str
    contact: str
    programmes: tuple[str, ...]
    processings: tuple[Processing, ...]


def _duration(retention: object, key: str) -> str | None:
    """One duration of the definition's `retention` (a model or a mapping) in French words, or None
    when absent or unreadable (an ISO 8601 text such as P24M, or a timedelta)."""
    value = retention.get(key) if isinstance(retention, Mapping) else getattr(retention, key, None)
    if isinstance(value, timedelta):
        return f"{value.days} jours"
    if isinstance(value, str):
        try:
            return format_duration(value)
        except InstantError:
            return None
    return None


def retention_texts(definitions: Sequence[object]) -> dict[str, str]:
    """For each key of `RETENTION_KEYS`, the French text of its duration as the programmes'
    definitions give it (« 24 mois après la décision du jury »), read defensively (`retention` may
    be missing: `TO_COMPLETE`); several programmes with different durations: each one named."""
    texts: dict[str, str] = {}
    for key, event in RETENTION_KEYS.items():
        found: dict[str, str] = {}
        for definition in definitions:
            words = _duration(getattr(definition, "retention", None), key)
            found[str(getattr(definition, "title", ""))] = f"{words} {event}" if words else TO_COMPLETE
        values = set(found.values())
        texts[key] = (values.pop() if len(values) == 1 else
                      " ; ".join(f"{title} : {text}" for title, text in found.items()) if values else TO_COMPLETE)
    return texts


def register(definitions: Sequence[object], *, link_days: int = 120) -> Register:
    """The register of the programmes' processings (usually one programme); without a programme,
    the organiser and the durations read « à compléter ». `link_days`: how long a personal link is
    valid (the setting `portal_link_days`), told in days."""
    first = definitions[0] if definitions else None
    organiser = getattr(first, "organiser", None)
    controller = str(getattr(organiser, "full_name", "")) or "l'organisateur du programme (à compléter)"
    short = str(getattr(organiser, "name", ""))
    if short and short != controller:
        controller = f"{controller} ({short})"
    contact = str(getattr(organiser, "manager", "")) or "à compléter"
    titles = tuple(str(getattr(d, "title", "")) for d in definitions)
    mails = _duration(getattr(first, "retention", None), "mailbox_refused") or TO_COMPLETE
    return Register(controller, contact, titles, processings(retention_texts(definitions), link_days=link_days,
                                                             mailbox=mails))


def processings(durations: Mapping[str, str], *, link_days: int = 120,
                mailbox: str = TO_COMPLETE) -> tuple[Processing, ...]:
    """The programme's seven processings, with the durations of `retention_texts`, a personal
    link's validity in days and the call's mailbox's retention (`retention.mailbox_refused`)."""
    not_selected, pilots, notices = (durations[k] for k in RETENTION_KEYS)
    return (
        Processing(
            "appel", "Appel à candidature",
            "Recevoir, instruire et accuser réception des candidatures des EPCI (en ligne, par fichier ou par "
            "courriel), vérifier leur recevabilité, recueillir la confirmation des partenaires.",
            PUBLIC_MISSION,
            ("Élus et agents des EPCI candidats (contacts opérationnels et politiques)",
             "Contacts des partenaires nommés dans une candidature (communes, entreprises, acteurs sociaux)",
             "Personnes annonçant une candidature ou ouvrant un brouillon en ligne"),
            ("Identité et fonction", "Coordonnées professionnelles (courriel, téléphone, adresse)",
             "Contenu du formulaire (motivations, textes libres) et pièces jointes",
             "Réponses des partenaires (confirmation ou refus) et brouillons"),
            ("L'équipe du Cerdd", "Les membres du jury (candidatures recevables)",
             "L'hébergeur du portail (sous-traitant)"),
            (f"Candidature non retenue : {not_selected}.",
             f"Candidature retenue : comme le pilote, {pilots}."),
            (*COMMON_SECURITY, "Fichiers reçus contrôlés par leur contenu (documents à macros refusés), taille "
             "bornée ; brouillon ouvert par un lien personnel envoyé aux seules adresses enregistrées.")),
        Processing(
            "jury", "Jury de sélection",
            "Permettre aux jurés de noter les candidatures recevables, déclarer leurs conflits d'intérêts, "
            "classer les candidatures et enregistrer la décision du jury.",
            PUBLIC_MISSION,
            ("Membres du jury (représentants de la DREAL, de la Région et du Cerdd)",),
            ("Nom, organisme et courriel du juré", "Notes, commentaires et critères non applicables",
             "Conflits d'intérêts déclarés et leur motif", "Feuilles de notes soumises, décision et motivation"),
            ("L'équipe du Cerdd et le secrétariat du jury",
             "Les candidats reçoivent la décision, pas les notes de chaque juré"),
            (f"Commentaires des jurés sur une candidature non retenue : {not_selected}.",
             f"Commentaires sur une candidature retenue : comme le pilote, {pilots}.",
             f"Notes, noms des jurés, conflits d'intérêts déclarés et décision du jury (qui en dépend) : "
             f"{ARCHIVES}."),
            (*COMMON_SECURITY, "Chaque juré ouvre sa feuille par son lien personnel ; une feuille soumise ne "
             "change plus.")),
        Processing(
            "accompagnement", "Accompagnement des territoires pilotes",
            "Conduire l'année d'accompagnement de chaque pilote : charte signée par les trois parties, sessions "
            "de formation et leurs invitations, émargements, livrables du prestataire, échéances et jalons.",
            PUBLIC_MISSION,
            ("Élus et agents des territoires pilotes", "Participants aux sessions",
             "Contacts et signataires du prestataire et du Cerdd"),
            ("Identité, fonction et coordonnées professionnelles",
             "Réponses aux invitations, personnes annoncées et émargements (présence)",
             "Livrables déposés, commentaires, demandes de report",
             "Signatures de la charte : nom, qualité, date, canal, lien personnel ou compte utilisé (sujet, "
             "adresse de son titulaire, version ; jamais le jeton), empreinte SHA-256 du texte signé"),
            ("L'équipe du Cerdd", "Le prestataire (bureau d'ingénierie)", "Les parties du pilote concerné",
             "Les partenaires financiers (DREAL, Région) en lecture seule"),
            (f"Données de l'accompagnement : {pilots}.", f"Charte signée : {ARCHIVES}."),
            (*COMMON_SECURITY, "Chaque partie n'ouvre que les pages de son pilote, par son lien personnel.")),
        Processing(
            "avis", "Avis et liens personnels",
            "Envoyer à chacun les avis qui le concernent (accusés de réception, convocations, rappels) avec un "
            "lien personnel vers sa page du portail, sans compte ni mot de passe.",
            PUBLIC_MISSION,
            ("Toute personne destinataire d'un avis du programme",),
            ("Nom et adresse électronique", "Contenu de l'avis, date d'envoi et état de distribution",
             "Lien personnel : son porteur, sa version et sa date d'expiration (le lien lui-même n'est pas "
             "conservé : il est signé au moment de l'envoi) ; demandes de nouveau lien"),
            ("La personne destinataire", "L'équipe du Cerdd", "Le prestataire d'envoi des courriels (sous-traitant)"),
            (f"Contenu d'un avis : {notices}.",
             f"Lien personnel : valable {link_days} jours, révocable à tout moment par le Cerdd."),
            (*COMMON_SECURITY, "Liens signés, expirants et révocables ; au plus un nouveau lien toutes les 15 "
             "minutes, envoyé à la seule adresse enregistrée.")),
        Processing(
            "equipe", "Comptes de l'équipe du Cerdd",
            "Ouvrir l'espace de l'équipe (/equipe/) aux seules personnes habilitées, selon leur rôle, et "
            "protéger ces comptes.",
            PUBLIC_MISSION + " Sécurité du traitement (RGPD art. 32).",
            ("Membres de l'équipe du Cerdd", "Lecteurs des partenaires (DREAL, Région)"),
            ("Nom, adresse électronique et rôle",
             "Empreinte du mot de passe (argon2id), secret du second facteur, empreintes des codes de secours",
             "Sessions (adresse IP du poste, dates) et tentatives de connexion refusées (adresse saisie, adresse IP)"),
            ("L'équipe du Cerdd (la direction gère les comptes)", "L'hébergeur du portail (sous-traitant)"),
            (f"Compte : le temps des fonctions ; {format_duration(ACCOUNTS_KEPT)} après sa désactivation "
             "(hypothèse), il est anonymisé : nom, adresse, empreinte du mot de passe, secret du second facteur, "
             "codes de secours et liens effacés, avis qu'il a reçus effacés, son nom et son adresse retirés du "
             "journal d'audit (les entrées restent, vérifiables). Réinvité avant cette échéance, il redevient actif.",
             f"Session : supprimée {format_duration(SESSIONS_KEPT)} après sa fin (déconnexion, expiration ou "
             "inactivité) ; la connexion reste inscrite au journal d'audit.",
             f"Tentative de connexion refusée (adresse saisie, adresse IP), et adresse IP ou adresse saisie des "
             f"connexions inscrites au journal d'audit : {format_duration(SIGN_INS_KEPT)} (recommandation de la "
             "CNIL sur la journalisation : 6 mois à 1 an), puis supprimées de la base et retirées du journal.",
             "Ces durées valent pour toute l'équipe, commune à tous les programmes : fixées par le logiciel, elles "
             "sont appliquées par la purge (chaque jour à 8 h pour un programme en cours, ou « transitions privacy "
             "purge »)."),
            (*COMMON_SECURITY, "Mot de passe d'au moins 12 caractères, second facteur TOTP, codes de secours à "
             "usage unique, tentatives limitées, sessions de 30 minutes d'inactivité et 10 heures au plus.",
             "Liens d'invitation et de réinitialisation à usage unique et expirants : leur clé n'est jamais "
             "conservée (seule son empreinte l'est), elle est calculée au moment de l'envoi.")),
        Processing(
            "boite", "Boîte aux lettres de l'appel",
            "Relever les courriels envoyés à l'adresse de l'appel : une candidature envoyée par courriel devient "
            "une candidature, les autres reçoivent une réponse ou sont mis de côté pour l'équipe.",
            PUBLIC_MISSION,
            ("Expéditeurs de courriels à l'adresse de l'appel",),
            ("Adresse de l'expéditeur, objet, taille, dates de réception et de traitement",
             "Pièces jointes (devenues pièces de la candidature) et problèmes relevés"),
            ("L'équipe du Cerdd", "Le fournisseur de la messagerie (sous-traitant)"),
            ("Message devenu candidature : comme la candidature.",
             f"Autre message (refusé, « À revoir ») : son enregistrement, {mailbox} après sa lecture.",
             "Les messages eux-mêmes restent dans la messagerie de l'appel (dossiers « Traitées » et « À revoir ») : "
             "le logiciel ne les efface pas ; l'équipe du Cerdd les supprime dans la messagerie aux mêmes "
             "échéances."),
            (*COMMON_SECURITY, "Chaque message est lu comme une entrée hostile : pièces contrôlées par leur "
             "contenu, archives et tailles bornées.")),
        Processing(
            "journal", "Journal d'audit",
            "Garder la trace de chaque action (qui, quoi, quand) pour rendre compte des décisions et de la "
            "sécurité du traitement.",
            "Respect d'une obligation légale (RGPD art. 6-1-c : responsabilité, art. 5-2, et sécurité, art. 32) "
            "et mission d'intérêt public (art. 6-1-e).",
            ("Toute personne qui agit dans le programme (équipe, jurés, signataires, candidats, prestataire)",),
            ("Date et heure, auteur (nom ou adresse), action, objet, résumé et valeurs remplacées",),
            ("L'équipe du Cerdd (direction et chargés de mission)",),
            (f"Journal : {ARCHIVES}.",
             "Les parties personnelles d'une entrée sont expurgées lorsque la donnée qu'elle cite est effacée ; "
             "l'entrée reste."),
            (*COMMON_SECURITY, "Le journal s'écrit par ajout, dans la transaction de l'action qu'il décrit ; chaque "
             "entrée est chaînée à la précédente (SHA-256), la tête de la chaîne conservée hors de la base ; "
             "une expurgation y est elle-même inscrite (transitions audit verify).")),
    )
