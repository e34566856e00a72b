"""`transitions charter certificate`: a pilot's charter signature certificate, in the terminal, as
HTML and as PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.errors import InvalidInput
from transitions.cli.accompaniment import charter_app
from transitions.cli.common import ProgrammeOption, command, escape, instant, out, programme_ctx
from transitions.cli.pilots import PilotArgument
from transitions.userfiles import write_new


@command(charter_app, "certificate")
def certificate(
    pilot: PilotArgument,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Fichier PDF à écrire.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Fichier HTML à écrire (autonome).")] = None,
    replace: Annotated[bool, typer.Option(
        "--remplacer", help="Écraser le fichier PDF ou HTML s'il existe (sinon : refusé).")] = False,
    at: Annotated[str | None, typer.Option(
        "--at", help="Date du certificat : instant ISO 8601 ou date française, heure de Paris. Par défaut : "
                     "le présent du programme (maintenant ; pour un programme rejoué, son dernier pas).")] = None,
    programme: ProgrammeOption = None,
) -> None:
    """Certificat de signature de la charte : texte, empreinte SHA-256, chaque signature et son
    entrée du journal d'audit (à l'écran, et en PDF ou HTML)."""
    from models import pilots
    from models.clock import format_paris
    from models.read.charter_certificate import charter_certificate
    from reports.certificate import certificate_html, certificate_pdf

    if pdf is not None and html is not None and pdf.resolve() == html.resolve():
        raise InvalidInput("--pdf et --html nomment le même fichier : donnez-leur deux noms.")
    with programme_ctx(programme) as ctx:
        when = instant(at) if at is not None else ctx.present(instant(None))
        made = charter_certificate(ctx, pilots.find_pilot(ctx, pilot), when)
    if html is not None:
        write_new(html, certificate_html(made).encode("utf-8"), replace)
    if pdf is not None:
        write_new(pdf, certificate_pdf(made), replace)
    out.print(f"Charte de {escape(made.pilot_name)}, certificat établi le {format_paris(made.made_at)} (date du "
              f"programme) : texte SHA-256 {made.sha256}", highlight=False)
    for s in made.signatures:
        role = f" ({escape(s.role)})" if s.role else ""
        entry = s.entry + (f", empreinte chaînée {s.audit_hash}" if s.audit_hash else "")
        other = "" if s.same_text else " — AUTRE TEXTE"
        out.print(f"- {escape(s.party_name)} : {escape(s.signatory)}{role}, {format_paris(s.signed_at)}, {s.channel}"
                  f"{' (' + escape(s.used) + ')' if s.used else ''}, "
                  f"{entry}, SHA-256 {s.text_sha256 or 'inconnue'}{other}", highlight=False)
    if not made.complete:
        out.print(escape(made.verdict), highlight=False)
    for path in (p for p in (html, pdf) if p is not None):
        out.print(f"Certificat écrit dans {escape(str(path))}.", highlight=False)
