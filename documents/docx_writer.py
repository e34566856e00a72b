"""The blank annex as a Word document (.docx), written with python-docx: a heading per section,
its instruction in italics, then a table with a header row for a record or a list, checkboxes for
the themes, empty paragraphs for free text."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Pt

from documents.blank import Blank, table_rows, text_lines, theme_boxes
from documents.packaging import FIXED_DATE, repack
from models.forms import SectionKind

FIXED_INSTANT = datetime(*FIXED_DATE, tzinfo=UTC)


def write_docx(blank: Blank) -> bytes:
    """The annex as .docx bytes, the same for the same `blank` (fixed core properties and dates)."""
    document = Document()
    document.add_heading(blank.title, level=0)
    document.add_paragraph(blank.subtitle)
    for note in blank.notes:
        document.add_paragraph().add_run(note).italic = True
    for section in blank.sections:
        document.add_heading(section.heading, level=1)
        document.add_paragraph().add_run(section.instruction).italic = True
        if section.kind in (SectionKind.RECORD, SectionKind.PEOPLE, SectionKind.PARTNERS):
            _table(document, table_rows(section, blank.answers))
        for box in theme_boxes(section, blank.answers):
            document.add_paragraph(box)
        if section.kind in (SectionKind.LINE, SectionKind.TEXT):
            for line in text_lines(section, blank.answers):
                document.add_paragraph(line)
    for line in blank.closing:
        document.add_paragraph().add_run(line).font.size = Pt(9)
    properties = document.core_properties
    properties.title = f"{blank.title} {blank.subtitle}"
    properties.author = properties.last_modified_by = "Cerdd"
    properties.created = properties.modified = FIXED_INSTANT
    properties.last_printed = FIXED_INSTANT
    properties.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return repack(buffer.getvalue())


def _table(document: DocxDocument, rows: list[list[str]]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    for cell in table.rows[0].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True
