"""Reading users' files: UTF-8 text, then YAML or JSON, refused in French when broken."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from models.errors import InvalidInput, yaml_problem


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so that pydantic reads them (and their zone)."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


MAX_TEXT_FILE = 2 * 1024 * 1024
"""A programme, an application or a score sheet is text: 2 MiB is far beyond any real one."""


def read_text_file(path: Path, what: str) -> str:
    """Read a user's file as UTF-8 text, refusing in French what is not."""
    if not path.exists():
        raise InvalidInput(f"Le fichier {what} {path} n'existe pas.")
    if path.is_dir():
        raise InvalidInput(f"{path} est un dossier, pas un fichier {what}.")
    if path.stat().st_size > MAX_TEXT_FILE:
        raise InvalidInput(f"Le fichier {what} {path} est trop volumineux ({path.stat().st_size // 1024} Ko ; "
                           f"limite {MAX_TEXT_FILE // 1024} Ko) : les pièces jointes se déposent à part.")
    data = path.read_bytes()
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
    """Parse YAML (JSON is YAML too, but is read as JSON for exact error positions)."""
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
