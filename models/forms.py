"""The call's application form (its annex), section by section, as a validated model.

Keys are French because applicants write these files; each field's description is the form's
own wording.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from sqlmodel import Session, select

from models.errors import InvalidInput
from models.problems import describe
from models.tables import Application, ApplicationVersion
from models.text import multi_line, single_line, visible

LINE_WIDTH = 120
"""Characters per line of the original Word form, to turn « 10 à 15 lignes » into text length."""
GUIDED_LINES = (10, 15)
MAX_TEXT = 10_000
MAX_SHORT = 300
MAX_ROWS = 12
"""People (per list) or partners an application names at most, whatever the door (online form, file,
annex, mail): each person named is acknowledged by mail, so an unbounded list would make the
programme mail anyone's addresses by the hundred."""


def check_siren(value: str) -> str:
    """The SIREN as 9 ASCII digits, spaces of any kind removed (a pasted U+00A0 or U+202F too),
    with a valid Luhn key and not all zeros; a French ValueError otherwise. The one normalisation
    of a SIREN, wherever one is typed."""
    if not isinstance(value, str):
        raise ValueError("un numéro SIREN s'écrit comme un texte de 9 chiffres (entre guillemets en YAML)")
    if re.search(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", value):
        raise ValueError("un numéro SIREN ne contient pas de caractère de contrôle")
    digits = "".join(value.split())
    if not re.fullmatch(r"[0-9]{9}", digits):
        raise ValueError("un numéro SIREN compte exactement 9 chiffres")
    if not luhn_ok(digits):
        raise ValueError(f"le numéro SIREN {digits} est invalide (clé de contrôle fausse)")
    if digits == "000000000":
        raise ValueError("le numéro SIREN 000000000 n'existe pas")
    return digits


def siren_or_reference(reference: str) -> str:
    """A reference typed where a SIREN or another key (receipt number, name) is accepted: when it is
    written with digits only (spaces allowed), it is meant as a SIREN and returned normalised by
    `check_siren`; a malformed one raises InvalidInput (« Le numéro SIREN … est invalide … »), so it
    is said malformed rather than unknown. Any other reference is returned as typed; one holding a
    control character (a NUL, which PostgreSQL cannot even compare) raises InvalidInput."""
    if isinstance(reference, str) and re.fullmatch(r"[0-9\s]+", reference) and reference.strip():
        try:
            return check_siren(reference)
        except ValueError as exc:
            message = str(exc)
            raise InvalidInput(f"{message[:1].upper()}{message[1:]}.") from None
    try:
        return single_line(reference)
    except ValueError as exc:
        raise InvalidInput(f"Référence refusée : {exc}.") from None


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def _phone(value: str) -> str:
    single_line(value)
    compact = re.sub(r"[\s.\-()]", "", value)
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    if not re.fullmatch(r"0[1-9][0-9]{8}", compact):
        raise ValueError(f"« {visible(value)[:40]} » n'est pas un numéro de téléphone français (10 chiffres)")
    return " ".join(compact[i : i + 2] for i in range(0, 10, 2))


Siren = Annotated[str, BeforeValidator(check_siren)]
Phone = Annotated[str, AfterValidator(_phone)]
Short = Annotated[str, Field(min_length=1, max_length=MAX_SHORT), BeforeValidator(single_line)]
Long = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), BeforeValidator(multi_line)]


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LeadKind(StrEnum):
    EPCI = "epci"
    COMMUNE = "commune"
    BUSINESS_NETWORK = "reseau_entreprises"
    OTHER = "autre"


class PartnerKind(StrEnum):
    COMMUNE = "commune"
    BUSINESS_NETWORK = "reseau_entreprises"
    DEVELOPMENT_AGENCY = "agence_developpement"
    CHAMBER = "chambre_consulaire"
    SOCIAL_ACTOR = "acteur_social"
    BUSINESS = "entreprise"
    OTHER = "autre"


class Theme(StrEnum):
    MOBILITY = "mobilite"
    HOUSING = "habitat"
    FOOD = "alimentation"
    OTHER = "autre"


THEME_LABELS = {
    Theme.MOBILITY: "mobilité",
    Theme.HOUSING: "habitat/habiter",
    Theme.FOOD: "alimentation",
    Theme.OTHER: "autre",
}


