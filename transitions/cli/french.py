"""French for the command line's own words: help panels, and usage errors (unknown command or
option, missing argument, bad value), which Typer writes in English."""

from __future__ import annotations

import re
from typing import Any

import typer

from models.text import visible

HELP_TEXT = "Affiche cette aide et quitte."

_PANELS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "DEFAULT_STRING": "[défaut : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "ABORTED_TEXT": "Interrompu.",
    "RICH_HELP": "Aide : [blue]{command_path} {help_option}[/]",
}

_VALUES = [
    (re.compile(r"^Input should be greater than or equal to (.*?)\.?$"), "la valeur doit être au moins {0}"),
    (re.compile(r"^Input should be less than or equal to (.*?)\.?$"), "la valeur doit être au plus {0}"),
    (re.compile(r"^Input should be greater than (.*?)\.?$"), "la valeur doit dépasser {0}"),
    (re.compile(r"^Input should be less than (.*?)\.?$"), "la valeur doit être inférieure à {0}"),
    (re.compile(r"^Input should be a valid integer.*$"), "un nombre entier est attendu"),
    (re.compile(r"^Input should be a valid number.*$"), "un nombre est attendu"),
    (re.compile(r"^'?(.*?)'? is not a valid integer\.?$"), "« {0} » n'est pas un nombre entier"),
    (re.compile(r"^'?(.*?)'? is not a valid float\.?$"), "« {0} » n'est pas un nombre"),
    (re.compile(r"^'?(.*?)'? is not a valid boolean.*$"), "« {0} » n'est pas un booléen (true ou false)"),
    (re.compile(r"^'?(.*?)'? is not one of (.*)\.?$"), "« {0} » n'est pas l'une des valeurs permises : {1}"),
    (re.compile(r"^(.*?) is not in the range (.*?)\.?$"), "{0} sort de l'intervalle permis {1}"),
    (re.compile(r"^'?(.*?)'? is not a valid (?:path|file|directory).*$"), "« {0} » n'est pas un chemin valide"),
]
_USAGE = [
    (re.compile(r"^Option '(.+?)' requires an argument\.?$"), "L'option {0} attend une valeur."),
    (re.compile(r"^Option '(.+?)' requires (\d+) arguments\.?$"), "L'option {0} attend {1} valeurs."),
    (re.compile(r"^Option '(.+?)' does not take a value\.?$"), "L'option {0} ne prend pas de valeur."),
    (re.compile(r"^Missing command\.?$"), "Commande manquante."),
    (re.compile(r"^No such command '(.*?)'\.(?: Did you mean '(.+?)'\?)?$", re.DOTALL), "Commande inconnue « {0} »."),
    (re.compile(r"^Got unexpected extra arguments? \((.*)\)$", re.DOTALL), "Argument(s) en trop : « {0} »."),
    (re.compile(r"^Got unexpected extra argument\(s\) \((.*)\)$", re.DOTALL), "Argument(s) en trop : « {0} »."),
]


_TYPES = {"str": "texte", "int": "entier", "float": "nombre", "path": "chemin", "datetime": "date-heure",
          "list": "liste", "bool": "oui|non", "range": "borné"}
_TYPE_WORD = re.compile(r"\b(" + "|".join(_TYPES) + r")\b", re.IGNORECASE)


def french_type(shown: str | None) -> str | None:
    """A parameter's type as the help shows it, in French: `<str>` → `<texte>`, `<int>` → `<entier>`,
    `<path>` → `<chemin>` (choices, which are values people type, are kept)."""
    if shown is None:
        return None
    return _TYPE_WORD.sub(lambda match: _TYPES[match.group(1).lower()], shown)


def _french_types(command: Any) -> None:
    for param in getattr(command, "params", []):
        original = getattr(param, "display_type_rich", None)
        if original is None:
            continue
        if getattr(param, "is_flag", False):  # a switch takes no value: no type to show
            param.display_type_rich = lambda ctx: None
        else:
            param.display_type_rich = lambda ctx, shown=original: french_type(shown(ctx=ctx))


