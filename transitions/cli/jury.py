"""Jury commands: record a juror's score sheet, show the ranking."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from models.clock import format_number
from transitions.cli.common import (
    AtOption,
    ProgrammeOption,
    app,
    command,
    database,
    escape,
    instant,
    out,
    programme_ctx,
)
from transitions.userfiles import write_text

jury_app = typer.Typer(help="Le jury : notes et classement.", no_args_is_help=True)
app.add_typer(jury_app, name="jury")


@command(jury_app, "score")
def score(
    file: Annotated[Path, typer.Argument(help="Feuille de notes d'un juré (YAML ou JSON).")],
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre la feuille de notes d'un juré : tout ou rien."""
    from models.jury import ScoreSheet, record_sheet
    from transitions.userfiles import load_model

    sheet, _ = load_model(file, ScoreSheet, "de notes", refusal=f"Feuille {file.name} refusée")
    with programme_ctx(programme) as ctx:
        changed = record_sheet(ctx, sheet, instant(at))
    out.print(f"{changed} note(s) enregistrée(s) pour {escape(sheet.juror)}.", highlight=False)


@command(jury_app, "dossier")
def dossier(
    file: Annotated[Path, typer.Option("--out", help="Fichier Markdown à écrire.")],
    programme: ProgrammeOption = None,
) -> None:
    """Écrit le dossier du jury : les critères, puis chaque candidature recevable en entier."""
    from models.db import session_scope
    from transitions.report import jury_dossier

    url = database()
    with session_scope(url) as session:
        text, count = jury_dossier(session, programme)
    write_text(file, text)
    out.print(f"Dossier du jury écrit dans {file} ({count} candidature(s)).")


@command(jury_app, "ranking")
def ranking(programme: ProgrammeOption = None) -> None:
    """Classe les candidatures recevables par note pondérée."""
    from models.jury import ranking as rank

    with programme_ctx(programme) as ctx:
        rows = rank(ctx)
        scale, threshold = ctx.definition.jury.scale_max, ctx.definition.jury.threshold
    table = Table("Rang", "Récépissé", "Chef de file", f"Note /{scale} (seuil {format_number(threshold)})",
                  "Notes manquantes")
    for index, row in enumerate(rows, start=1):
        table.add_row(str(index), row.application.receipt_number, escape(row.application.lead_name),
                      "—" if row.score is None else format_number(row.score), str(row.missing))
    out.print(table if rows else "Aucune candidature recevable.")
