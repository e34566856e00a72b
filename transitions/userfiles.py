"""Reading people's files and telling them, in French, what is wrong with them.

One loader for every user file (applications, score sheets, programme files, demo scripts):
`load_model(path, Model, what)` reads bounded UTF-8 text, parses YAML or JSON and validates it,
and refuses with every problem at once, each with its field path and line. Writing a file for
a person (`write_text`) is refused the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.errors import InvalidInput
from models.wording import os_reason

M = TypeVar("M", bound=BaseModel)

MAX_TEXT_FILE = 2 * 1024 * 1024
"""A programme, an application or a score sheet is text: 2 MiB is far beyond any real one."""


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so that pydantic reads them (and their zone)."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_text_file(path: Path, what: str) -> str:
    """Read a user's file as UTF-8 text, refusing in French what is not (missing, a folder,
    too large, empty, binary, not UTF-8)."""
    try:
        if not path.exists():
            raise InvalidInput(f"Le fichier {what} {path} n'existe pas.")
        if path.is_dir():
            raise InvalidInput(f"{path} est un dossier, pas un fichier {what}.")
        size = path.stat().st_size
        if size > MAX_TEXT_FILE:
            raise InvalidInput(f"Le fichier {what} {path} est trop volumineux ({size // 1024} Ko ; "
                               f"limite {MAX_TEXT_FILE // 1024} Ko) : les pièces jointes se déposent à part.")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Le fichier {what} {path} est illisible : {os_reason(exc)}.") from None
    if not data.strip():
        raise InvalidInput(f"Le fichier {what} {path} est vide.")
    if b"\x00" in data:
        raise InvalidInput(f"Le fichier {what} {path} est un fichier binaire, pas du texte.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"Le fichier {what} {path} n'est pas encodé en UTF-8 (octet invalide en position "
            f"{exc.start}) : enregistrez-le en UTF-8."
        ) from None


def parse_mapping(text: str, name: str, what: str) -> dict[str, Any]:
    """Parse YAML, or JSON for a `.json` name (exact error positions); a mapping is required."""
    try:
        if name.lower().endswith(".json"):
            raw: Any = json.loads(text)
        else:
            raw = yaml.load(text, Loader=_TextDatesLoader)  # noqa: S506  (a SafeLoader subclass)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"Fichier {what} {name} refusé : le JSON est mal formé (ligne {exc.lineno}, colonne {exc.colno})."
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"Fichier {what} {name} refusé : {yaml_problem(exc)}.") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"Fichier {what} {name} refusé : le fichier doit décrire un ensemble de champs.")
    return raw


def load_model(path: Path, model: type[M], what: str, *, refusal: str | None = None) -> tuple[M, str]:
    """Read, parse and validate a user's file: the model and the file's text.

    Raises InvalidInput listing every problem (`chemin (ligne N) : message`); `refusal` is the
    message's first sentence (default: « Fichier <what> <name> refusé »)."""
    text = read_text_file(path, what)
    raw = parse_mapping(text, path.name, what)
    try:
        return model.model_validate(raw), text
    except ValidationError as exc:
        lines = None if path.name.lower().endswith(".json") else yaml_lines(text)
        problems = french_errors(exc, lines)
        head = refusal or f"Fichier {what} {path.name} refusé"
        raise InvalidInput(f"{head} : {len(problems)} problème(s).", problems) from None


def write_text(path: Path, text: str) -> None:
    """Write a file for the user, refusing in French when the system does."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None


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