class Representative(Form):
    """A person the application names (lead, referent, contact): form « Nom, qualité, courriel »."""

    nom: Short = Field(description="Nom et prénom")
    qualite: Short = Field(description="Qualité (fonction)")
    courriel: EmailStr
    telephone: Phone | None = None


class Lead(Form):
    """Nom de la collectivité « chef de file » et coordonnées."""

    nom: Short
    type: LeadKind = Field(description="epci, commune, reseau_entreprises ou autre")
    siren: Siren
    adresse: Short
    courriel: EmailStr
    telephone: Phone


class Partner(Form):
    """Nom et coordonnées d'un partenaire participant à la candidature."""

    nom: Short
    type: PartnerKind
    siren: Siren | None = None
    contact: Representative | None = None


class Attachment(Form):
    fichier: Short = Field(description="Chemin du fichier, relatif au fichier de candidature")
    description: Annotated[str, Field(max_length=MAX_SHORT), BeforeValidator(single_line)] = ""


class ApplicationForm(Form):
    """Formulaire de candidature au dispositif « Transitions économiques des territoires »."""

    collectivite_chef_de_file: Lead
    responsables_operationnels: list[Representative] = Field(
        min_length=1, max_length=MAX_ROWS, description="Noms et qualités des responsables « opérationnels »"
    )
    referents_politiques: list[Representative] = Field(min_length=1, max_length=MAX_ROWS,
                                                       description="Référent(s) politique(s)")
    referents_techniques: list[Representative] = Field(
        min_length=1, max_length=MAX_ROWS, description="Référent(s) technique(s) interne(s) voire externe(s)"
    )
    point_contact_cerdd: Short = Field(description="Le « point contact » technique du Cerdd")
    partenaires: list[Partner] = Field(
        default_factory=list, max_length=MAX_ROWS, description="Partenaires participant à la candidature"
    )
    motivations: Long = Field(
        description="Motivations des décideurs politiques locaux et des partenaires (10 à 15 lignes)"
    )
    themes: list[Theme] = Field(min_length=1, description="mobilite, habitat, alimentation, autre")
    pistes_de_travail: Long = Field(
        description="Thèmes ou pistes de travail envisagés (10 à 15 lignes)"
    )
    partenaires_potentiels: Long = Field(
        description="Partenaires potentiels ou acteurs clefs à mobiliser"
    )
    besoins: Long = Field(description="Principaux besoins identifiés (10 à 15 lignes)")
    formulaire: list[Attachment] = Field(
        default_factory=list,
        description="Le formulaire lui-même, en deux versions au moins : PDF, et traitement de texte "
                    "(.doc, .docx ou .odt) ; chaque fichier est vérifié par son contenu",
    )
    documents_complementaires: list[Attachment] = Field(
        default_factory=list,
        description="Pièces complémentaires : PDF, traitement de texte (.doc, .docx, .odt), tableur (.xls, .xlsx, "
                    ".ods) ou image (.png, .jpg), 10 Mio au plus chacune")
    _merged: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _merge_duplicates(self) -> ApplicationForm:
        """The same partner (SIREN, or name and type) or the same person (e-mail) listed twice in one
        list is kept once, and the applicant is told (`merged`); the same file joined twice is refused."""
        for field in ("responsables_operationnels", "referents_politiques", "referents_techniques"):
            people: list[Representative] = getattr(self, field)
            kept: dict[str, Representative] = {}
            for person in people:
                if person.courriel.lower() in kept:
                    self._merged.append(f"{FIELD_LABELS[field]} : {person.nom} ({person.courriel}) figure deux fois ; "
                                        "une seule fois retenu(e).")
                else:
                    kept[person.courriel.lower()] = person
            if len(kept) < len(people):
                object.__setattr__(self, field, list(kept.values()))
        partners: dict[tuple[str, ...], Partner] = {}
        for partner in self.partenaires:
            identity = (partner.siren,) if partner.siren else (" ".join(partner.nom.lower().split()), partner.type)
            if identity in partners:
                self._merged.append(f"Partenaires : « {partner.nom} » figure deux fois ; une seule fois retenu.")
            else:
                partners[identity] = partner
        if len(partners) < len(self.partenaires):
            object.__setattr__(self, "partenaires", list(partners.values()))
        seen: set[str] = set()
        for item in [*self.formulaire, *self.documents_complementaires]:
            if item.fichier in seen:
                raise ValueError(f"le fichier « {visible(item.fichier)[:80]} » est joint deux fois")
            seen.add(item.fichier)
        return self

    @property
    def merged(self) -> list[str]:
        """Duplicates merged while reading the form, one French sentence each (for the acknowledgement)."""
        return list(self._merged)

    def theme_labels(self) -> str:
        return ", ".join(THEME_LABELS[theme] for theme in self.themes)

    def contacts(self) -> list[Representative]:
        """Who hears about this application: the operational leads first."""
        return [person for name in CONTACT_FIELDS for person in getattr(self, name)]


