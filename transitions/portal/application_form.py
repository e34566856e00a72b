"""The online application form as the draft's page shows it: the annex's sections (titles as the
form shows them, instruction, line guidance), the draft as one screen, and « Vérifier »'s problems
in French by section. The one place the page's form is described: when `models.forms.SECTIONS`
lands (issue 22, the annex's work), `SECTIONS` below reads from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from models import drafts
from models.applications import may_withdraw
from models.context import ProgrammeContext
from models.errors import Verdict
from models.forms import GUIDED_LINES, THEME_LABELS, PartnerKind, estimated_lines
from models.tables import Application, ApplicationDraft, DraftFile, label
from transitions.portal.fields import field
from transitions.userfiles import french_errors


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    instruction: str = ""
    lines: tuple[int, int] | None = None


SECTIONS = (
    Section("collectivite_chef_de_file", "Nom de la collectivité « chef de file » et coordonnées",
            "Le SIREN est celui de l'EPCI qui a commencé cette candidature ; il ne change pas."),
    Section("responsables_operationnels", "Noms et qualités des responsables « opérationnels » de la "
            "collectivité chef de file", "Au moins une personne : nom, qualité, courriel, téléphone."),
    Section("referents_politiques", "Référent(s) politique(s)", "Au moins une personne."),
    Section("referents_techniques", "Référent(s) technique(s) interne(s) voire externe(s) à la collectivité",
            "Au moins une personne."),
    Section("point_contact_cerdd", "Préciser le « point contact » technique du Cerdd"),
    Section("partenaires", "Nom et coordonnées des partenaires participant à la candidature",
            "Communes, réseau d'entreprises, agence de développement… (le SIREN est facultatif)."),
    Section("motivations", "Motivations des décideurs politiques locaux et des partenaires à s'engager dans le "
            "dispositif", "", GUIDED_LINES),
    Section("themes", "Thèmes envisagés", "Cochez au moins un thème."),
    Section("pistes_de_travail", "Thèmes ou pistes de travail envisagés (grands domaines d'actions, projets "
            "potentiels… sur la mobilité, l'habitat, l'alimentation, etc.)", "", GUIDED_LINES),
    Section("partenaires_potentiels", "Précisez les partenaires potentiels ou acteurs clefs à mobiliser dans le "
            "cadre de l'accompagnement"),
    Section("besoins", "Principaux besoins identifiés (au sein de votre organisation, à l'échelle du territoire) "
            "dans le champ des nouveaux modèles économiques", "", GUIDED_LINES),
    Section("formulaire", "Pièces jointes", "Le formulaire en version traitement de texte (.doc, .docx ou .odt) "
            "et en PDF ; éventuellement des documents complémentaires (10 Mo au plus chacun)."),
)
TITLES = {s.key: s.title for s in SECTIONS}
PERSON_LABELS = {"nom": "Nom et prénom", "qualite": "Qualité (fonction)", "courriel": "Courriel",
                 "telephone": "Téléphone"}
LEAD_LABELS = {"nom": "Nom de la collectivité", "adresse": "Adresse", "courriel": "Courriel de la collectivité",
               "telephone": "Téléphone de la collectivité"}
PARTNER_KINDS = [(kind.value, label(kind.value)) for kind in PartnerKind]


def explain(exc: ValidationError) -> list[str]:
    """The form model's errors in French, one line each (`chemin : message`)."""
    return french_errors(exc)


@dataclass(frozen=True)
class DraftScreen:
    """The draft's page: what was saved, its files, what may be done now, and « Vérifier »'s
    problems by section title (when asked)."""

    draft: ApplicationDraft
    payload: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    lines: dict[str, int]
    files: list[DraftFile]
    editable: Verdict
    application: Application | None
    withdrawable: Verdict | None
    problems: list[tuple[str, list[str]]] | None


def draft_screen(ctx: ProgrammeContext, draft: ApplicationDraft, now: datetime, *, verify: bool) -> DraftScreen:
    payload = dict(draft.payload)
    rows = {name: drafts.rows(draft, name) for name in (*drafts.PEOPLE, "partenaires")}
    lines = {name: estimated_lines(str(payload.get(name, ""))) for name in drafts.LONG_TEXTS}
    application = drafts.application_of(ctx, draft)
    withdrawable = may_withdraw(ctx, application, now) if application is not None else None
    problems = None
    if verify:
        found = drafts.verify(ctx, draft, explain).problems
        problems = [(TITLES.get(key, key), [line for k, line in found if k == key])
                    for key in dict.fromkeys(k for k, _ in found)]
    return DraftScreen(draft, payload, rows, lines, drafts.files(ctx, draft), drafts.may_edit(ctx, draft, now),
                       application, withdrawable, problems)


def typed_payload(form: FormData, draft: ApplicationDraft) -> dict[str, Any]:
    """The draft's payload from the posted page (see `drafts.payload_from_fields`)."""
    names = [name for name in dict.fromkeys(form.keys()) if name not in ("jeton", "themes", "action")]
    fields = {name: field(form, name, multiline=name in drafts.LONG_TEXTS) for name in names}
    themes = [value for value in form.getlist("themes") if isinstance(value, str)]
    return drafts.payload_from_fields(fields, themes, draft.lead_siren, draft.lead_name)


THEMES = [(theme.value, text) for theme, text in THEME_LABELS.items()]
