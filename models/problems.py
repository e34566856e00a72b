"""What is wrong with a value people typed, in French: pydantic's validation errors turned into
sentences (« champ obligatoire manquant », « adresse électronique invalide : il manque le @ »).

The one translation every door uses: `transitions.userfiles.french_errors` (a file's problems with
their paths and lines) and `models.forms.section_problems` (the form's problems named by section).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "doit être du texte",
    "string_too_short": "ne doit pas être vide",
    "string_too_long": "texte trop long",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "float_type": "doit être un nombre",
    "finite_number": "doit être un nombre fini (ni nan ni inf)",
    "float_parsing": "doit être un nombre",
    "bool_type": "doit valoir true ou false",
    "bool_parsing": "doit valoir true ou false",
    "list_type": "doit être une liste",
    "dict_type": "doit être un ensemble de champs",
    "model_type": "doit être un ensemble de champs",
    "model_attributes_type": "doit être un ensemble de champs",
    "datetime_type": "doit être une date et heure",
    "datetime_parsing": "n'est pas une date et heure ISO 8601 valide",
    "datetime_from_date_parsing": "n'est pas une date et heure ISO 8601 valide",
    "date_type": "doit être une date",
    "date_parsing": "n'est pas une date ISO 8601 valide",
    "time_parsing": "n'est pas une heure valide (HH:MM)",
    "time_type": "doit être une heure (HH:MM)",
    "enum": "valeur non autorisée",
    "literal_error": "valeur non autorisée",
    "too_short": "pas assez d'éléments",
    "too_long": "trop d'éléments",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "greater_than": "valeur trop petite",
    "less_than": "valeur trop grande",
    "url_parsing": "n'est pas une adresse web valide",
    "string_pattern_mismatch": "format non permis (lettres minuscules, chiffres, tirets)",
    "tuple_type": "doit être une liste",
    "set_type": "doit être une liste",
    "json_invalid": "JSON invalide",
    "uuid_parsing": "n'est pas un identifiant valide",
    "date_from_datetime_inexact": "doit être une date sans heure",
    "time_delta_parsing": "n'est pas une durée valide",
}


def field_path(loc: Sequence[int | str]) -> str:
    """`("jury", "criteria", 2, "weight")` → `jury.criteria[2].weight`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(racine)"


def describe(error: Any) -> str:
    """One pydantic error (a dict of `ValidationError.errors()`) as a French phrase, without its place."""
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        if message.startswith("value is not a valid email address") or "@-sign" in message:
            message = email_problem(message)
    else:
        message = _MESSAGES.get(kind) or f"valeur invalide ({error['msg']})"
        ctx = error.get("ctx") or {}
        if kind in ("enum", "literal_error") and "expected" in ctx:
            message += f" (attendu : {str(ctx['expected']).replace(' or ', ' ou ')})"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            bound = next(iter(v for k, v in ctx.items()), None)
            message += f" (limite : {bound})"
        elif kind in ("string_too_long", "too_long", "too_short", "string_too_short"):
            limit = ctx.get("max_length", ctx.get("min_length"))
            if limit is not None:
                message += f" (limite : {limit})"
    return message


def email_problem(message: str) -> str:
    """email-validator's reasons, in French."""
    if "must have an @-sign" in message:
        why = "il manque le @"
    elif "should have a period" in message:
        why = "le domaine après le @ est incomplet (il manque un point)"
    elif "invalid characters" in message:
        why = "elle contient des caractères non permis"
    elif "before the @-sign" in message:
        why = "la partie avant le @ n'est pas valide"
    elif "after the @-sign" in message:
        why = "la partie après le @ n'est pas valide"
    else:
        why = "elle n'est pas bien formée"
    return f"adresse électronique invalide : {why}"
