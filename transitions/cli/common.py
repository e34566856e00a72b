"""What every `transitions` command shares: the Typer app, options, instants, French errors."""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape as markup_escape

from config.settings import get_settings
from models.errors import InvalidInput, NotFound, Refused, TransitionsError, Unavailable
from models.text import visible
from models.wording import os_reason

if TYPE_CHECKING:
    from models.context import ProgrammeContext
    from models.stages import StageName

app = typer.Typer(help="Transitions : le dispositif du Cerdd, de l'appel à candidature à la fin des 12 mois.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

AtOption = Annotated[str | None, typer.Option(
    "--at", help="Instant ISO 8601 ou date française (12/06/2015 14h30), heure de Paris sans fuseau. "
             "Par défaut : maintenant.")]
ProgrammeOption = Annotated[str | None, typer.Option("--programme", help="Identifiant du programme.")]
ByOption = Annotated[str | None, typer.Option("--by", help="Qui fait l'opération (journal d'audit) ; par défaut "
                                              "l'utilisateur du système.")]


def cli_actor(by: str | None = None) -> str:
    """Who ran a command, for the audit log: `cli:` and `--by`, or the system user (issue 23: every act
    audited with who did it)."""
    import getpass

    from models.text import require_line

    if by is not None:
        return "cli:" + require_line(by, "--by", max_length=120)
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli"
MAX_COUNT = 1_000_000
"""The largest number an integer option or a notice number accepts."""


def escape(text: str) -> str:
    """Text from a person or a file, safe to print: no rich markup, no terminal control sequence."""
    return markup_escape(visible(text))


_saved: ContextVar[str | None] = ContextVar("saved", default=None)


def saved(what: str) -> None:
    """Say what the current command has already stored for good, so that an internal error later
    on tells the truth (e.g. « la candidature est enregistrée, … »)."""
    _saved.set(what)


EXIT_CODES: dict[type[TransitionsError], int] = {InvalidInput: 2, NotFound: 3, Refused: 4, Unavailable: 5}
"""The exit code of each refusal (README, « Exit codes »); 70 is an internal error."""


def exit_code(exc: TransitionsError) -> int:
    return next((code for kind, code in EXIT_CODES.items() if isinstance(exc, kind)), 1)


F = TypeVar("F", bound=Callable[..., Any])


def command(typer_app: typer.Typer, name: str | None = None, **options: Any) -> Callable[[F], F]:
    """Register a command on `typer_app`, its body guarded: refusals become a French message and
    their exit code, never a traceback (see `guarded`). Commands import heavy modules in their
    body, so that `--help` and light commands start fast."""

    def register(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            return guarded(lambda: function(*args, **kwargs))

        typer_app.command(name, **options)(run)
        return function

    return register


def guarded(action: Callable[[], T]) -> T:
    """Run a command body: a refusal becomes a French message and its exit code, never a traceback."""
    token = _saved.set(None)
    try:
        try:
            return action()
        except Exception as exc:
            raise translate(exc) from exc
    except TransitionsError as exc:
        err.print(f"[bold red]Erreur :[/] {escape(exc.message)}", highlight=False)
        for line in exc.details:
            err.print(f"  - {escape(line)}", highlight=False)
        raise typer.Exit(exit_code(exc)) from None
    except KeyboardInterrupt:
        err.print("Interrompu : les changements en cours ont été annulés.")
        raise typer.Exit(130) from None
    except Exception as exc:  # a bug: keep the details in a log, tell the user in French, on one line
        log = _log_internal_error()
        where = f"détails dans {log}" if log else "le journal d'erreurs n'a pas pu être écrit"
        done = _saved.get()
        state = (f"{done[:1].upper()}{done[1:]}" if done
                 else "Rien n'a été enregistré de l'opération en cours")
        err.print(f"[bold red]Erreur interne inattendue[/] ({type(exc).__name__}). {escape(state)} ; {where}.",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(70) from None
    finally:
        _saved.reset(token)


def _log_internal_error() -> Path | None:
    """Append the current exception's traceback to the error log in the data directory."""
    try:
        log = get_settings().error_log
        log.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log, encoding="utf-8")
    except Exception:  # the settings or the folder are the problem: nowhere to write
        return None
    logger = logging.getLogger("transitions.erreurs")
    logger.propagate = False  # to the log file only: Prefect's console handler would print the traceback
    logger.addHandler(handler)
    try:
        logger.exception("unexpected error")
    finally:
        logger.removeHandler(handler)
        handler.close()
    return log


def translate(exc: Exception) -> Exception:
    """Environment problems a user can fix, told in French (a full disk, the database out of reach:
    `models.failures.told`); anything else is left as it is."""
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError

    from models.failures import told
    from transitions.userfiles import french_errors

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        problems = [(where.upper() + " : " if where != "(racine)" else "") + what  # a rule across settings
                    for where, what in (p.split(" : ", 1) for p in french_errors(exc))]
        return InvalidInput("Réglages invalides (variables d'environnement ou .env).", problems)
    if isinstance(exc, ArgumentError):
        return InvalidInput("DATABASE_URL n'est pas une adresse de base de données valide "
                            "(exemples : sqlite:///var/transitions.db, postgresql+psycopg://hôte/base).")
    if isinstance(exc, RuntimeError) and "ephemeral Prefect API server" in str(exc):
        import os

        seconds = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "?")
        return Unavailable(f"Le serveur Prefect temporaire n'a pas démarré dans le délai permis ({seconds} s) : "
                           "réessayez, augmentez PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ou indiquez un "
                           "serveur Prefect avec PREFECT_API_URL.")
    return told(exc, database_url=_database_url()) or exc


def _database_url() -> str | None:
    """The settings' database, to name its folder when its disk is full (None if they are the problem)."""
    try:
        return get_settings().database_url
    except Exception:
        return None


def instant(text: str | None, option: str = "--at") -> datetime:
    """The instant an option names (`models.clock.parse_instant`; a day alone is 0h00), now without it."""
    from models.clock import InstantError, parse_instant

    if text is None:
        return datetime.now(UTC)
    try:
        return parse_instant(text)
    except InstantError as exc:
        raise InvalidInput(f"{option} : {exc}.") from None


def due_instant(text: str, option: str) -> datetime:
    """A due date an option names (`models.clock.parse_due`): a day alone ends at 18h00, as on the portal."""
    from models.clock import InstantError, parse_due

    try:
        return parse_due(text)
    except InstantError as exc:
        raise InvalidInput(f"{option} : {exc}.") from None


def line_option(value: str, option: str) -> str:
    """A one-line text option (a name, an organisation), checked before anything is looked up."""
    from models.text import require_line

    return require_line(value, option)


def paris_text(value: datetime) -> str:
    from models.clock import format_paris

    return format_paris(value)


def changes_text(changed: dict[StageName, int], sent: int) -> str:
    """A tick's outcome in French: each stage that did something by its French name and its count of
    changes (« relances de la charte (16), phases et jalons (1) »), or « aucune étape à jouer », then
    the notices sent. Stage names come from `models.stages.AGENDA`."""
    from models.stages import AGENDA

    stages = ", ".join(f"{AGENDA.get(key, key)} ({count})" for key, count in changed.items()) or "aucune étape à jouer"
    return f"{stages} ; {sent} avis envoyé(s)"


@contextmanager
def programme_ctx(programme: str | None, *, lock: bool = False) -> Iterator[ProgrammeContext]:
    """The programme (named, or the only one) in one transaction, the schema brought up to date first;
    with `lock`, held until the transaction ends (`load_ctx`): a second command waits its turn."""
    from flows.events import bookmark, publish_since
    from models.context import load_ctx
    from models.db import session_scope
    from notifications.render import portal_linker, render_notice

    url = database()
    before = bookmark()
    with session_scope(url) as session:
        yield load_ctx(session, programme, renderer=render_notice, linker=portal_linker(), lock=lock)
    publish_since(before, only_with_server=True)  # after the commit: a trigger may react at once


def database() -> str:
    """The app database's URL, its schema brought up to date (read cheaply when it already is)."""
    from models.db import migrate

    url = get_settings().database_url
    migrate(url)
    return url


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet shows as text: a leading =, +, - or @ would otherwise start a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_csv(path: Path, rows: list[dict[str, str]], empty_header: list[str]) -> None:
    """A CSV that opens right in a spreadsheet: UTF-8 with BOM, « ; » separators, inert formulas."""
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else empty_header, delimiter=";")
            writer.writeheader()
            writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None
