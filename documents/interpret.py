"""The one interpreter of a filled annex: the outline of a .docx or an .odt (`documents.outline`)
mapped to an `ApplicationForm` payload through the form's sections (`models.forms.SECTIONS`).

Headings are recognised by their normalised title (accents, case, punctuation, numbering and the
« (10 à 15 lignes) » guidance do not matter), whether styled as headings or not; records and lists
are read from tables by their header labels, or from « Libellé : valeur » lines (a new « Nom : »
starts the next person or partner), so a document typed by hand from the 2015 PDF is read too.
Every problem is named by its section's title."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from documents.blank import END_MARK, RECORD_HEADER
from documents.outline import Block
from models.forms import (
    SECTIONS,
    THEME_BOX_LABELS,
    THEME_LABELS,
    Column,
    LeadKind,
    PartnerKind,
    Section,
    SectionKind,
    Theme,
)
from models.tables import label as code_label
from models.text import visible

_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*|[ivxIVX]+|[a-zA-Z])\s*[.)°/-]\s+|^\s*\d+\s+")
_GUIDANCE = re.compile(r"\s*\d+ a \d+ lignes$")
_ALIASES = {"email": "courriel", "e mail": "courriel", "mail": "courriel", "mel": "courriel",
            "adresse electronique": "courriel", "adresse mail": "courriel", "tel": "telephone",
            "fonction": "qualite", "nom et prenom": "nom", "prenom et nom": "nom", "n siren": "siren",
            "numero siren": "siren", "contact nom": "contact", "theme": "themes", "themes retenus": "themes"}
_CHECKED = set("☒☑✓✔✗✘■xX")
"""Marks that check a box; an empty box (☐, □, « [ ] ») leaves the theme out."""
_BOX = re.compile(r"^\s*(\[\s*([^\]\s]?)\s*\]|([☐□☒☑✓✔✗✘■])|([xX])(?=\s))?\s*(.+?)\s*$", re.DOTALL)


def normalised(text: str) -> str:
    """`text` for comparison: no accents, lower case, punctuation as spaces, numbering (« 3. », « b) »)
    and a trailing « (10 à 15 lignes) » removed."""
    text = _NUMBERING.sub("", text)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = re.sub(r"[^0-9a-z]+", " ", stripped.lower()).strip()
    return _GUIDANCE.sub("", words)


ABSENT = "rubrique absente du document"
_BY_TITLE = {normalised(section.title): section for section in SECTIONS}
_END_MARK = normalised(END_MARK)


def interpret(blocks: list[Block]) -> tuple[dict[str, Any], list[str]]:
    """The payload the blocks give, and the problems met reading them (French, each named by its
    section's title): sections missing or given twice, lines and tables not understood."""
    found: dict[str, list[Block]] = {}
    problems: list[str] = []
    current: list[Block] | None = None
    for block in blocks:
        if not block.is_table:
            key = normalised(block.text)
            if key.startswith(_END_MARK):
                break
            section = _BY_TITLE.get(key)
            if section is not None:
                if section.key in found:
                    problems.append(f"{section.title} : la rubrique figure deux fois dans le document")
                current = found.setdefault(section.key, [])
                continue
        if current is not None:
            current.append(block)
    payload: dict[str, Any] = {}
    for section in SECTIONS:
        if section.key not in found:
            problems.append(f"{section.title} : {ABSENT}")
            continue
        content = [b for b in found[section.key]
                   if b.is_table or (b.text.strip() and normalised(b.text) != normalised(section.instruction))]
        problems.extend(f"{section.title} : {problem}" for problem in _read_section(section, content, payload))
    return payload, problems


def _read_section(section: Section, blocks: list[Block], payload: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if section.kind is SectionKind.RECORD:
        record = _record(section.columns, blocks, problems)
        if record:
            payload[section.fields[0]] = record
    elif section.kind in (SectionKind.PEOPLE, SectionKind.PARTNERS):
        items = _items(section.columns, blocks, problems)
        if items or section.kind is SectionKind.PARTNERS:
            payload[section.fields[0]] = items
    elif section.kind is SectionKind.LINE:
        line = " ".join(" ".join(_texts(blocks)).split())
        if line:
            payload[section.fields[0]] = line
    else:
        texts = list(_texts(blocks))
        if "themes" in section.fields:
            themes, texts = _themes(texts)
            payload["themes"] = themes
        text = "\n".join(texts).strip()
        if text:
            payload[section.fields[-1]] = text
    return problems


def _texts(blocks: list[Block]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if block.is_table:
            lines.extend(" ; ".join(cell.strip() for cell in row if cell.strip()) for row in block.rows)
        else:
            lines.append(block.text.replace("\t", " ").strip())
    return [line for line in lines if line]


def _column(columns: tuple[Column, ...], text: str) -> Column | None:
    key = normalised(text)
    key = _ALIASES.get(key, key)
    return next((c for c in columns if normalised(c.label) == key or normalised(c.key) == key), None)


def _pairs(blocks: list[Block], columns: tuple[Column, ...], problems: list[str]) -> list[tuple[Column, str]]:
    """« Libellé : valeur » lines and two-column table rows, in order, as (column, value)."""
    pairs: list[tuple[Column, str]] = []
    for block in blocks:
        lines = [(row[0], row[1]) for row in block.rows if len(row) >= 2] if block.is_table else [
            tuple(part.strip() for part in block.text.split(":", 1)) if ":" in block.text else (block.text, None)]
        for label, value in lines:
            column = _column(columns, label)
            if column is None:
                if value is not None and normalised(label) == normalised(RECORD_HEADER[0]):
                    continue  # the « Champ | Valeur » header
                problems.append(f"ligne « {_shown(label if value is None else f'{label} : {value}')} » non "
                                f"comprise (attendu : {', '.join(f'« {c.label} : … »' for c in columns)})")
                continue
            pairs.append((column, value or ""))
    return pairs


def _record(columns: tuple[Column, ...], blocks: list[Block], problems: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column, value in _pairs(blocks, columns, problems):
        if value.strip():
            _put(record, column.key, _value(column, value))
    return record


def _items(columns: tuple[Column, ...], blocks: list[Block], problems: list[str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    lines = [b for b in blocks if not b.is_table]
    for table in (b for b in blocks if b.is_table):
        header = [_column(columns, cell) for cell in table.rows[0]]
        if not any(column is not None and column.key == "nom" for column in header):
            problems.append(f"tableau sans en-tête reconnu (attendu : {' | '.join(c.label for c in columns)})")
            continue
        for row in table.rows[1:]:
            item: dict[str, Any] = {}
            for column, cell in zip(header, row, strict=False):
                if column is not None and cell.strip():
                    _put(item, column.key, _value(column, cell))
            if item:
                items.append(item)
    current: dict[str, Any] | None = None
    for column, value in _pairs(lines, columns, problems):
        if current is None or (column.key == "nom" and "nom" in current):
            current = {}
            items.append(current)
        if value.strip():
            _put(current, column.key, _value(column, value))
    return [item for item in items if item]


def _put(target: dict[str, Any], key: str, value: str) -> None:
    head, _, rest = key.partition(".")
    if rest:
        _put(target.setdefault(head, {}), rest, value)
    else:
        target[head] = value


def _value(column: Column, text: str) -> str:
    value = " ".join(text.split())
    if column.key == "type":
        kinds = {normalised(code_label(k.value)): k.value for k in [*LeadKind, *PartnerKind]}
        kinds.update({normalised(k.value): k.value for k in [*LeadKind, *PartnerKind]})
        return kinds.get(normalised(value), value)
    return value


def _themes(lines: list[str]) -> tuple[list[str], list[str]]:
    """The themes checked (« ☒ Mobilité », « X Habitat », « [x] Alimentation », or one line « Thèmes :
    mobilité, habitat »), and the other lines."""
    names = {normalised(text): theme.value for theme, text in THEME_BOX_LABELS.items()}
    names.update({normalised(text): theme.value for theme, text in THEME_LABELS.items()})
    names.update({normalised(theme.value): theme.value for theme in Theme})
    chosen: list[str] = []
    rest: list[str] = []
    for line in lines:
        label, _, value = line.partition(":")
        if value and _ALIASES.get(normalised(label), normalised(label)) == "themes":
            chosen.extend(names.get(normalised(part), part.strip())
                          for part in re.split(r"[,;]| et ", value) if part.strip())
            continue
        match = _BOX.match(line)
        theme = names.get(normalised(match.group(5))) if match and match.group(1) else None
        if theme is None:
            rest.append(line)
        elif (match.group(2) or match.group(3) or match.group(4) or "") in _CHECKED:  # type: ignore[union-attr]
            chosen.append(theme)
    return list(dict.fromkeys(chosen)), rest


def _shown(text: str) -> str:
    flat = visible(" ".join(text.split()))
    return flat if len(flat) <= 60 else flat[:59] + "…"
