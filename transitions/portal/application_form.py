"""The online application form as the draft's page shows it: the annex's sections (titles as the
form shows them, instruction, line guidance), the draft as one screen, and « Vérifier »'s problems
in French by section. The one place the page's form is described; its titles and the problems'
words are the annex's (`models.forms.SECTIONS`, `section_problems`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from models import drafts, partners
from models.applications import may_withdraw
from models.context import ProgrammeContext
from models.errors import Verdict
from models.forms import (
    ATTACHMENTS_TITLE,
    GUIDED_LINES,
    SECTION_OF_FIELD,
    THEME_LABELS,
    Partner,
    PartnerKind,
    estimated_lines,
    section_problems,
)
from models.tables import Application, ApplicationDraft, DraftFile, label
from transitions.portal.fields import field


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    instruction: str = ""
    lines: tuple[int, int] | None = None


ONLINE = (
    ("collectivite_chef_de_file", "Le SIREN est celui de l'EPCI qui a commencé cette candidature ; il ne change pas.",
     None),
    ("responsables_operationnels", "Au moins une personne : nom, qualité, courriel, téléphone.", None),
    ("referents_politiques", "Au moins une personne.", None),
    ("referents_techniques", "Au moins une personne.", None),
    ("point_contact_cerdd", "", None),
    ("partenaires", "Communes, réseau d'entreprises, agence de développement… (le SIREN est facultatif).", None),
    ("motivations", "", GUIDED_LINES),
    ("themes", "Cochez au moins un thème.", None),
    ("pistes_de_travail", "", GUIDED_LINES),
    ("partenaires_potentiels", "", None),
    ("besoins", "", GUIDED_LINES),
)
"""The page's blocks, one per field of the form (the annex's « pistes » section holds two: the themes
to tick and the text), with what to do online; titles are the annex's (`models.forms.SECTIONS`)."""
SECTIONS = tuple(Section(key, SECTION_OF_FIELD[key].title if key != "themes" else "Thèmes envisagés", text, lines)
                 for key, text, lines in ONLINE)
TITLES = {**{s.key: s.title for s in SECTIONS}, "formulaire": ATTACHMENTS_TITLE,
          "documents_complementaires": ATTACHMENTS_TITLE}
PERSON_LABELS = {"nom": "Nom et prénom", "qualite": "Qualité (fonction)", "courriel": "Courriel",
                 "telephone": "Téléphone"}
LEAD_LABELS = {"nom": "Nom de la collectivité", "adresse": "Adresse", "courriel": "Courriel de la collectivité",
               "telephone": "Téléphone de la collectivité"}
PARTNER_KINDS = [(kind.value, label(kind.value)) for kind in PartnerKind]


def explain(exc: ValidationError) -> list[str]:
    """The form model's errors in French, one line each, named by section (`models.forms.section_problems`)."""
    return section_problems(exc)


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
    partners: list[tuple[Partner, str]]
    """Each valid partner line saved, with where its confirmation stands (`models.partners.states`)."""
    may_ask: Verdict


def draft_screen(ctx: ProgrammeContext, draft: ApplicationDraft, now: datetime, *, verify: bool) -> DraftScreen:
    payload = dict(draft.payload)
    rows = {name: drafts.rows(draft, name) for name in (*drafts.PEOPLE, "partenaires")}
    lines = {name: estimated_lines(str(payload.get(name, ""))) for name in drafts.LONG_TEXTS}
    application = drafts.application_of(ctx, draft)
    withdrawable = may_withdraw(ctx, application, now) if application is not None else None
    problems = None
    if verify:
        found = drafts.verify(ctx, draft, explain).problems
        problems = [(TITLES.get(key, key), [line.removeprefix(f"{TITLES.get(key, key)} : ") for k, line in found
                                            if k == key]) for key in dict.fromkeys(k for k, _ in found)]
    return DraftScreen(draft, payload, rows, lines, drafts.files(ctx, draft), drafts.may_edit(ctx, draft, now),
                       application, withdrawable, problems,
                       partners.states(ctx, draft.lead_siren, partners.partner_lines(payload)),
                       partners.may_request(ctx, draft, now))


def typed_payload(form: FormData, draft: ApplicationDraft) -> dict[str, Any]:
    """The draft's payload from the posted page (see `drafts.payload_from_fields`)."""
    names = [name for name in dict.fromkeys(form.keys()) if name not in ("jeton", "themes", "action")]
    fields = {name: field(form, name, multiline=name in drafts.LONG_TEXTS) for name in names}
    themes = [value for value in form.getlist("themes") if isinstance(value, str)]
    return drafts.payload_from_fields(fields, themes, draft.lead_siren, draft.lead_name)


THEMES = [(theme.value, text) for theme, text in THEME_LABELS.items()]
