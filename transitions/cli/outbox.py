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
    cli_actor,
    command,
    database,
    err,
    escape,
    instant,
    line_option,
    out,
    paris_text,
    saved,
)
from transitions.cli.listing import Column, JsonOption, print_json, print_list, short_instant
from transitions.userfiles import write_text


def label(code: str) -> str:
    """The French label of a stored code (models.tables.label), imported when first needed."""
    from models.tables import label as french

    return french(code)


def notice_kind(kind: str | None) -> str | None:
    """The notice kind `--kind` names; a kind's earlier name (`models.notices.RENAMED_KINDS`) still
    works, read as today's with a French warning on stderr (a `--json` output stays JSON)."""
    from models.notices import RENAMED_KINDS, NoticeKind

    if kind is None:
        return None
    if kind in RENAMED_KINDS:
        new = RENAMED_KINDS[kind].value
        err.print(f"Attention : --kind : le type d'avis « {kind} » est déprécié, utilisez « {new} » "
                  "(l'ancien nom sera refusé par une version future).", highlight=False, markup=False,
                  soft_wrap=True)
        return new
    if kind not in {k.value for k in NoticeKind}:
        raise InvalidInput(f"Type d'avis inconnu « {kind} » (types : {', '.join(k.value for k in NoticeKind)}).")
    return kind

outbox_app = typer.Typer(help="La boîte d'envoi des avis : consulter, relancer, envoyer.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@command(outbox_app, "list")
def outbox_list(
    status: Annotated[str | None, typer.Option("--status", help="en_attente, envoye, abandonne ou expire.")] = None,
    limit: Annotated[int, typer.Option(
        "--limit", min=1, max=MAX_COUNT, help="Nombre maximal d'avis affichés.")] = 50,
    kind: Annotated[str | None, typer.Option("--kind", help="Type d'avis (ex. accuse_reception).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Adresse du destinataire.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Liste les avis, les plus récents d'abord."""

    from models import outbox
    from models.db import session_scope
    from models.tables import NoticeStatus

    if to is not None:
        to = line_option(to, "--to")
    if status is not None and status not in set(NoticeStatus):
        raise InvalidInput(f"Statut inconnu « {status} » (statuts : {', '.join(NoticeStatus)}).")
    kind = notice_kind(kind)
    url = database()
    with session_scope(url) as session:
        rows = outbox.notices(session, status, limit, kind=kind, recipient=to)
    if as_json:
        print_json([{"numero": n.id, "type_code": n.kind, "destinataire": n.recipient_email, "nom": n.recipient_name,
                     "objet": n.subject, "statut_code": n.status, "statut": label(n.status), "essais": n.attempts,
                     "cree_le": n.created_at, "envoye_le": n.sent_at, "erreur": n.last_error or ""} for n in rows])
        return
    columns = [Column("N°", "id", 3, justify="right"), Column("Statut", "statut", 9), Column("Type", "type", 10),
               Column("Destinataire", "to", 14, ratio=1), Column("Objet", "objet", 16, ratio=2),
               Column("Essais", "essais", 6, drop=5, justify="right"), Column("Créé le", "cree", 16, drop=4),
               Column("Erreur", "erreur", 12, drop=3, ratio=2)]
    print_list(out, columns, [{"id": str(n.id), "statut": label(n.status), "type": n.kind, "to": n.recipient_email,
                               "objet": n.subject, "essais": str(n.attempts), "cree": short_instant(n.created_at),
                               "erreur": n.last_error or ""} for n in rows],
               empty="Aucun avis.", whole="Texte complet : transitions outbox show N°, ou --json.")


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
    out.print(f"Message-ID : {escape(notice.message_id)}", highlight=False)
    if notice.last_error:
        out.print(f"Dernière erreur ({notice.attempts} essai(s)) : {escape(notice.last_error)}", highlight=False)
    out.print("")
    out.print(escape(notice.body_text), highlight=False)
    if html is not None:
        write_text(html, notice.body_html)
        out.print(f"Version HTML écrite dans {html}.")


@command(outbox_app, "retry")
def outbox_retry(
    notice_id: Annotated[int | None, typer.Argument(min=1, max=MAX_COUNT, help="Numéro de l'avis.")] = None,
    all_dead: Annotated[bool, typer.Option("--all", help="Tous les avis abandonnés.")] = False,
    kind: Annotated[str | None, typer.Option("--kind", help="Avec --all : seulement ce type d'avis.")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Avec --all : seulement les avis créés depuis cette date (ISO 8601).")] = None,
    at: AtOption = None,
) -> None:
    """Remet un avis abandonné (ou en attente, ou expiré) en envoi, ou tous les avis abandonnés avec --all."""
    from models import outbox
    from models.db import session_scope

    if (notice_id is None) == (not all_dead):
        raise InvalidInput("Donnez soit le numéro d'un avis, soit --all (pas les deux).")
    if not all_dead and (kind is not None or since is not None):
        raise InvalidInput("--kind et --since ne servent qu'avec --all.")
    kind = notice_kind(kind)
    when = instant(at)
    url = database()
    if notice_id is None:
        from_date = None
        if since is not None:
            try:
                from_date = instant(since)
            except InvalidInput:
                raise InvalidInput(f"--since : « {since} » n'est pas une date ISO 8601 (exemple : 2015-05-07).") \
                    from None
        with session_scope(url) as session:
            count = len(outbox.retry_all(session, at=when, kind=kind, since=from_date))
        out.print(f"{count} avis abandonné(s) remis en envoi." if count
                  else "Aucun avis abandonné à remettre en envoi.")
        return
    with session_scope(url) as session:
        notice = outbox.retry(session, notice_id, at=when, by=cli_actor())
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
    out.print(f"{report.sent} avis envoyé(s), {report.failed} échec(s) dont {report.dead} abandonné(s)"
              + (f", {report.deferred} en attente d'un canal indisponible" if report.deferred else "") + ".",
              highlight=False)
    for line in report.warnings():
        out.print(f"Attention : {escape(line)}", highlight=False)
