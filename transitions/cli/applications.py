"""Commands for the call: submit, announce, schema, applications."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from models.errors import InvalidInput
from transitions.cli.common import (
    AtOption,
    ByOption,
    ProgrammeOption,
    app,
    cli_actor,
    command,
    database,
    escape,
    instant,
    line_option,
    out,
    programme_ctx,
    saved,
    write_csv,
)
from transitions.cli.listing import Column, JsonOption, print_json, print_list


@command(app)
def submit(
    file: Annotated[Path, typer.Argument(
        help="Candidature au format YAML ou JSON, ou formulaire rempli (.docx, .odt ou .doc).")],
    at: AtOption = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Qui dépose (courriel) ; par défaut le 1er responsable.")] = None,
    send: Annotated[bool, typer.Option(
        "--send/--no-send", help="Envoie l'accusé de réception tout de suite (sinon au prochain envoi).")] = True,
    programme: ProgrammeOption = None,
    pieces: Annotated[Path | None, typer.Option(
        "--pieces", help="Dossier des pièces jointes (par défaut : celui du fichier de candidature).")] = None,
    piece: Annotated[list[Path] | None, typer.Option(
        "--piece", help="Avec un formulaire .docx/.odt/.doc : le premier --piece est sa version PDF, les "
                        "suivants des documents complémentaires.")] = None,
) -> None:
    """Dépose une candidature (ou une nouvelle version) et affiche son numéro de récépissé."""
    from sqlmodel import Session

    from config.settings import get_settings
    from flows.events import bookmark, publish_since
    from models.db import get_engine
    from models.outbox import pending_with_prefix
    from notifications.deliver import deliver_due
    from notifications.routing import from_settings
    from transitions.intake import is_annex, read_annex_application, submit_file, submit_form

    url = database()
    when = instant(at)
    before = bookmark()
    if is_annex(file):
        if pieces is not None:
            raise InvalidInput("--pieces (un dossier) vaut pour un fichier YAML ou JSON ; avec un formulaire "
                               ".docx, .odt ou .doc, donnez chaque fichier avec --piece.")
        receipt = submit_form(url, read_annex_application(file, piece or []), when, by, programme)
    elif piece:
        raise InvalidInput("--piece vaut pour un formulaire .docx, .odt ou .doc ; un fichier YAML ou JSON nomme "
                           "ses pièces lui-même (dossier : --pieces).")
    else:
        receipt = submit_file(url, file, when, by, programme, pieces)
    saved(f"la candidature est enregistrée (récépissé {receipt.receipt_number}, version {receipt.version}), "
          "l'accusé de réception partira à la prochaine distribution")
    publish_since(before, only_with_server=True)
    out.print(f"Candidature enregistrée : récépissé [bold]{receipt.receipt_number}[/], "
              f"version {receipt.version} ({escape(receipt.lead_name)}).", highlight=False)
    for warning in receipt.warnings:
        out.print(f"  [yellow]Attention :[/] {escape(warning)}", highlight=False)
    if send:  # the applicant should not wait for the next tick to know the file arrived
        with Session(get_engine(url), expire_on_commit=False) as session:
            channels, policy = from_settings(get_settings())
            deliver_due(session, as_of=when, channels=channels, policy=policy)
            waiting = pending_with_prefix(session, f"accuse_reception:{receipt.receipt_number}:v{receipt.version}:")
        out.print("Accusé de réception envoyé." if not waiting else
                  f"Accusé de réception en attente pour {waiting} destinataire(s) : il sera réessayé.")


@command(app)
def announce(
    siren: Annotated[str, typer.Argument(help="SIREN de l'EPCI qui annonce sa candidature.")],
    contact: Annotated[str, typer.Option("--contact", help="Nom de la personne à relancer.")],
    email: Annotated[str, typer.Option("--email", help="Son adresse électronique.")],
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre qu'un EPCI prépare une candidature : il sera relancé avant la date limite."""
    from models import intents

    contact = line_option(contact, "Intention refusée : nom du contact (--contact)")
    with programme_ctx(programme) as ctx:
        changed = intents.declare(ctx, siren=siren, contact_name=contact,
                                  contact_email=email, at=instant(at))
    out.print("Intention enregistrée." if changed else "Intention déjà enregistrée : rien de changé.")


@command(app)
def schema(what: Annotated[str, typer.Argument(help="« application » : le formulaire de candidature.")]) -> None:
    """Affiche le schéma JSON d'un fichier que l'on peut déposer."""
    from models.forms import application_schema

    if what not in ("application", "candidature"):
        raise InvalidInput(f"Schéma inconnu « {what} » : seul « application » existe.")
    sys.stdout.write(json.dumps(application_schema(), ensure_ascii=False, indent=2) + "\n")


