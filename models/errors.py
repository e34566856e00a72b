"""Errors users read: French sentences naming the field and, for files, the line."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


class TransitionsError(Exception):
    """A refusal explained to the user in French; the CLI prints it and exits non-zero."""

    exit_code = 1

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class InvalidInput(TransitionsError):
    """The input (file, option, value) is wrong; nothing was changed."""

    exit_code = 2


class NotFound(TransitionsError):
    exit_code = 3


class Unavailable(TransitionsError):
    """A service the command needs (the database, a server) cannot be reached; retry later."""

    exit_code = 5


class Refused(TransitionsError):
    """The input is well formed but the programme's rules refuse it (deadline, state)."""

    exit_code = 4


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
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        if message.startswith("value is not a valid email address") or "@-sign" in message:
            message = _email_problem(message)
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


def _email_problem(message: str) -> str:
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


def french_errors(exc: ValidationError, lines: dict[tuple[Any, ...], int] | None = None) -> list[str]:
    """One French line per problem: `chemin (ligne N) : message`."""
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
        where = field_path(loc)
        line = _nearest_line(lines, loc) if lines else None
        suffix = f" (ligne {line})" if line else ""
        out.append(f"{where}{suffix} : {describe(error)}")
    return out


def _nearest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for size in range(len(loc), -1, -1):
        if loc[:size] in lines:
            return lines[loc[:size]]
    return None


def yaml_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Map each path of a YAML document to its 1-based line, to point users at their mistake."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, key.value))
                lines[(*path, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    if root is not None:
        walk(root, ())
    return lines


def yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
    return f"le YAML est mal formé{where}"


_OS_REASONS = {
    errno.ENOENT: "le dossier n'existe pas",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EEXIST: "un fichier de ce nom existe déjà",
}


def os_reason(exc: OSError) -> str:
    """Why the system refused a file operation, in French."""
    return _OS_REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)


def write_text(path: Path, text: str) -> None:
    """Write a file for the user, refusing in French when the system does."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None
