"""The call's application form (its annex), section by section, as a validated model.

Keys are French because applicants write these files; each field's description is the form's
own wording.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

LINE_WIDTH = 120
"""Characters per line of the original Word form, to turn « 10 à 15 lignes » into text length."""
GUIDED_LINES = (10, 15)
MAX_TEXT = 10_000
MAX_SHORT = 300


def check_siren(value: str) -> str:
    """The SIREN without spaces, if it has 9 digits and a valid Luhn key; a French ValueError otherwise."""
    digits = value.replace(" ", "")
    if not re.fullmatch(r"\d{9}", digits):
        raise ValueError("un numéro SIREN compte exactement 9 chiffres")
    if not luhn_ok(digits):
        raise ValueError(f"le numéro SIREN {digits} est invalide (clé de contrôle fausse)")
    return digits


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
    compact = re.sub(r"[\s.\-()]", "", value)
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    if not re.fullmatch(r"0[1-9]\d{8}", compact):
        raise ValueError(f"« {value} » n'est pas un numéro de téléphone français (10 chiffres)")
    return " ".join(compact[i : i + 2] for i in range(0, 10, 2))


Siren = Annotated[str, AfterValidator(check_siren)]
Phone = Annotated[str, AfterValidator(_phone)]
Short = Annotated[str, Field(min_length=1, max_length=MAX_SHORT)]
Long = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


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
    description: str = Field(default="", max_length=MAX_SHORT)


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
        default_factory=list, description="Le formulaire en version .doc et .pdf"
    )
    documents_complementaires: list[Attachment] = Field(default_factory=list)

    def theme_labels(self) -> str:
        return ", ".join(THEME_LABELS[theme] for theme in self.themes)

    def contacts(self) -> list[Representative]:
        """Who hears about this application: the operational leads first."""
        return [*self.responsables_operationnels, *self.referents_politiques]


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
