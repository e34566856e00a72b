"""Reading a programme's files (`programmes/<slug>.yaml`, its register, its template overrides)
into a `ProgrammeBundle` the domain stores in the database."""

from __future__ import annotations

from pathlib import Path

from models.context import ProgrammeBundle
from models.errors import InvalidInput
from models.programme import ProgrammeDefinition
from notifications.render import OVERRIDABLE, check_overrides
from transitions.userfiles import MAX_TEXT_FILE, load_model, read_text_file


def load_programme(path: Path) -> ProgrammeBundle:
    """Read and validate a programme file with its register and template overrides.

    Both are looked up relative to the programme file; the templates must stay inside the
    programme's folder, the register inside that folder's parent (where `data/` sits beside
    `programmes/`): no absolute path or symbolic link leads elsewhere. Raises InvalidInput.
    """
    definition, _ = load_model(path, ProgrammeDefinition, "de programme", refusal=f"Programme {path.name} refusé")
    folder = path.resolve().parent
    register = _inside(folder, definition.call.territory.register_file, path.name, "call.territory.register_file",
                       root=folder.parent)
    if not register.is_file():
        raise InvalidInput(f"Programme {path.name} refusé : call.territory.register_file désigne "
                           f"« {definition.call.territory.register_file} », fichier introuvable.")
    register_csv = read_text_file(register, "de registre")
    templates: dict[str, str] = {}
    if definition.templates_dir is not None:
        overrides = _inside(folder, definition.templates_dir, path.name, "templates_dir")
        if not overrides.is_dir():
            raise InvalidInput(f"Programme {path.name} refusé : templates_dir désigne "
                               f"« {definition.templates_dir} », dossier introuvable.")
        templates = _read_templates(overrides, path.name)
    return ProgrammeBundle(definition=definition, source=path.name, register_name=register.name,
                           register_csv=register_csv, templates=templates)


def _inside(folder: Path, relative: str, name: str, field: str, root: Path | None = None) -> Path:
    """`relative` resolved against `folder`, refused if it leads outside `root` (default: `folder`)."""
    target = (folder / relative).resolve()
    if not target.is_relative_to(root or folder):
        where = "du dossier du programme" if root is None else f"de {(root or folder).name}/"
        raise InvalidInput(f"Programme {name} refusé : {field} doit désigner un chemin à l'intérieur {where}.")
    return target


def _read_templates(folder: Path, name: str) -> dict[str, str]:
    problems: list[str] = []
    templates: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name not in OVERRIDABLE:
            templates[entry.name] = ""  # named as unknown by check_overrides, in order
            continue
        if entry.is_symlink() or not entry.is_file() or entry.stat().st_size > MAX_TEXT_FILE:
            problems.append(f"{entry.name} : doit être un fichier ordinaire de moins de {MAX_TEXT_FILE // 1024} Ko")
            continue
        try:
            templates[entry.name] = entry.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{entry.name} : le fichier n'est pas encodé en UTF-8")
    problems += check_overrides(templates)
    if problems:
        raise InvalidInput(f"Programme {name} refusé : modèles d'avis invalides dans {folder.name}.", problems)
    return templates