@command(app)
def applications(
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Exporte aussi en CSV (UTF-8, « ; »).")] = None,
    history: Annotated[str | None, typer.Option(
        "--history", help="Montre les versions d'une candidature (récépissé ou SIREN).")] = None,
    show: Annotated[str | None, typer.Option(
        "--show", help="Montre le contenu d'une candidature, rubrique par rubrique (récépissé ou SIREN).")] = None,
    as_json: JsonOption = False,
    programme: ProgrammeOption = None,
) -> None:
    """Liste les candidatures, leur statut et leur motif."""
    from models.db import session_scope
    from transitions.report import application_rows, print_application, print_history

    if history is not None and show is not None:
        raise InvalidInput("Choisissez --history ou --show, pas les deux.")
    if csv_file is not None and (history is not None or show is not None):
        raise InvalidInput("--csv exporte la liste des candidatures : il ne se combine pas avec --history ou --show.")
    url = database()
    with session_scope(url) as session:
        if history is not None:
            print_history(out, session, history, programme)
            return
        if show is not None:
            print_application(out, session, show, programme)
            return
        rows = application_rows(session, programme)
        if csv_file is not None:  # a spreadsheet sorts ISO 8601 dates (Paris time), not French prose
            from sqlmodel import select

            from models.context import load_ctx
            from models.tables import Application
            from transitions.exports import csv_cell

            submitted = {a.receipt_number: a.last_submitted_at for a in session.exec(
                select(Application).where(Application.programme_id == load_ctx(session, programme).programme_id))}
            exported = [{**row, "deposee_le": csv_cell(submitted.get(row["recepisse"]))} for row in rows]
        if as_json:
            from datetime import UTC, datetime

            from models.context import load_ctx
            from transitions.exports import export_rows

            print_json(export_rows(load_ctx(session, programme), "applications", datetime.now(UTC))[0])
            return
    if csv_file is not None:  # written first: a refusal then comes before any listing
        write_csv(csv_file, exported, ["recepisse"])
    columns = [Column("Récépissé", "recepisse", 15), Column("Chef de file", "chef_de_file", 12, ratio=1),
               Column("Version", "version", 7, drop=1, justify="right"), Column("Statut", "statut", 13),
               Column("Motif / avertissements", "note", 12, ratio=2)]
    print_list(out, columns, [{**row, "note": row["motif"] or row["avertissements"]} for row in rows],
               empty="Aucune candidature.", whole="Texte complet : --show RÉCÉPISSÉ, ou --json.")
    if csv_file is not None:
        out.print(f"{len(rows)} candidature(s) exportée(s) dans {csv_file}.")




mailbox_app = typer.Typer(help="La boîte de l'appel : relever les candidatures reçues par courriel.",
                          no_args_is_help=True)
app.add_typer(mailbox_app, name="candidatures")


@command(mailbox_app, name="releve")
def read_mailbox_command(
    at: AtOption = None,
    send: Annotated[bool, typer.Option(
        "--send/--no-send", help="Envoie tout de suite les accusés et les réponses (sinon au prochain envoi).")] = True,
    programme: ProgrammeOption = None,
) -> None:
    """Relève la boîte de l'appel (IMAP ou MAILDIR) : chaque courriel devient une candidature, une réponse
    ou « À revoir », une seule fois ; l'arrivée au serveur fait foi pour la date limite."""
    from sqlmodel import Session

    from config.settings import get_settings
    from flows.mailbox import read_mailbox
    from models.db import get_engine
    from notifications.deliver import deliver_due
    from notifications.routing import from_settings

    url = database()
    when = instant(at)
    report = read_mailbox(url, at=when, programme=programme)
    out.print(f"Boîte de l'appel : {escape(report.summary())}.", highlight=False)
    if send and report.moved:
        with Session(get_engine(url), expire_on_commit=False) as session:
            channels, policy = from_settings(get_settings())
            deliver_due(session, as_of=when, channels=channels, policy=policy)


@command(mailbox_app, name="adresse")
def add_draft_holder(
    siren: Annotated[str, typer.Argument(help="SIREN de l'EPCI chef de file.")],
    email: Annotated[str, typer.Argument(help="Adresse à ajouter aux titulaires de sa candidature en ligne.")],
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Ajoute une adresse aux titulaires de la candidature en ligne d'un chef de file et lui envoie son lien
    (par exemple après l'alerte « lien demandé par une autre adresse »)."""
    from datetime import UTC, datetime

    from models import drafts

    when = instant(at)
    with programme_ctx(programme) as ctx:
        added = drafts.add_holder(ctx, siren, email, at=when, now=datetime.now(UTC), by=cli_actor(by))
    out.print(("Adresse ajoutée" if added else "Adresse déjà titulaire") + " : son lien lui est envoyé au prochain "
              "envoi des avis (transitions outbox deliver).", highlight=False)
