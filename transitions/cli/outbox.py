"""Commands for the outbox of notices: list, retry, deliver."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from models.errors import InvalidInput
from transitions.cli.common import AtOption, app, database, guarded, instant, out, paris_text
from transitions.settings import get_settings

outbox_app = typer.Typer(help="La boîte d'envoi des avis : consulter, relancer, envoyer.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
STATUSES = ("en_attente", "envoye", "abandonne")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option("--status", help="en_attente, envoye ou abandonne.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Nombre maximal d'avis affichés.")] = 50,
) -> None:
    """Liste les avis, les plus récents d'abord."""

    def run() -> None:
        from rich.table import Table

        from models import outbox
        from models.db import session_scope

        if status is not None and status not in STATUSES:
            raise InvalidInput(f"Statut inconnu « {status} » (statuts : {', '.join(STATUSES)}).")
        url = database()
        with session_scope(url) as session:
            rows = outbox.notices(session, status, limit)
        table = Table("N°", "Type", "Destinataire", "Objet", "Statut", "Essais", "Créé le", "Erreur")
        for n in rows:
            table.add_row(str(n.id), n.kind, escape(n.recipient_email), escape(n.subject), n.status,
                          str(n.attempts), paris_text(n.created_at), escape(n.last_error or ""))
        out.print(table if rows else "Aucun avis.")

    guarded(run)


@outbox_app.command("retry")
def outbox_retry(
    notice_id: Annotated[int, typer.Argument(help="Numéro de l'avis.")],
    at: AtOption = None,
) -> None:
    """Remet un avis abandonné (ou en attente) en envoi, avec un compteur d'essais à zéro."""

    def run() -> None:
        from models import outbox
        from models.db import session_scope

        url = database()
        with session_scope(url) as session:
            notice = outbox.retry(session, notice_id, at=instant(at))
            subject = notice.subject
        out.print(f"Avis n°{notice_id} remis en envoi : {escape(subject)}.", highlight=False)

    guarded(run)


@outbox_app.command("deliver")
def outbox_deliver(at: AtOption = None) -> None:
    """Envoie maintenant les avis dus à l'instant donné."""

    def run() -> None:
        from sqlmodel import Session

        from models.db import get_engine
        from notifications.deliver import deliver_due

        url = database()
        with Session(get_engine(url), expire_on_commit=False) as session:
            report = deliver_due(session, as_of=instant(at), settings=get_settings())
        out.print(f"{report.sent} avis envoyé(s), {report.failed} échec(s) dont {report.dead} abandonné(s).")

    guarded(run)


