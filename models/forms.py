"""The call's application form (its annex), section by section, as a validated model.

Keys are French because applicants write these files; each field's description is the form's
own wording.
"""

from __future__ import annotations

import math
import re
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
    model_validator,
)
from sqlmodel import Session, select

from models.errors import InvalidInput
from models.tables import Application, ApplicationVersion
from models.text import multi_line, single_line, visible

LINE_WIDTH = 120
"""Characters per line of the original Word form, to turn « 10 à 15 lignes » into text length."""
GUIDED_LINES = (10, 15)
MAX_TEXT = 10_000
MAX_SHORT = 300


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
    is said malformed rather than unknown. Any other reference is returned as typed."""
    if isinstance(reference, str) and re.fullmatch(r"[0-9\s]+", reference) and reference.strip():
        try:
            return check_siren(reference)
        except ValueError as exc:
            message = str(exc)
            raise InvalidInput(f"{message[:1].upper()}{message[1:]}.") from None
    return reference


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
        min_length=1, description="Noms et qualités des responsables « opérationnels »"
    )
    referents_politiques: list[Representative] = Field(min_length=1, description="Référent(s) politique(s)")
    referents_techniques: list[Representative] = Field(
        min_length=1, description="Référent(s) technique(s) interne(s) voire externe(s)"
    )
    point_contact_cerdd: Short = Field(description="Le « point contact » technique du Cerdd")
    partenaires: list[Partner] = Field(
        default_factory=list, description="Partenaires participant à la candidature"
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