CONTACT_FIELDS = ("responsables_operationnels", "referents_politiques")
"""The lists of an application's form whose people hear about it (`ApplicationForm.contacts`)."""


FIELD_LABELS = {
    "responsables_operationnels": "Responsables opérationnels",
    "referents_politiques": "Référents politiques",
    "referents_techniques": "Référents techniques",
}

GUIDED_FIELDS = {
    "motivations": "Motivations",
    "pistes_de_travail": "Thèmes ou pistes de travail",
    "besoins": "Principaux besoins identifiés",
}


def estimated_lines(text: str) -> int:
    """Lines the text would fill on the paper form (a paragraph wraps every LINE_WIDTH characters)."""
    return sum(max(1, math.ceil(len(p.strip()) / LINE_WIDTH)) for p in text.splitlines() if p.strip())


def length_warnings(form: ApplicationForm) -> list[str]:
    """The « 10 à 15 lignes » guidance: a warning for the applicant and a flag for the jury."""
    low, high = GUIDED_LINES
    warnings = []
    for field, label in GUIDED_FIELDS.items():
        lines = estimated_lines(getattr(form, field))
        if not low <= lines <= high:
            warnings.append(
                f"{label} : environ {lines} ligne(s), le formulaire en demande {low} à {high}."
            )
    return warnings


TITLES: dict[str, str] = {
    "ApplicationForm": "Formulaire de candidature", "Lead": "Collectivité chef de file", "Partner": "Partenaire",
    "Representative": "Personne", "Attachment": "Pièce jointe", "LeadKind": "Type de chef de file",
    "PartnerKind": "Type de partenaire", "Theme": "Thème",
    "collectivite_chef_de_file": "Collectivité chef de file",
    "responsables_operationnels": "Responsables opérationnels",
    "referents_politiques": "Référents politiques", "referents_techniques": "Référents techniques",
    "point_contact_cerdd": "Point contact du Cerdd", "partenaires": "Partenaires", "motivations": "Motivations",
    "themes": "Thèmes", "pistes_de_travail": "Pistes de travail", "partenaires_potentiels": "Partenaires potentiels",
    "besoins": "Besoins", "formulaire": "Formulaire", "documents_complementaires": "Documents complémentaires",
    "nom": "Nom", "qualite": "Qualité", "courriel": "Courriel", "telephone": "Téléphone", "type": "Type",
    "siren": "SIREN", "adresse": "Adresse", "contact": "Contact", "fichier": "Fichier", "description": "Description",
}
"""French titles of the form's models and fields in its JSON Schema (pydantic derives English-looking
ones from the Python names: « Qualite », « ApplicationForm »)."""

DESCRIPTIONS: dict[str, str] = {
    "Representative": "Une personne que la candidature nomme (responsable, référent, contact) : nom, qualité, "
                      "courriel, téléphone.",
    "Attachment": "Un fichier joint, placé à côté du fichier de candidature.",
    "PartnerKind": "commune, reseau_entreprises, agence_developpement, chambre_consulaire, acteur_social, "
                   "entreprise ou autre",
}


def application_schema() -> dict[str, Any]:
    """The JSON Schema of `ApplicationForm` in French: titles from `TITLES`, model descriptions from
    `DESCRIPTIONS` where the class's docstring is for developers."""
    schema = ApplicationForm.model_json_schema()

    def french(node: dict[str, Any], name: str) -> None:
        if name in TITLES:
            node["title"] = TITLES[name]
        if name in DESCRIPTIONS:
            node["description"] = DESCRIPTIONS[name]
        for field, sub in node.get("properties", {}).items():
            if field in TITLES:
                sub["title"] = TITLES[field]

    french(schema, "ApplicationForm")
    for name, definition in schema.get("$defs", {}).items():
        french(definition, name)
    return schema


