"""The application form (the call's annex) as a word-processor document: generated from the form's
one definition (`models.forms.SECTIONS`), and read back, once filled in Word or LibreOffice, into
the same application model.

Reading never hands the file to python-docx or odfpy: the archive is inflated under bounds and
checked for macros (`container.py`), its body XML parsed by defusedxml into a neutral outline
(`outline.py`), which one interpreter maps to the form (`interpret.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from documents.blank import blank_annex
from documents.container import open_document
from documents.docx_writer import write_docx
from documents.interpret import ABSENT, interpret
from documents.odt_writer import write_odt
from documents.outline import outline
from models.errors import InvalidInput
from models.forms import SECTIONS, ApplicationForm, section_problems
from models.programme import ProgrammeDefinition
from models.text import visible

ATTACHMENT_FIELDS = ("formulaire", "documents_complementaires")


def annex_docx(definition: ProgrammeDefinition, answers: Mapping[str, Any] | None = None) -> bytes:
    """The blank annex of this programme's call as a .docx (bytes): each section with its title as the
    form shows it, its instruction and its line guidance, in a structure `read_annex` reads back.
    With `answers` (an application's form payload, `ApplicationForm.model_dump(mode="json")`), the
    annex filled with them: `read_annex` gives them back. The same bytes for the same definition and
    answers (fixed dates and properties); a few milliseconds."""
    return write_docx(blank_annex(definition, answers))


def annex_odt(definition: ProgrammeDefinition, answers: Mapping[str, Any] | None = None) -> bytes:
    """The same annex as an OpenDocument text (.odt, bytes), blank or filled, deterministic too."""
    return write_odt(blank_annex(definition, answers))


def read_annex(filename: str, data: bytes) -> dict[str, Any]:
    """The application's fields read from a filled annex (`data`: a .docx or .odt; a .doc is converted
    with LibreOffice headless where installed): a payload for `models.forms.ApplicationForm` without
    its attachment lists (`formulaire`, `documents_complementaires`), which the caller adds from the
    files it received. Raises `models.errors.InvalidInput` (French, every problem at once, each named
    by its section's title as the form shows it) for a document that is not such an annex, is hostile
    (macros, zip bomb, XML entities) or cannot be read. The type is told by content, not by name."""
    name = visible(PurePosixPath(filename.replace("\\", "/")).name)[:120] or "sans nom"
    try:
        blocks = outline(open_document(data))
    except InvalidInput as exc:
        raise InvalidInput(f"Formulaire {name} refusé : {exc.message}.") from None
    payload, problems = interpret(blocks)
    if sum(p.endswith(ABSENT) for p in problems) == len(SECTIONS):
        raise InvalidInput(f"Formulaire {name} refusé : ce document n'est pas le formulaire de candidature de "
                           "l'appel (aucune de ses rubriques n'y figure).", problems)
    try:
        ApplicationForm.model_validate({key: value for key, value in payload.items()
                                        if key not in ATTACHMENT_FIELDS})
    except ValidationError as exc:
        reported = {p.split(" : ", 1)[0] for p in problems if p.endswith(ABSENT)}
        problems.extend(p for p in section_problems(exc) if p.split(" : ", 1)[0] not in reported)
    if problems:
        raise InvalidInput(f"Formulaire {name} refusé : {len(problems)} problème(s).", problems)
    return payload
