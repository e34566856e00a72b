"""The `transitions` command: French messages, explicit instants, no traceback for users."""

from __future__ import annotations

from typing import Any

from transitions.cli import (  # noqa: F401  (registers the commands)
    accompaniment,
    applications,
    audit,
    charter,
    jury,
    outbox,
    pilots,
    portal,
    privacy,
    programme,
    programme_change,
    reports,
    service,
    staff,
)
from transitions.cli.common import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> Any:
    import sys

    import typer

    from config.prefect_env import configure_prefect
    from config.private_files import private_umask, secure_start
    from transitions.cli.common import err, escape, guarded
    from transitions.cli.french import run

    private_umask()  # before anything is written, the error log of a bad setting included
    try:
        for warning in guarded(secure_start):  # reads the settings: a bad one is explained, not dumped
            err.print(f"[yellow]Attention :[/] {escape(warning)}", highlight=False, soft_wrap=True)
        guarded(configure_prefect)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    sys.exit(run(app, argv))
