"""Reading a programme's files (`programmes/<slug>.yaml`, its register, its template overrides)
into a `ProgrammeBundle` the domain stores in the database."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from models.context import ProgrammeBundle
from models.errors import InvalidInput
from models.programme import ProgrammeDefinition, renamed_templates, renamed_words, template_name
from models.register import read_register
from models.text import visible
from models.wording import counted, os_reason
from notifications.render import OVERRIDABLE, check_overrides
from transitions.userfiles import MAX_TEXT_FILE, load_model, parse_document, read_confined


def load_programme(path: Path) -> ProgrammeBundle:
    """Read and validate a programme file with its register and template overrides.

    Both are looked up relative to the programme file; the templates must stay inside the
    programme's folder, the register inside that folder's parent (where `data/` sits beside
    `programmes/`): no absolute path or symbolic link leads elsewhere. Raises InvalidInput.
    Words of earlier versions still accepted (`models.programme.RENAMED_KEYS`, renamed notice kinds,
    in the file and in its template overrides: `renamed_templates`) come back as the bundle's
    `warnings`, for the caller to show.
    """
    try:
        definition, text = load_model(path, ProgrammeDefinition, "de programme",
                                      refusal=f"Programme {path.name} refusé")
    except InvalidInput as exc:
        if not exc.details:
            raise
        raise InvalidInput(f"Programme {path.name} refusé : le programme compte "
                           f"{counted(len(exc.details), 'problème')}.", exc.details) from None
    warnings = tuple(f"Programme {path.name} : {line}." for line in renamed_words(parse_document(text, path.name,
                                                                                                 "de programme")[0]))
    folder = Path(os.path.realpath(path)).parent
    register_file = definition.call.territory.register_file
    data = read_confined(folder.parent, register_file, MAX_TEXT_FILE * 8, base=folder)
    if data is None or len(data) > MAX_TEXT_FILE * 8:
        raise InvalidInput(f"Programme {path.name} refusé : call.territory.register_file désigne "
                           f"« {visible(register_file)[:80]} », fichier introuvable ou inaccessible dans "
                           f"{folder.parent.name}/ (un fichier ordinaire de moins de {MAX_TEXT_FILE * 8 // 1024} Ko).")
    try:
        register_csv = data.decode("utf-8-sig")
        if "\x00" in register_csv:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "nul")
    except UnicodeDecodeError:
        raise InvalidInput(f"Programme {path.name} refusé : le registre {visible(register_file)[:80]} n'est pas "
                           "un texte UTF-8.") from None
    try:
        read_register(register_csv, tuple(definition.call.territory.departements))
    except InvalidInput as exc:
        raise InvalidInput(f"Programme {path.name} refusé : {exc.message}") from None
    register_name = PurePosixPath(register_file).name
    templates: dict[str, str] = {}
    if definition.templates_dir is not None:
        overrides = _inside(folder, definition.templates_dir)
        if overrides is None or not os.path.isdir(overrides):
            raise InvalidInput(f"Programme {path.name} refusé : templates_dir désigne "
                               f"« {visible(definition.templates_dir)[:80]} », dossier introuvable ou hors du "
                               "dossier du programme.")
        try:
            templates, renamed = _read_templates(overrides, path.name)
        except OSError as exc:
            raise InvalidInput(f"Programme {path.name} refusé : templates_dir illisible ({os_reason(exc)}).") from None
        warnings += tuple(f"Programme {path.name} : {line}." for line in renamed)
    return ProgrammeBundle(definition=definition, source=path.name, register_name=register_name,
                           register_csv=register_csv, templates=templates, warnings=warnings)


def _inside(folder: Path, relative: str) -> Path | None:
    """`relative` resolved against `folder`, or None if it leads outside it (or cannot be resolved)."""
    try:
        target = Path(os.path.realpath(folder / relative))
    except (OSError, ValueError):
        return None
    return target if target.is_relative_to(folder) else None


def _read_templates(folder: Path, name: str) -> tuple[dict[str, str], list[str]]:
    """The overrides in `folder` in today's words (`renamed_templates`), and the warnings for the
    words of earlier versions they still use."""
    problems: list[str] = []
    templates: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        if template_name(entry.name) not in OVERRIDABLE:
            templates[entry.name] = ""  # named as unknown by check_overrides, in order
            continue
        if entry.is_symlink() or not entry.is_file() or entry.stat().st_size > MAX_TEXT_FILE:
            problems.append(f"{entry.name} : doit être un fichier ordinaire de moins de {MAX_TEXT_FILE // 1024} Ko")
            continue
        try:
            templates[entry.name] = entry.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{entry.name} : le fichier n'est pas encodé en UTF-8")
    warnings: list[str] = []
    try:
        templates, warnings = renamed_templates(templates)
    except ValueError as exc:  # a template under both names: the old one is not checked as unknown
        problems.append(str(exc))
        templates = {each: source for each, source in templates.items() if template_name(each) == each}
    problems += check_overrides(templates)
    if problems:
        raise InvalidInput(f"Programme {name} refusé : modèles d'avis invalides dans {folder.name}.", problems)
    return templates, warnings
