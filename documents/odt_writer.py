"""The blank annex as an OpenDocument text (.odt), written with odfpy: the same blocks as the
.docx (`documents.blank`), headings as `text:h`, lists and records as tables with a header row."""

from __future__ import annotations

import io
import re
import zipfile

from odf.element import Element
from odf.namespaces import nsdict
from odf.opendocument import OpenDocumentText
from odf.style import ParagraphProperties, Style, TableCellProperties, TableColumnProperties, TextProperties
from odf.table import Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import H, P

from documents.blank import Blank, table_rows, text_lines, theme_boxes
from documents.packaging import repack
from models.forms import SectionKind


def write_odt(blank: Blank) -> bytes:
    """The annex as .odt bytes, the same for the same `blank` (fixed dates, no generation instant)."""
    for namespace, prefix in nsdict.items():  # every known one declared, whatever ran before (see below)
        Element.namespaces.setdefault(namespace, prefix)
    document = OpenDocumentText()
    styles = _styles(document)
    body = document.text
    body.addElement(H(outlinelevel=1, stylename=styles["title"], text=blank.title))
    body.addElement(P(text=blank.subtitle))
    for note in blank.notes:
        body.addElement(P(stylename=styles["note"], text=note))
    for number, section in enumerate(blank.sections):
        body.addElement(H(outlinelevel=2, stylename=styles["heading"], text=section.heading))
        body.addElement(P(stylename=styles["note"], text=section.instruction))
        if section.kind in (SectionKind.RECORD, SectionKind.PEOPLE, SectionKind.PARTNERS):
            body.addElement(_table(f"Rubrique{number + 1}", table_rows(section, blank.answers), styles))
        for box in theme_boxes(section, blank.answers):
            body.addElement(P(text=box))
        if section.kind in (SectionKind.LINE, SectionKind.TEXT):
            for line in text_lines(section, blank.answers):
                body.addElement(P(text=line))
    for line in blank.closing:
        body.addElement(P(stylename=styles["small"], text=line))
    buffer = io.BytesIO()
    document.write(buffer)
    return repack(_sorted_namespaces(buffer.getvalue()), first_stored="mimetype")


_ROOT = re.compile(rb"<(office:[a-z-]+|manifest:manifest)((?:\s+[^\s=>]+=\"[^\"]*\")*)\s*>")
_NAMESPACE = re.compile(rb'\s+xmlns:[a-z0-9-]+="[^"]*"')


def _sorted_namespaces(data: bytes) -> bytes:
    """odfpy declares on each root element every namespace the process has used so far, in the order
    it met them (a class-level dict): all are declared (`write_odt`) and sorted here, so that the bytes
    do not depend on what ran before in the process."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info, content in members:
            if info.filename.endswith(".xml"):
                content = _ROOT.sub(_sort_root, content, count=1)
            target.writestr(info, content)
    return buffer.getvalue()


def _sort_root(match: re.Match[bytes]) -> bytes:
    attributes = match.group(2)
    declared = sorted(set(_NAMESPACE.findall(attributes)))
    others = _NAMESPACE.sub(b"", attributes)
    return b"<" + match.group(1) + b"".join(declared) + others + b">"


def _styles(document: OpenDocumentText) -> dict[str, Style]:
    def add(style: Style, automatic: bool = False) -> Style:
        (document.automaticstyles if automatic else document.styles).addElement(style)
        return style

    title = Style(name="Titre du formulaire", family="paragraph")
    title.addElement(TextProperties(fontsize="18pt", fontweight="bold"))
    heading = Style(name="Titre de rubrique", family="paragraph")
    heading.addElement(TextProperties(fontsize="13pt", fontweight="bold"))
    heading.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.1cm", keepwithnext="always"))
    note = Style(name="Consigne", family="paragraph")
    note.addElement(TextProperties(fontstyle="italic"))
    small = Style(name="Mention", family="paragraph")
    small.addElement(TextProperties(fontsize="9pt"))
    header = Style(name="EnTete", family="paragraph")
    header.addElement(TextProperties(fontweight="bold"))
    cell = Style(name="Cellule", family="table-cell")
    cell.addElement(TableCellProperties(border="0.5pt solid #000000", padding="0.1cm"))
    column = Style(name="Colonne", family="table-column")
    column.addElement(TableColumnProperties(useoptimalcolumnwidth="true"))
    return {"title": add(title), "heading": add(heading), "note": add(note), "small": add(small),
            "header": add(header), "cell": add(cell, True), "column": add(column, True)}


def _table(name: str, rows: list[list[str]], styles: dict[str, Style]) -> Table:
    table = Table(name=name)
    table.addElement(TableColumn(numbercolumnsrepeated=len(rows[0]), stylename=styles["column"]))
    head = TableHeaderRows()
    table.addElement(head)
    for index, values in enumerate(rows):
        row = TableRow()
        for value in values:
            cell = TableCell(valuetype="string", stylename=styles["cell"])
            cell.addElement(P(stylename=styles["header"] if index == 0 else None, text=value) if index == 0
                            else P(text=value))
            row.addElement(cell)
        (head if index == 0 else table).addElement(row)
    return table
