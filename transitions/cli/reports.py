"""Reports and exports: the HTML progress report, spreadsheets for analysis, the sessions list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.errors import InvalidInput
from transitions.cli.common import (
    AtOption,
    ProgrammeOption,
    app,
    command,
    escape,
    instant,
    line_option,
    out,
    programme_ctx,
)
from transitions.cli.listing import Column, JsonOption, print_json, print_list, short_instant

EXPORT_KINDS = ("applications", "scores", "ranking", "pilots", "sessions", "attendance", "deliverables", "notices",
                "audit")


@command(app)
def report(
    file: Annotated[Path, typer.Option("--out", help="Fichier HTML à écrire (un seul fichier autonome).")],
    at: AtOption = None,
    pilot: Annotated[str | None, typer.Option("--pilot", help="Un seul territoire pilote (SIREN).")] = None,
    programme: ProgrammeOption = None,
) -> None:
    """Écrit le rapport d'avancement en HTML : appel, jury, frise de chaque pilote, avis."""
    pilot = None if pilot is None else line_option(pilot, "--pilot")
    from transitions.html_export import write_report

    when = instant(at)
    with programme_ctx(programme) as ctx:
        pilots = write_report(ctx, when, file, pilot)
    out.print(f"Rapport écrit dans {escape(str(file))} ({pilots} territoire(s) pilote(s)).", highlight=False)


@command(app)
def export(
    kind: Annotated[str, typer.Argument(help="Quoi : " + ", ".join(EXPORT_KINDS) + ".")],
    file: Annotated[Path, typer.Option("--out", help="Fichier à écrire (.csv ou .xlsx).")],
    file_format: Annotated[str | None, typer.Option(
        "--format", help="csv (UTF-8, « ; », pour Excel en français) ou xlsx ; par défaut selon l'extension.")] = None,
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Exporte des faits pour un tableur : une ligne par fait, dates ISO 8601, codes et libellés à part."""
    from transitions.exports import export as write_export

    chosen = file_format or ("xlsx" if file.suffix.lower() == ".xlsx" else "csv")
    if chosen not in ("csv", "xlsx"):
        raise InvalidInput(f"Format inconnu « {chosen} » (formats : csv, xlsx).")
    if kind not in EXPORT_KINDS:
        raise InvalidInput(f"Export inconnu « {kind} » (exports : {', '.join(EXPORT_KINDS)}).")
    with programme_ctx(programme) as ctx:
        count = write_export(ctx, kind, instant(at), file, chosen)
    out.print(f"{count} ligne(s) exportée(s) dans {escape(str(file))}.", highlight=False)


SESSION_COLUMNS = [
    Column("Date", "date", 16), Column("Pilote", "pilote", 10, max_width=26, ratio=1),
    Column("Clé", "cle", 19), Column("Session", "session", 12, ratio=2),
    Column("État", "etat", 9), Column("Présents", "presence", 8, drop=1, justify="right"),
    Column("Lieu", "lieu", 12, drop=2, ratio=1),
]
"""Keys are typed back (`attend`, `session …`) and states are what the list is for: neither is cut
nor dropped; with `--pilot` the pilot's column goes."""


@command(app)
def sessions(
    pilot: Annotated[str | None, typer.Option("--pilot", help="Un seul territoire pilote.")] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
    programme: ProgrammeOption = None,
) -> None:
    """Liste les sessions de chaque pilote avec leur clé (pour « attend »), leur date et la présence."""
    pilot = None if pilot is None else line_option(pilot, "--pilot")
    from models.read.report_data import pilot_views
    from models.read.sessions import session_rows

    with programme_ctx(programme) as ctx:
        when = instant(at)
        views = pilot_views(ctx, when, pilot)
        states = {(row.pilot, row.key): row.state for row in session_rows(ctx, when, pilot)}
    items = sorted(((p, s) for p in views for s in p.sessions), key=lambda ps: (ps[1].start, ps[0].name))
    if as_json:
        print_json([{"siren": p.siren, "pilote": p.name, "cle": s.key, "session": s.title, "lieu": s.location,
                     "debut": s.start, "fin": s.end, "etat_code": s.state,
                     "etat": states.get((p.name, s.key), s.state_label),
                     "presents": s.present, "absents": s.absent} for p, s in items])
        return
    print_list(out, [c for c in SESSION_COLUMNS if not (pilot and c.key == "pilote")], [
        {"date": short_instant(s.start), "pilote": p.name, "cle": s.key, "session": s.title,
         "etat": states.get((p.name, s.key), s.state_label),
         "lieu": s.location, "presence": f"{s.present}/{s.present + s.absent}" if s.present + s.absent else ""}
        for p, s in items],
        empty="Aucune session : aucun accompagnement n'a encore commencé.",
        whole="Texte complet : --json.")


@command(app)
def registre(
    programme_file: Annotated[Path | None, typer.Option(
        "--programme", help="Fichier du programme (par défaut : celui du programme par défaut).")] = None,
    file: Annotated[Path | None, typer.Option(
        "--out", help="Fichier Markdown à écrire (par exemple docs/registre-des-traitements.md).")] = None,
) -> None:
    """Écrit le registre des traitements (RGPD art. 30) du programme, en Markdown."""
    from config.settings import get_settings
    from models.processing import register
    from reports.register import render_register
    from transitions.programmes import load_programme

    settings = get_settings()
    bundle = load_programme(programme_file or settings.programmes_dir / f"{settings.default_programme}.yaml")
    text = render_register(register([bundle.definition], link_days=settings.portal_link_days))
    if file is None:
        out.print(text, highlight=False, markup=False, soft_wrap=True)
        return
    file.write_text(text, encoding="utf-8")
    out.print(f"Registre des traitements écrit dans {escape(str(file))}.", highlight=False)
