"""Changing a running programme: `programme diff` (what would happen, nothing changed) and
`programme apply` (the same change, for good). Doors onto `flows.programme_preview` and
`models.programme_apply`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from transitions.cli.common import (
    AtOption,
    ByOption,
    app,
    cli_actor,
    command,
    database,
    escape,
    instant,
    out,
    paris_text,
    programme_ctx,
)

if TYPE_CHECKING:
    from models.read.programme_diff import Preview

programme_app = typer.Typer(help="Changer le déroulement d'un programme en cours : prévisualiser, appliquer.",
                            no_args_is_help=True)
app.add_typer(programme_app, name="programme")

FileArgument = Annotated[Path, typer.Argument(metavar="FICHIER", help="Fichier YAML du programme modifié.")]


@command(programme_app, "diff")
def programme_diff(
    file: FileArgument,
    at: AtOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Écrit la prévisualisation en JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", metavar="FICHIER",
                                              help="Écrit aussi la prévisualisation en HTML dans FICHIER.")] = None,
    replace: Annotated[bool, typer.Option(
        "--remplacer", help="Écraser le fichier HTML s'il existe (sinon : refusé).")] = False,
    by: ByOption = None,
) -> None:
    """Montre ce que changerait ce fichier (instants, avis, agendas), sans rien changer (l'aperçu est
    gardé : page /equipe/programme de l'espace de l'équipe)."""
    from datetime import UTC

    from flows.programme_preview import preview_change
    from models.errors import InvalidInput
    from models.read.programme_diff import preview_json
    from notifications.render import portal_linker, render_notice
    from reports.programme_diff_page import render_programme_diff
    from transitions.programmes import load_programme
    from transitions.userfiles import check_new, write_new

    bundle = load_programme(file)
    when = instant(at)
    if html is not None:
        check_new(html, replace)
    made_at = datetime.now(UTC)
    preview = preview_change(database(), bundle.definition, source=bundle.source, templates=dict(bundle.templates),
                             at=when, made_at=made_at, actor=cli_actor(by), renderer=render_notice,
                             linker=portal_linker())
    if html is not None:
        write_new(html, render_programme_diff(preview, made_at).encode("utf-8"), replace)
    if as_json:
        out.print_json(json.dumps(preview_json(preview), ensure_ascii=False))
    else:
        _print(preview)
    if preview.problems:
        raise InvalidInput("Changement refusé : il enfreint les règles du programme (rien n'est changé).",
                           preview.problems)


def _print(preview: Preview) -> None:
    from models.read.programme_diff import CHANGES, WHAT, by_person, kind_label

    out.print(f"Programme « {escape(preview.slug)} », version {preview.version}, au {paris_text(preview.at)} : "
              f"SHA-256 de la définition {preview.sha256} (prévisualisation : rien n'est changé).", highlight=False)
    out.print(f"Aperçu n° {preview.id} gardé : /equipe/programme/apercus/{preview.id} dans l'espace de l'équipe.",
              highlight=False)
    for refusal in preview.plan.refused:
        out.print(f"Refusé — {escape(refusal.pilot)} : {escape(refusal.title)} ({escape(refusal.key)}) : "
                  f"{escape(refusal.why)}.", highlight=False)
    for problem in preview.problems:
        out.print(f"Règle enfreinte : {escape(problem)}", highlight=False)
    if not preview.differences:
        out.print("Rien ne change.")
        return
    narrow = out.width < WIDE
    for person, rows in by_person(preview):
        table = Table(title=escape(person), title_justify="left")
        columns = ("Quoi", "Avant → après", "Cause") if narrow else (
            "Quoi", "Changement", "Type", "Objet", "Avant", "Après", "Agenda", "Cause")
        for column in columns:
            table.add_column(column)
        for d in rows:
            if narrow:
                what = (d.subject if d.what == "element" else f"Avis « {kind_label(d)} » {CHANGES[d.change]}"
                        if d.what == "avis" else f"{WHAT[d.what]} {CHANGES[d.change]} : {kind_label(d)}")
                table.add_row(escape(what), f"{_short(d.before)} → {_short(d.after)}", escape(d.cause or "—"))
                continue
            agenda = (f"{d.uid} ({_number(d.sequence_before)} → {_number(d.sequence_after)})" if d.uid else "—")
            table.add_row(WHAT[d.what], CHANGES[d.change], escape(kind_label(d)), escape(d.subject or "—"),
                          _short(d.before), _short(d.after), escape(agenda), escape(d.cause or "—"))
        out.print(table)
    if narrow:
        out.print(f"Colonnes réduites à la largeur du terminal ({out.width} colonnes, {WIDE} pour toutes) : l'objet "
                  "de chaque avis et les agendas (UID, SEQUENCE) sont dans --json et --html FICHIER.",
                  highlight=False)


WIDE = 160
"""The terminal width (columns) from which `programme diff` shows every column."""


def _number(value: int | None) -> str:
    return "—" if value is None else str(value)


def _short(value: datetime | None) -> str:
    """« 08/10/2015 09:30 », Paris time (a table column)."""
    from models.clock import paris

    return paris(value).strftime("%d/%m/%Y %H:%M") if value else "—"


@command(programme_app, "apply")
def programme_apply(
    file: FileArgument,
    reason: Annotated[str, typer.Option("--reason", help="Motif (obligatoire : il est envoyé aux personnes "
                                                         "concernées et consigné au journal).")],
    at: AtOption = None,
    by: ByOption = None,
) -> None:
    """Applique le changement prévisualisé : dates déplacées, agendas mis à jour, personnes averties."""
    from models.programme_apply import apply_change
    from transitions.programmes import load_programme

    bundle = load_programme(file)
    when = instant(at)
    with programme_ctx(bundle.definition.slug, lock=True) as ctx:  # two applies at once: one after the other
        result = apply_change(ctx, bundle.definition, source=bundle.source, templates=dict(bundle.templates),
                              reason=reason, at=when, actor=cli_actor(by))
        version = ctx.programme.version
    if result.version is None:
        out.print(f"Rien à changer : ce fichier est déjà la version {version} du programme.", highlight=False)
        return
    out.print(f"Version {result.version} appliquée au {paris_text(when)} : {len(result.plan.moves)} changement(s), "
              f"{result.notices} avis en attente d'envoi (prochain tick).", highlight=False)
    for refusal in result.plan.refused:
        out.print(f"Refusé — {escape(refusal.pilot)} : {escape(refusal.title)} ({escape(refusal.key)}) : "
                  f"{escape(refusal.why)}.", highlight=False)