def _rich_utils() -> Any:
    """Typer's help renderer, its panels' titles in French. Imported when help is shown, as Typer
    itself does: it loads rich's Markdown and traceback modules, which a command does not need."""
    import typer.rich_utils as rich_utils

    for name, text in _PANELS.items():
        setattr(rich_utils, name, text)
    return rich_utils


def _french_help(command: Any) -> None:
    original = getattr(command, "format_help", None)
    if original is None:
        return

    def format_help(ctx: Any, formatter: Any) -> Any:
        _rich_utils()
        return original(ctx, formatter)

    command.format_help = format_help


def frenchify(command: Any) -> Any:
    """Translate the help panels, every command's --help option and the parameters' types, in place."""
    _french_help(command)
    _french_types(command)
    original = getattr(command, "get_help_option", None)
    if original is not None:  # the option is built lazily, per command

        def french_help_option(ctx: Any) -> Any:
            option = original(ctx)
            if option is not None:
                option.help = HELP_TEXT
                option.display_type_rich = lambda ctx: None  # a switch: no « <bool> »
            return option

        command.get_help_option = french_help_option
    for sub in getattr(command, "commands", {}).values():
        frenchify(sub)
    return command


def usage_error(exc: Exception) -> str:
    """A usage error as a French sentence, with where to find help."""
    kind = type(exc).__name__
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    param = getattr(exc, "param", None)
    opts = list(getattr(param, "opts", None) or [])
    is_argument = getattr(param, "param_type_name", "") == "argument"
    param_name = str(getattr(param, "name", "") or "").upper() if is_argument or not opts else opts[0]
    if kind == "MissingParameter":
        what = "Argument obligatoire manquant" if is_argument else "Option obligatoire manquante"
        text = f"{what} : {param_name or 'un paramètre'}."
    elif kind == "NoSuchOption":
        text = f"Option inconnue : {visible(str(getattr(exc, 'option_name', '')))}."
        possibilities = getattr(exc, "possibilities", None)
        if possibilities:
            text += f" Vouliez-vous dire {' ou '.join(sorted(possibilities))} ?"
    elif kind == "BadParameter":
        hint = getattr(exc, "param_hint", None) or param_name or "un paramètre"
        raw = getattr(exc, "message", message)
        text = f"Valeur invalide pour {visible(str(hint))} : {_value(raw)}."
    else:
        text = "Commande mal formée."
        for pattern, french in _USAGE:
            if match := pattern.match(message.strip()):
                text = french.format(*(visible(g or "") for g in match.groups()))
                if pattern.pattern.startswith("^No such command") and match.group(2):
                    text += f" Vouliez-vous dire « {match.group(2)} » ?"
                break
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "transitions"
    return f"{text}\nAide : {path} --help"


def _value(message: str) -> str:
    for pattern, french in _VALUES:
        match = pattern.match(message.strip())
        if match:
            return french.format(*(visible(g)[:80] for g in match.groups()))
    return "valeur refusée"


def run(app: typer.Typer, argv: list[str] | None) -> int:
    """Run the app; usage errors are told in French. Returns the exit code."""
    from rich.console import Console
    from rich.markup import escape

    command = frenchify(typer.main.get_command(app))
    try:
        result = command.main(args=argv, prog_name="transitions", standalone_mode=False)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            _rich_utils().rich_format_error(exc)  # prints the help
            return 2
        if hasattr(exc, "exit_code") and hasattr(exc, "format_message"):
            try:
                text = usage_error(exc)
            except Exception:  # an unexpected shape of error: a French sentence, rather than a traceback
                text = "Commande mal formée.\nAide : transitions --help"
            Console(stderr=True).print(f"[bold red]Erreur :[/] {escape(text)}", highlight=False)
            return int(exc.exit_code) or 2
        if type(exc).__name__ == "Abort":
            Console(stderr=True).print("Interrompu.")
            return 1
        raise
    return result if isinstance(result, int) else 0
