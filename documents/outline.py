"""A document's body as a neutral outline: paragraphs (headings marked) and tables of rows of cell
texts, in reading order, the same for a .docx (`word/document.xml`) and an .odt (`content.xml`).
The XML is parsed by defusedxml (no DTD, no entity, no external reference); only text is read:
drawings, text boxes, embedded objects, notes, comments and deleted revisions are left out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from documents.container import Body, Kind
from models.errors import InvalidInput

MAX_TEXT = 200_000
"""Characters of text in a filled annex: ten sections, the longest about 2,000 characters; far beyond."""
MAX_REPEAT = 50
"""An ODF cell or row repeated more times than this is read this many times (spreadsheet-like fills)."""

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


@dataclass(frozen=True)
class Block:
    """A paragraph (`rows` empty; `heading` when styled as one) or a table (`rows` of cell texts)."""

    text: str = ""
    heading: bool = False
    rows: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    @property
    def is_table(self) -> bool:
        return bool(self.rows)


def outline(body: Body) -> list[Block]:
    """The blocks of `body`, in order. InvalidInput (French) for XML that is malformed, declares a
    DTD or entities, or holds more than MAX_TEXT characters of text."""
    try:
        root = fromstring(body.xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InvalidInput("le document contient des déclarations XML interdites (DTD, entités) : "
                           "enregistrez-le à nouveau depuis Word ou LibreOffice") from None
    except (ParseError, ValueError, RecursionError):
        raise InvalidInput("le contenu du document est illisible (XML mal formé)") from None
    blocks = list(_docx_blocks(root) if body.kind is Kind.DOCX else _odt_blocks(root))
    size = sum(len(block.text) + sum(len(cell) for row in block.rows for cell in row) for block in blocks)
    if size > MAX_TEXT:
        raise InvalidInput(f"le document contient {size} caractères de texte (limite {MAX_TEXT})")
    return blocks


# --- Word (.docx) ---------------------------------------------------------------------------------------------


def _docx_blocks(root: Element) -> Iterator[Block]:
    body = root.find(f"{W}body")
    if body is None:
        raise InvalidInput("le document Word n'a pas de corps de texte")
    yield from _docx_children(body)


def _docx_children(parent: Element) -> Iterator[Block]:
    for child in parent:
        if child.tag == f"{W}p":
            yield Block(_docx_text(child), heading=_docx_heading(child))
        elif child.tag == f"{W}tbl":
            yield Block(rows=tuple(_docx_rows(child)))
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}smartTag"):
            yield from _docx_children(child)


def _docx_heading(paragraph: Element) -> bool:
    properties = paragraph.find(f"{W}pPr")
    if properties is None:
        return False
    style = properties.find(f"{W}pStyle")
    name = (style.get(f"{W}val") or "").lower() if style is not None else ""
    return name.startswith(("heading", "titre", "title")) or properties.find(f"{W}outlineLvl") is not None


def _docx_rows(table: Element) -> Iterator[tuple[str, ...]]:
    for child in table:
        if child.tag == f"{W}tr":
            yield tuple("\n".join(_cell_lines(cell)) for cell in _docx_cells(child))
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            yield from _docx_rows(child)


def _docx_cells(row: Element) -> Iterator[Element]:
    for child in row:
        if child.tag == f"{W}tc":
            yield child
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            yield from _docx_cells(child)


def _cell_lines(cell: Element) -> Iterator[str]:
    blocks = _docx_children(cell) if cell.tag == f"{W}tc" else _odt_children(cell)
    for block in blocks:
        if block.is_table:  # a table nested in a cell: its text, row by row
            yield from (" ".join(row) for row in block.rows)
        elif block.text.strip():
            yield block.text


def _docx_text(paragraph: Element) -> str:
    parts: list[str] = []
    stack = [paragraph]
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag == f"{W}t":
            parts.append(node.text or "")
        elif tag in (f"{W}tab", f"{W}ptab"):
            parts.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif tag == f"{W}noBreakHyphen":
            parts.append("-")
        elif tag in (MC_FALLBACK, f"{W}txbxContent", f"{W}del", f"{W}footnoteReference", f"{W}object"):
            continue
        else:
            stack.extend(reversed(list(node)))
    return "".join(parts)


# --- OpenDocument (.odt) --------------------------------------------------------------------------------------


def _odt_blocks(root: Element) -> Iterator[Block]:
    text = root.find(f"{OFFICE}body/{OFFICE}text")
    if text is None:
        raise InvalidInput("le document OpenDocument n'a pas de corps de texte")
    yield from _odt_children(text)


def _odt_children(parent: Element) -> Iterator[Block]:
    for child in parent:
        if child.tag in (f"{TEXT}p", f"{TEXT}h"):
            yield Block(_odt_text(child), heading=child.tag == f"{TEXT}h")
        elif child.tag == f"{TABLE}table":
            yield Block(rows=tuple(_odt_rows(child)))
        elif child.tag in (f"{TEXT}list", f"{TEXT}list-item", f"{TEXT}list-header", f"{TEXT}section"):
            yield from _odt_children(child)


def _odt_rows(table: Element) -> Iterator[tuple[str, ...]]:
    for child in table:
        if child.tag == f"{TABLE}table-row":
            cells: list[str] = []
            for cell in child:
                if cell.tag in (f"{TABLE}table-cell", f"{TABLE}covered-table-cell"):
                    text = "\n".join(_cell_lines(cell))
                    cells.extend([text] * _repeat(cell, "number-columns-repeated"))
            yield from [tuple(cells)] * _repeat(child, "number-rows-repeated")
        elif child.tag in (f"{TABLE}table-header-rows", f"{TABLE}table-rows", f"{TABLE}table-row-group"):
            yield from _odt_rows(child)


def _repeat(element: Element, attribute: str) -> int:
    value = element.get(f"{TABLE}{attribute}", "1")
    return min(int(value), MAX_REPEAT) if value.isdigit() and value != "0" else 1


_ODT_SKIPPED = {f"{TEXT}note", f"{OFFICE}annotation", f"{TEXT}tracked-changes",
                "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}frame"}


def _odt_text(element: Element) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{TEXT}s":
            count = child.get(f"{TEXT}c", "1")
            parts.append(" " * (min(int(count), 100) if count.isdigit() else 1))
        elif child.tag == f"{TEXT}tab":
            parts.append("\t")
        elif child.tag == f"{TEXT}line-break":
            parts.append("\n")
        elif child.tag not in _ODT_SKIPPED:
            parts.append(_odt_text(child))
        parts.append(child.tail or "")
    return "".join(parts)
