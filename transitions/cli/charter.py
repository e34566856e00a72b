"""`transitions charter certificate`: a pilot's charter signature certificate, in the terminal, as
HTML and as PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.errors import InvalidInput
from models.wording import os_reason
from transitions.cli.accompaniment import charter_app
from transitions.cli.common import AtOption, ProgrammeOption, command, escape, instant, out, programme_ctx
from transitions.cli.pilots import PilotArgument


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None


@command(charter_app, "certificate")
def certificate(
    pilot: PilotArgument,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Fichier PDF à écrire.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Fichier HTML à écrire (autonome).")] = None,
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Certificat de signature de la charte : texte, empreinte SHA-256, chaque signature et son
    entrée du journal d'audit (à l'écran, et en PDF ou HTML)."""
    from models import pilots
    from models.clock import format_paris
    from models.read.charter_certificate import charter_certificate
    from reports.certificate import certificate_html, certificate_pdf

    with programme_ctx(programme) as ctx:
        made = charter_certificate(ctx, pilots.find_pilot(ctx, pilot), instant(at))
    if html is not None:
        _write(html, certificate_html(made).encode("utf-8"))
    if pdf is not None:
        _write(pdf, certificate_pdf(made))
    out.print(f"Charte de {escape(made.pilot_name)} : texte SHA-256 {made.sha256}", highlight=False)
    for s in made.signatures:
        entry = f"journal n° {s.audit_entry_id}" if s.audit_entry_id else "journal : entrée inconnue"
        entry += f" (rang {s.audit_seq}, empreinte chaînée {s.audit_hash})" if s.audit_seq else ""
        other = "" if s.same_text else " — AUTRE TEXTE"
        out.print(f"- {escape(s.party_name)} : {escape(s.signatory)}, {format_paris(s.signed_at)}, {s.channel}"
                  f"{' (' + escape(s.used) + ')' if s.used else ''}, "
                  f"{entry}, SHA-256 {s.text_sha256 or 'inconnue'}{other}", highlight=False)
    if made.missing:
        out.print(f"Reste à signer : {', '.join(made.missing)}.", highlight=False)
    for path in (p for p in (html, pdf) if p is not None):
        out.print(f"Certificat écrit dans {escape(str(path))}.", highlight=False)
