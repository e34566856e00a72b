"""Text people type: one line (names, roles, organisations) or several (motivations), never
control characters, bidirectional overrides or lone surrogates; and how to show it safely."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

from models.errors import InvalidInput

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SINGLE_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_MULTI_FORBIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_SHOWN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")


def _agreed(char: str) -> str:
    """« permis » agreed with `_describe`'s noun (« tabulation », « séquence » are feminine)."""
    return "permise" if char in "\t\x1b" else "permis"


def _describe(char: str) -> str:
    if char in "\r\n\u2028\u2029":
        return "retour à la ligne"
    if char == "\t":
        return "tabulation"
    if char == "\x00":
        return "caractère nul"
    if char == "\x1b":
        return "séquence d'échappement du terminal"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return "caractère d'inversion du sens d'écriture"
    if "\ud800" <= char <= "\udfff":
        return "caractère Unicode invalide"
    return "caractère de contrôle"


def single_line(value: str) -> str:
    """`value` if it holds no control character, line break or bidi override; a French ValueError
    otherwise. Other types are left to the field's own type check."""
    if not isinstance(value, str):
        return value
    found = _SINGLE_FORBIDDEN.search(value)
    if found:
        raise ValueError(f"{_describe(found.group())} non {_agreed(found.group())} (U+{ord(found.group()):04X}) : "
                         "une seule ligne de texte ordinaire est attendue")
    return value


def multi_line(value: str) -> str:
    """Text of several lines: line feeds and tabulations allowed (CRLF becomes LF), no other control."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    found = _MULTI_FORBIDDEN.search(value)
    if found:
        raise ValueError(f"{_describe(found.group())} non {_agreed(found.group())} (U+{ord(found.group()):04X})")
    return value


SingleLine = Annotated[str, BeforeValidator(single_line)]
"""One line of ordinary text: names, roles, organisations, signatories, titles, keys."""
MultiLine = Annotated[str, BeforeValidator(multi_line)]
"""Several lines of text (motivations, comments): LF and TAB allowed, no other control character."""


def visible(text: str) -> str:
    """`text` safe for a terminal: each control or bidi character shown as `\\xNN` / `\\uNNNN`
    (line feeds and tabulations kept), so nothing from an input file acts on the terminal."""
    return _SHOWN.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                      text)


def require_line(value: str, field: str, *, max_length: int = 300) -> str:
    """A single line typed for `field` (a CLI option, a web form's input), stripped; InvalidInput
    naming the field when it is empty, too long or holds a control character."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{field} : la valeur est vide.")
    if len(text) > max_length:
        raise InvalidInput(f"{field} : texte trop long ({len(text)} caractères ; limite {max_length}).")
    try:
        single_line(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} : {exc}.") from None
    return text


def require_text(value: str, field: str, *, max_length: int = 2000, required: bool = True) -> str:
    """Several lines typed for `field` (a reason, a list of names), CRLF made LF and stripped;
    InvalidInput naming the field and the character when it holds a control character or a bidi
    override, when it is longer than `max_length` characters (refused, never cut), or empty while
    `required`."""
    try:
        text = multi_line(value).strip()
    except ValueError as exc:
        raise InvalidInput(f"{field} : {exc}.") from None
    if required and not text:
        raise InvalidInput(f"{field} : la valeur est vide.")
    if len(text) > max_length:
        raise InvalidInput(f"{field} : texte trop long ({len(text)} caractères ; limite {max_length}).")
    return text
