"""Commands for the outbox of notices: list, retry, deliver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.errors import InvalidInput
from transitions.cli.common import (
    MAX_COUNT,
    AtOption,
    app,
    command,
    database,
    escape,
    instant,
    line_option,
    out,
    paris_text,
    saved,
)
from transitions.report import label
from transitions.userfiles import write_text

outbox_app = typer.Typer(help="La boîte d'envoi des avis : consulter, relancer, envoyer.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
STATUSES = ("en_attente", "envoye", "abandonne")


@command(outbox_app, "list")
def outbox_list(
    status: Annotated[str | None, typer.Option("--status", help="en_attente, envoye ou abandonne.")] = None,
    limit: Annotated[int, typer.Option(
        "--limit", min=1, max=MAX_COUNT, help="Nombre maximal d'avis affichés.")] = 50,
    kind: Annotated[str | None, typer.Option("--kind", help="Type d'avis (ex. accuse_reception).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Adresse du destinataire.")] = None,
) -> None:
    """Liste les avis, les plus récents d'abord."""
    from rich.table import Table

    from models import outbox
    from models.db import session_scope
    from models.notices import NoticeKind

    if to is not None:
        to = line_option(to, "--to")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"Statut inconnu « {status} » (statuts : {', '.join(STATUSES)}).")
    if kind is not None and kind not in {k.value for k in NoticeKind}:
        raise InvalidInput(f"Type d'avis inconnu « {kind} » (types : {', '.join(k.value for k in NoticeKind)}).")
    url = database()
    with session_scope(url) as session:
        rows = outbox.notices(session, status, limit, kind=kind, recipient=to)
    table = Table("N°", "Type", "Destinataire", "Objet", "Statut", "Essais", "Créé le", "Erreur")
    for n in rows:
        table.add_row(str(n.id), n.kind, escape(n.recipient_email), escape(n.subject), label(n.status),
                      str(n.attempts), paris_text(n.created_at), escape(n.last_error or ""))
    out.print(table if rows else "Aucun avis.")


@command(outbox_app, "show")
def outbox_show(
    notice_id: Annotated[int, typer.Argument(min=1, max=MAX_COUNT, help="Numéro de l'avis.")],
    html: Annotated[Path | None, typer.Option("--html", help="Écrit aussi sa version HTML dans ce fichier.")] = None,
) -> None:
    """Montre un avis tel qu'il a été (ou sera) envoyé."""
    from models import outbox
    from models.db import session_scope

    url = database()
    with session_scope(url) as session:
        notice = outbox.find_notice(session, notice_id)
    sent = f"envoyé le {paris_text(notice.sent_at)}" if notice.sent_at else label(notice.status)
    out.print(f"[bold]Avis n°{notice.id}[/] ({notice.kind}, {sent})", highlight=False)
    out.print(f"À : {escape(notice.recipient_name)} <{escape(notice.recipient_email)}>", highlight=False)
    out.print(f"Objet : {escape(notice.subject)}", highlight=False)
    out.print(f"Message-ID : {escape(notice.message_id)}\n", highlight=False)
    out.print(escape(notice.body_text), highlight=False)
    if html is not None:
        write_text(html, notice.body_html)
        out.print(f"Version HTML écrite dans {html}.")


@command(outbox_app, "retry")
def outbox_retry(
    notice_id: Annotated[int, typer.Argument(min=1, max=MAX_COUNT, help="Numéro de l'avis.")],
    at: AtOption = None,
) -> None:
    """Remet un avis abandonné (ou en attente) en envoi, avec un compteur d'essais à zéro."""
    from models import outbox
    from models.db import session_scope

    url = database()
    with session_scope(url) as session:
        notice = outbox.retry(session, notice_id, at=instant(at))
        subject = notice.subject
    out.print(f"Avis n°{notice_id} remis en envoi : {escape(subject)}.", highlight=False)


@command(outbox_app, "deliver")
def outbox_deliver(at: AtOption = None) -> None:
    """Envoie maintenant les avis dus à l'instant donné."""
    from flows.plain import deliver_now

    when = instant(at)
    database()
    saved("les avis déjà envoyés sont enregistrés comme tels ; les autres repartiront à la prochaine distribution")
    report = deliver_now(when)
    out.print(f"{report.sent} avis envoyé(s), {report.failed} échec(s) dont {report.dead} abandonné(s).")


