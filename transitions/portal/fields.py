"""Reading what a form carries: text fields (checked, in French) and dates typed in Paris time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.clock import parse_instant
from models.errors import InvalidInput


def field(form: Any, name: str, *, multiline: bool = False) -> str:
    """The text of field `name` (empty when absent), stripped unless `multiline`; InvalidInput for a
    file, an over-long value or text that was not UTF-8."""
    value = form.get(name)
    if value is None:
        return ""
    shown = name.split("-", 1)[0]  # « commentaire », not « commentaire-12-portage »: what the page calls it
    if not isinstance(value, str):
        raise InvalidInput(f"Le champ « {shown} » attend du texte. Rien n'a été enregistré.")
    if len(value) > 10_000:
        raise InvalidInput(f"Le champ « {shown} » est trop long. Rien n'a été enregistré.")
    if "\ufffd" in value:  # what Starlette makes of bytes that are not UTF-8
        raise InvalidInput(f"Le champ « {shown} » contient des caractères illisibles (texte qui n'est pas en "
                           "UTF-8) : retapez-le. Rien n'a été enregistré.")
    return value if multiline else value.strip()


def paris_input(day: str, hour: str) -> datetime:
    """A date (and time) typed in a form, Paris time; InvalidInput in French otherwise."""
    try:
        return parse_instant(f"{day.strip()}T{(hour or '18:00').strip()}")
    except ValueError:
        raise InvalidInput("La date doit s'écrire AAAA-MM-JJ et l'heure HH:MM.") from None