def form_of(session: Session, application: Application) -> ApplicationForm:
    """The application's current version, as a form."""
    version = session.exec(
        select(ApplicationVersion).where(
            ApplicationVersion.application_id == application.id,
            ApplicationVersion.version == application.version,
        )
    ).one()
    return ApplicationForm.model_validate(version.payload)


# --- The form's sections, as the 2015 annex shows them ----------------------------------------------------------


class SectionKind(StrEnum):
    """How a section's answer is laid out: one record of « Champ | Valeur » rows (`RECORD`), a list
    of people or of partners (a table with a header row, `PEOPLE`, `PARTNERS`), one line (`LINE`),
    free text in paragraphs (`TEXT`, with the themes' checkboxes when it holds `themes`)."""

    RECORD = "fiche"
    PEOPLE = "personnes"
    PARTNERS = "partenaires"
    LINE = "ligne"
    TEXT = "texte"


@dataclass(frozen=True)
class Column:
    """One field of a record or a list: its key in the model (`contact.nom` for a nested one) and
    the label the document shows (a row's first cell, or a column's header)."""

    key: str
    label: str
    required: bool = True


@dataclass(frozen=True)
class Section:
    """One section of the application form: `title` as the 2015 annex shows it (no trailing colon,
    line guidance apart), what to write (`instruction`), the guidance (« 10 à 15 lignes » or ""),
    the `ApplicationForm` fields it holds, its layout and, for records and lists, its columns."""

    key: str
    title: str
    instruction: str
    guidance: str
    fields: tuple[str, ...]
    kind: SectionKind
    columns: tuple[Column, ...] = ()

    @property
    def heading(self) -> str:
        """The heading as the annex prints it, guidance included: « Motivations … (10 à 15 lignes) »."""
        return f"{self.title} ({self.guidance})" if self.guidance else self.title


PERSON_COLUMNS = (Column("nom", "Nom"), Column("qualite", "Qualité"), Column("courriel", "Courriel"),
                  Column("telephone", "Téléphone", required=False))
LEAD_ROWS = (Column("nom", "Nom"), Column("type", "Type"), Column("siren", "SIREN"), Column("adresse", "Adresse"),
             Column("courriel", "Courriel"), Column("telephone", "Téléphone"))
PARTNER_COLUMNS = (Column("nom", "Nom"), Column("type", "Type"), Column("siren", "SIREN", required=False),
                   Column("contact.nom", "Contact", required=False),
                   Column("contact.qualite", "Qualité du contact", required=False),
                   Column("contact.courriel", "Courriel du contact", required=False),
                   Column("contact.telephone", "Téléphone du contact", required=False))
_TEN_TO_FIFTEEN = f"{GUIDED_LINES[0]} à {GUIDED_LINES[1]} lignes"

