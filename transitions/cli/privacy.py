"""Commands for personal data (RGPD): the purge of what is past retention, a person's export and
erasure. Doors onto `models.purge`, `models.read.person` and `models.rights`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from config.settings import get_settings
from transitions.cli.common import (
    AtOption,
    ProgrammeOption,
    app,
    cli_actor,
    command,
    database,
    escape,
    instant,
    out,
    paris_text,
)

privacy_app = typer.Typer(help="Données personnelles (RGPD) : purge, export et effacement.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")

PersonOption = Annotated[str, typer.Option("--person", help="Adresse électronique (comparée exactement).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Dit ce qui serait fait, sans rien changer.")]


def _print_counts(title: str, counts: Counter[str]) -> None:
    out.print(title, highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("Catégorie")
    table.add_column("Nombre", justify="right")
    for category, count in sorted(counts.items()):
        table.add_row(escape(category), str(count))
    if not counts:
        table.add_row("rien à effacer", "0")
    out.print(table)


@command(privacy_app, "purge")
def privacy_purge(at: AtOption = None, dry_run: DryRunOption = False, programme: ProgrammeOption = None) -> None:
    """Efface ce qui a dépassé sa durée de conservation (fichier de programme, « retention »)."""
    from models.purge import purge_programmes

    when = instant(at)
    report = purge_programmes(database(), when, slug=programme, dry_run=dry_run,
                              outbox_dir=get_settings().outbox_dir, actor=cli_actor())
    what = "ce qui serait effacé (essai : rien n'est changé)" if dry_run else "ce qui est effacé"
    counts = Counter(report.counts)
    if report.files:
        counts["fichiers .eml de la boîte d'envoi supprimés"] = report.files
    _print_counts(f"Purge au {paris_text(when)} : {what}.", counts)
    for kind, label in report.units:
        out.print(f"- {escape(kind)} : {escape(label)}", highlight=False)


@command(privacy_app, "export")
def privacy_export(person: PersonOption, out_dir: Annotated[Path, typer.Option(
        "--out", help="Dossier où écrire donnees.json et donnees.html.")] = Path("."), at: AtOption = None) -> None:
    """Écrit en JSON et en HTML tout ce qui est détenu sur une personne (RGPD art. 15)."""
    from models.db import session_scope
    from models.read.person import person_export
    from models.rights import record_export
    from reports.person_page import render_person
    from transitions.userfiles import write_text

    when = instant(at)
    with session_scope(database()) as session:
        export = person_export(session, person)  # nothing held: UnknownPerson, exit 1
        out_dir.mkdir(parents=True, exist_ok=True)
        write_text(out_dir / "donnees.json", json.dumps(export.as_json(), ensure_ascii=False, indent=2))
        write_text(out_dir / "donnees.html", render_person(export, when))
        record_export(session, at=when, actor=cli_actor(), rows=len(export.rows))
    out.print(f"{len(export.rows)} ligne(s), {len(export.files)} fichier(s), {len(export.audit)} entrée(s) du "
              f"journal : {escape(str(out_dir / 'donnees.json'))} et donnees.html.", highlight=False)


@command(privacy_app, "erase")
def privacy_erase(person: PersonOption, reason: Annotated[str, typer.Option(
        "--reason", help="Motif de l'effacement (journal ; les données de la personne en sont retirées).")],
        at: AtOption = None, dry_run: DryRunOption = False) -> None:
    """Efface les données d'une personne que rien n'oblige à garder, et dit ce qui est gardé et pourquoi."""
    from sqlmodel import Session

    from models.db import get_engine
    from models.person_data import find_person
    from models.personal_data import SHOWN
    from models.purge import sweep_outbox
    from models.rights import erase_person
    from models.text import require_line

    why = require_line(reason, "--reason", max_length=300)
    when = instant(at)
    url = database()
    with Session(get_engine(url), expire_on_commit=False) as session:
        found = find_person(session, person)  # nothing held: UnknownPerson, exit 1
        result = erase_person(session, found, at=when, actor=cli_actor(), reason=why)
        session.flush()
        files = sweep_outbox(session, get_settings().outbox_dir, remove=False)
        session.rollback() if dry_run else session.commit()
    if not dry_run:
        with Session(get_engine(url)) as session:
            sweep_outbox(session, get_settings().outbox_dir)
    counts = Counter(result.erased)
    if files:
        counts["fichiers .eml de la boîte d'envoi supprimés"] = files
    what = "Ce qui serait effacé (essai : rien n'est changé)" if dry_run else "Ce qui est effacé"
    _print_counts(f"{what}.", counts)
    out.print("Ce qui est gardé, et pourquoi :" if result.kept else "Rien n'est gardé.", soft_wrap=True)
    kept = Table()
    for column in ("Données", "Lignes", "Motif", "Fondement"):
        kept.add_column(column)
    for row in result.kept:
        kept.add_row(SHOWN[row.table].word, str(row.count), escape(row.reason), escape(row.basis))
    if result.kept:
        out.print(kept)
