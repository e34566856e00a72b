"""Reading what a form carries: text fields (checked, in French) and dates typed in Paris time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.clock import InstantError, parse_due
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


def paris_input(day: str, hour: str | None = None) -> datetime:
    """A due date typed in a form (`models.clock.parse_due`: ISO or French, Paris time; a day alone
    ends at 18h00, as on the command line), or that day at `hour` when the form has an hour field;
    InvalidInput in French naming what is wrong otherwise."""
    text = f"{day.strip()} {hour.strip()}" if hour and hour.strip() else day
    try:
        return parse_due(text)
    except InstantError as exc:
        raise InvalidInput(f"Date refusée : {exc}. Rien n'a été enregistré.") from None
