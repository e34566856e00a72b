"""What the blank annex says, in the order it says it, whatever the file format: the title, the
notes on how to fill it, then each section of `models.forms.SECTIONS` with its heading,
instruction and layout, and the closing line of the 2015 annex. The .docx and .odt writers
(`docx_writer.py`, `odt_writer.py`) lay out these same blocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.clock import format_paris
from models.forms import SECTIONS, THEME_BOX_LABELS, Section, SectionKind
from models.programme import ProgrammeDefinition
from models.tables import label as code_label

EMPTY_BOX = "☐"
TICKED_BOX = "☒"
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
    answers: Mapping[str, Any] | None = None
    """An application's form payload (`ApplicationForm.model_dump(mode="json")`) the annex comes filled
    with, or None for the blank annex."""


def blank_annex(definition: ProgrammeDefinition, answers: Mapping[str, Any] | None = None) -> Blank:
    """The annex's blocks for `definition` (its organiser, title, deadline and contacts), blank, or filled
    with `answers` (a form payload) as an applicant would have filled it."""
    organiser = definition.organiser
    contacts = ", ".join(contact.email for contact in organiser.contacts)
    apply_to = definition.call.apply_to
    addresses = f"{apply_to} (copie : {contacts})" if apply_to else contacts
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
        answers=answers,
    )


def table_rows(section: Section, answers: Mapping[str, Any] | None = None) -> list[list[str]]:
    """The rows of a record's or a list's table, header first: the cells to fill empty, or filled
    from `answers` (a list then ends with one empty row, to add more)."""
    value = answers.get(section.fields[0]) if answers else None
    if section.kind is SectionKind.RECORD:
        cells = _flat(value) if isinstance(value, Mapping) else {}
        return [list(RECORD_HEADER), *([column.label, cells.get(column.key, "")] for column in section.columns)]
    header = [column.label for column in section.columns]
    items = [_flat(item) for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
    filled = [[cells.get(column.key, "") for column in section.columns] for cells in items]
    empty = 1 if answers else EMPTY_ROWS[section.kind]
    return [header, *filled, *([""] * len(header) for _ in range(empty))]


def theme_boxes(section: Section, answers: Mapping[str, Any] | None = None) -> list[str]:
    """The themes' checkboxes a section offers (« ☐ Mobilité »…, « ☒ » for a theme `answers` chose),
    none when it holds no themes."""
    if "themes" not in section.fields:
        return []
    chosen = set(answers.get("themes") or ()) if answers else set()
    return [f"{TICKED_BOX if theme.value in chosen else EMPTY_BOX} {label}"
            for theme, label in THEME_BOX_LABELS.items()]


def text_lines(section: Section, answers: Mapping[str, Any] | None = None) -> list[str]:
    """The paragraphs under a one-line or free-text section: one empty paragraph to write in, or the
    lines of the answer."""
    value = answers.get(section.fields[-1]) if answers else None
    lines = [line for line in str(value).splitlines() if line.strip()] if value else []
    return lines or [""]


def _flat(item: Mapping[str, Any]) -> dict[str, str]:
    """A record's values by column key (`contact.nom` for a nested one), types by the word users read."""
    cells: dict[str, str] = {}
    for key, value in item.items():
        if isinstance(value, Mapping):
            cells.update({f"{key}.{sub}": str(inner) for sub, inner in value.items() if inner is not None})
        elif value is not None:
            cells[key] = code_label(str(value)) if key == "type" else str(value)
    return cells

