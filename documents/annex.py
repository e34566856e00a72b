"""The application form (the call's annex) as a word-processor document: generated from the form's
one definition (`models.forms`), and read back, once filled in Word or LibreOffice, into the same
application model. INTERFACE ONLY in this commit: the implementation lands with issue 22's annex work."""

from __future__ import annotations

from typing import Any

from models.programme import ProgrammeDefinition


def annex_docx(definition: ProgrammeDefinition) -> bytes:
    """The blank annex of this programme's call as a .docx (bytes): each section with its title as the
    form shows it, its instruction and its line guidance, in a structure `read_annex` reads back."""
    raise NotImplementedError


def annex_odt(definition: ProgrammeDefinition) -> bytes:
    """The same blank annex as an OpenDocument text (.odt, bytes)."""
    raise NotImplementedError


def read_annex(filename: str, data: bytes) -> dict[str, Any]:
    """The application's fields read from a filled annex (`data`: a .docx or .odt; a .doc is converted
    with LibreOffice headless where installed): a payload for `models.forms.ApplicationForm` without
    its attachment lists (`formulaire`, `documents_complementaires`), which the caller adds from the
    files it received. Raises `models.errors.InvalidInput` (French, every problem at once, each named
    by its section's title as the form shows it) for a document that is not such an annex, is hostile
    (macros, zip bomb, XML entities) or cannot be read."""
    raise NotImplementedError