SECTIONS: tuple[Section, ...] = (
    Section("chef_de_file", "Nom de la collectivité « chef de file » et coordonnées",
            "Type : EPCI, commune, réseau d'entreprises ou autre. SIREN : 9 chiffres.", "",
            ("collectivite_chef_de_file",), SectionKind.RECORD, LEAD_ROWS),
    Section("responsables", "Noms et qualités des responsables « opérationnels » de la collectivité chef de file",
            "Une ligne par personne : nom et prénom, qualité (fonction), courriel, téléphone (facultatif).", "",
            ("responsables_operationnels",), SectionKind.PEOPLE, PERSON_COLUMNS),
    Section("referents_politiques", "Référent(s) politique(s)",
            "Une ligne par élu(e) référent(e) : nom et prénom, qualité, courriel, téléphone (facultatif).", "",
            ("referents_politiques",), SectionKind.PEOPLE, PERSON_COLUMNS),
    Section("referents_techniques", "Référent(s) technique(s) interne(s) voire externe(s) à la collectivité",
            "Une ligne par personne : nom et prénom, qualité, courriel, téléphone (facultatif).", "",
            ("referents_techniques",), SectionKind.PEOPLE, PERSON_COLUMNS),
    Section("point_contact", "Préciser le « point contact » technique du Cerdd",
            "Le nom de la personne du Cerdd avec qui vous êtes en contact.", "",
            ("point_contact_cerdd",), SectionKind.LINE),
    Section("partenaires", "Nom et coordonnées des partenaires participant à la candidature",
            "Une ligne par partenaire. Type : commune, réseau d'entreprises, agence de développement, chambre "
            "consulaire, acteur social, entreprise ou autre. Le SIREN et le contact sont facultatifs.", "",
            ("partenaires",), SectionKind.PARTNERS, PARTNER_COLUMNS),
    Section("motivations", "Motivations des décideurs politiques locaux et des partenaires à s'engager dans le "
            "dispositif", "Écrivez votre réponse sous ce titre, en paragraphes.", _TEN_TO_FIFTEEN,
            ("motivations",), SectionKind.TEXT),
    Section("pistes", "Thèmes ou pistes de travail envisagés (grands domaines d'actions, projets potentiels...sur "
            "la mobilité, l'habitat, l'alimentation, etc.)",
            "Cochez les thèmes retenus (remplacez ☐ par ☒ ou par X), puis décrivez les pistes de travail en "
            "paragraphes.", _TEN_TO_FIFTEEN, ("themes", "pistes_de_travail"), SectionKind.TEXT),
    Section("partenaires_potentiels", "Précisez les partenaires potentiels ou acteurs clefs à mobiliser dans le "
            "cadre de l'accompagnement", "Écrivez votre réponse sous ce titre, en paragraphes.", "",
            ("partenaires_potentiels",), SectionKind.TEXT),
    Section("besoins", "Principaux besoins identifiés (au sein de votre organisation, à l'échelle du territoire) "
            "dans le champs des nouveaux modèles économiques", "Écrivez votre réponse sous ce titre, en paragraphes.",
            _TEN_TO_FIFTEEN, ("besoins",), SectionKind.TEXT),
)
"""The application form's sections in the order of the call's annex (seed: the call of 2 April 2015,
« Formulaire de candidature »): the one definition the generated annex, its reader and the online
form share."""

SECTION_OF_FIELD: dict[str, Section] = {field: section for section in SECTIONS for field in section.fields}
ATTACHMENTS_TITLE = "Pièces jointes"
THEME_BOX_LABELS = {Theme.MOBILITY: "Mobilité", Theme.HOUSING: "Habitat / habiter", Theme.FOOD: "Alimentation",
                    Theme.OTHER: "Autre"}
"""The themes' checkboxes in the annex, in order."""


def section_problems(exc: ValidationError) -> list[str]:
    """Each problem of an `ApplicationForm` validation, in French, named by the title of the section
    that holds it as the form shows it: « Référent(s) politique(s) : ligne 1, courriel
    « x » : adresse électronique invalide : il manque le @ ». Problems with no section (the
    attachments) are named « Pièces jointes »."""
    out = []
    for error in exc.errors(include_url=False):
        loc = [part for part in error["loc"] if not str(part).startswith("function-")]
        section = SECTION_OF_FIELD.get(str(loc[0])) if loc else None
        title = section.title if section else ATTACHMENTS_TITLE
        out.append(f"{title} : {_where_in_section(section, loc, error)}{_message(section, loc, error)}")
    return out


def _where_in_section(section: Section | None, loc: list[Any], error: Any) -> str:
    parts = []
    if section is not None and len(section.fields) > 1:
        parts.append(TITLES.get(str(loc[0]), str(loc[0])).lower())
    rest = loc[1:]
    if rest and isinstance(rest[0], int):
        parts.append(f"ligne {rest[0] + 1}")
        rest = rest[1:]
    names = [str(part) for part in rest if not isinstance(part, int)]
    if names and section is not None and section.kind in (SectionKind.RECORD, SectionKind.PEOPLE,
                                                          SectionKind.PARTNERS):
        key = ".".join(names)
        label = next((c.label for c in section.columns if c.key == key), TITLES.get(names[-1], names[-1]))
        value = error.get("input")
        shown = f" « {visible(value)[:60]} »" if isinstance(value, str) and value.strip() else ""
        parts.append(f"{label if label == 'SIREN' else label.lower()}{shown}")
    return ", ".join(parts) + " : " if parts else ""


def _message(section: Section | None, loc: list[Any], error: Any) -> str:
    if section is not None and len(loc) == 1 and error["type"] in ("missing", "too_short", "string_too_short"):
        if section.kind is SectionKind.PEOPLE:
            return "indiquez au moins une personne"
        if loc[0] == "themes":
            return "cochez au moins un thème"
        return "rubrique non renseignée"
    return describe(error)
