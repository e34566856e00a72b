"""Filling the generated blank annex as a person would, with python-docx and with odfpy (never with
the product's own writers), and LibreOffice conversions, for the annex tests."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import yaml
from docx import Document
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph
from odf import teletype
from odf.opendocument import load
from odf.table import TableCell, TableRow
from odf.text import P

from models.forms import SECTIONS, THEME_BOX_LABELS, Section, SectionKind, Theme
from models.tables import label as code_label
from tests.conftest import EXAMPLES

ARRAS = EXAMPLES / "candidature-cu-arras.yaml"


def arras_payload() -> dict[str, Any]:
    """The Arras example's form without its attachment lists."""
    payload = yaml.safe_load(ARRAS.read_text(encoding="utf-8"))
    payload.pop("formulaire")
    payload.pop("documents_complementaires")
    return payload


def _flat(item: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": str(v) for k, v in value.items()})
        else:
            out[key] = code_label(value) if key == "type" else str(value)
    return out


def _rows(section: Section, payload: dict[str, Any]) -> list[list[str]]:
    """The table's rows for a section, header excluded (a record: its values in the rows' order)."""
    value = payload[section.fields[0]]
    if section.kind is SectionKind.RECORD:
        flat = _flat(value)
        return [[flat.get(column.key, "")] for column in section.columns]
    return [[_flat(item).get(column.key, "") for column in section.columns] for item in value]


def _lines(section: Section, payload: dict[str, Any]) -> list[str]:
    return str(payload[section.fields[-1]]).strip().splitlines()


def _themes(payload: dict[str, Any]) -> list[str]:
    return [THEME_BOX_LABELS[Theme(code)] for code in payload["themes"]]


def fill_docx(blank: bytes, payload: dict[str, Any]) -> bytes:
    """The blank .docx filled with `payload` through python-docx: table cells typed, rows added,
    boxes ticked (☒), text typed as paragraphs where the empty one stands."""
    document = Document(io.BytesIO(blank))
    headings = {section.heading: section for section in SECTIONS}
    current: Section | None = None
    for block in list(document.iter_inner_content()):
        if isinstance(block, Paragraph):
            if block.text in headings:
                current = headings[block.text]
            elif current is not None and block.text.startswith("☐ ") and block.text[2:] in _themes(payload):
                block.text = "☒ " + block.text[2:]
            elif current is not None and block.text == "" and current.kind in (SectionKind.LINE, SectionKind.TEXT):
                for line in _lines(current, payload):
                    block.insert_paragraph_before(line)
        elif isinstance(block, DocxTable) and current is not None:
            _fill_docx_table(block, current, _rows(current, payload))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _fill_docx_table(table: DocxTable, section: Section, rows: list[list[str]]) -> None:
    if section.kind is SectionKind.RECORD:
        for row, (value,) in zip(table.rows[1:], rows, strict=True):
            row.cells[1].text = value
        return
    while len(table.rows) - 1 < len(rows):
        table.add_row()
    for row, values in zip(table.rows[1:], rows, strict=False):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value


def fill_odt(blank: bytes, payload: dict[str, Any]) -> bytes:
    """The blank .odt filled with `payload` through odfpy, as `fill_docx` does."""
    document = load(io.BytesIO(blank))
    headings = {section.heading: section for section in SECTIONS}
    current: Section | None = None
    body = document.text
    for element in list(body.childNodes):
        text = teletype.extractText(element) if element.qname[1] in ("h", "p") else ""
        if element.qname[1] == "h" and text in headings:
            current = headings[text]
        elif element.qname[1] == "p" and current is not None:
            if text.startswith("☐ ") and text[2:] in _themes(payload):
                body.insertBefore(P(text="☒ " + text[2:]), element)  # odfpy removes elements, not text
                body.removeChild(element)
            elif text == "" and current.kind in (SectionKind.LINE, SectionKind.TEXT):
                for line in _lines(current, payload):
                    body.insertBefore(P(text=line), element)
        elif element.qname[1] == "table" and current is not None:
            _fill_odt_table(element, current, _rows(current, payload))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def _fill_odt_table(table: Any, section: Section, rows: list[list[str]]) -> None:
    body_rows = [row for row in table.childNodes if row.qname[1] == "table-row"]
    if section.kind is SectionKind.RECORD:
        for row, (value,) in zip(body_rows, rows, strict=True):
            _set_cell(row.getElementsByType(TableCell)[1], value)
        return
    while len(body_rows) < len(rows):
        row = TableRow()
        for _ in section.columns:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=""))
            row.addElement(cell)
        table.addElement(row)
        body_rows.append(row)
    for row, values in zip(body_rows, rows, strict=False):
        for cell, value in zip(row.getElementsByType(TableCell), values, strict=True):
            _set_cell(cell, value)


def _set_cell(cell: Any, value: str) -> None:
    for child in list(cell.childNodes):
        cell.removeChild(child)
    cell.addElement(P(text=value))


def hand_built_docx(titles: list[str] | None = None, *, drop: tuple[str, ...] = ()) -> bytes:
    """A .docx typed by hand from the 2015 PDF's text: its headings as plain paragraphs (numbered,
    with their colons), « Libellé : valeur » lines, no table; the sections whose key is in `drop` left
    out."""
    payload = arras_payload()
    document = Document()
    document.add_paragraph("Formulaire de candidature pour bénéficier du dispositif d'accompagnement du Cerdd")
    for number, section in enumerate(SECTIONS, start=1):
        if section.key in drop:
            continue
        document.add_paragraph(f"{number}. {section.heading.replace(chr(39), chr(0x2019))} :")
        if section.kind is SectionKind.RECORD:
            for column, (value,) in zip(section.columns, _rows(section, payload), strict=True):
                document.add_paragraph(f"{column.label} : {value}")
        elif section.kind in (SectionKind.PEOPLE, SectionKind.PARTNERS):
            for values in _rows(section, payload):
                for column, value in zip(section.columns, values, strict=True):
                    if value:
                        document.add_paragraph(f"{column.label} : {value}")
        else:
            if "themes" in section.fields:
                document.add_paragraph("Thèmes : " + ", ".join(_themes(payload)))
            for line in _lines(section, payload):
                document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def libreoffice_convert(soffice: str, source: Path, target: str, profile: Path) -> Path:
    """`source` converted by LibreOffice headless to the format `target` (« odt », « doc »), beside it."""
    out = source.parent / target
    out.mkdir(exist_ok=True)
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", target, "--outdir", str(out), str(source)],
                   check=True, timeout=240, stdin=subprocess.DEVNULL, capture_output=True)
    return out / f"{source.stem}.{target}"

