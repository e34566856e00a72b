"""What the blank annex says, in the order it says it, whatever the file format: the title, the
notes on how to fill it, then each section of `models.forms.SECTIONS` with its heading,
instruction and layout, and the closing line of the 2015 annex. The .docx and .odt writers
(`docx_writer.py`, `odt_writer.py`) lay out these same blocks."""

from __future__ import annotations

from dataclasses import dataclass

from models.clock import format_paris
from models.forms import SECTIONS, THEME_BOX_LABELS, Section, SectionKind
from models.programme import ProgrammeDefinition

EMPTY_BOX = "☐"
FORM_TITLE = "Formulaire de candidature"
END_MARK = "Formulaire à adresser en version électronique"
"""The annex's closing line starts so (seed: « Formulaire à adresser en version électronique (en version
« .doc » et pdf) à … »): the reader stops there."""
EMPTY_ROWS = {SectionKind.PEOPLE: 3, SectionKind.PARTNERS: 4}
"""Blank rows offered in a list's table; more are added in Word with Tab in the last cell."""
RECORD_HEADER = ("Champ", "Valeur")


@dataclass(frozen=True)
class Blank:
    """The annex of one programme, as text blocks the writers lay out."""

    title: str
    subtitle: str
    notes: tuple[str, ...]
    sections: tuple[Section, ...]
    closing: tuple[str, ...]


def blank_annex(definition: ProgrammeDefinition) -> Blank:
    """The blank annex's blocks for `definition` (its organiser, title, deadline and contacts)."""
    organiser = definition.organiser
    addresses = ", ".join(contact.email for contact in organiser.contacts)
    return Blank(
        title=FORM_TITLE,
        subtitle=f"pour bénéficier du dispositif d'accompagnement du {organiser.name} « {definition.title} »",
        notes=(
            f"À renvoyer au plus tard le {format_paris(definition.call.deadline)} (heure de Paris).",
            "Remplissez chaque rubrique sous son titre ; ne modifiez ni les titres ni les en-têtes des tableaux "
            "(ajoutez des lignes aux tableaux si besoin).",
        ),
        sections=SECTIONS,
        closing=(
            f"{END_MARK} (en version « .doc » ou « .docx » ou « .odt », et pdf) à {addresses}.",
            "N'hésitez pas à nous transmettre éventuellement des documents complémentaires que vous jugerez "
            "utiles pour l'étude de votre candidature.",
        ),
    )


def table_rows(section: Section) -> list[list[str]]:
    """The rows of a record's or a list's table, header first, the cells to fill empty."""
    if section.kind is SectionKind.RECORD:
        return [list(RECORD_HEADER), *([column.label, ""] for column in section.columns)]
    header = [column.label for column in section.columns]
    return [header, *([""] * len(header) for _ in range(EMPTY_ROWS[section.kind]))]


def theme_boxes(section: Section) -> list[str]:
    """The themes' checkboxes a section offers (« ☐ Mobilité »…), none when it holds no themes."""
    return [f"{EMPTY_BOX} {label}" for label in THEME_BOX_LABELS.values()] if "themes" in section.fields else []
