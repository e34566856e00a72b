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
    from transitions.cli.common import guarded
    from transitions.cli.french import run

    try:
        guarded(configure_prefect)  # reads the settings: a bad one is explained, not dumped
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    sys.exit(run(app, argv))
