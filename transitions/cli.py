"""The `transitions` command: French messages, explicit instants, no traceback for users."""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from models.errors import InvalidInput, TransitionsError
from transitions.settings import PROJECT_ROOT, get_settings

app = typer.Typer(help="Transitions : le dispositif du Cerdd, de l'appel à candidature à la fin des 12 mois.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

AtOption = Annotated[str | None, typer.Option(
    "--at", help="Instant ISO 8601 (sans fuseau : heure de Paris). Par défaut : maintenant.")]
ProgrammeOption = Annotated[str | None, typer.Option("--programme", help="Identifiant du programme.")]


def guarded(action: Callable[[], T]) -> T:
    """Run a command body: a refusal becomes a French message and its exit code, never a traceback."""
    try:
        return action()
    except TransitionsError as exc:
        err.print(f"[bold red]Erreur :[/] {escape(exc.message)}", highlight=False)
        for line in exc.details:
            err.print(f"  - {escape(line)}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("Interrompu : les changements en cours ont été annulés.")
        raise typer.Exit(130) from None
    except Exception as exc:  # a bug: keep the details in a log, tell the user in French
        log = PROJECT_ROOT / "var" / "erreurs.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=log, level=logging.ERROR)
        logging.getLogger("transitions").exception("unexpected error")
        err.print(f"[bold red]Erreur interne inattendue[/] ({type(exc).__name__}). "
                  f"Rien n'a été enregistré de l'opération en cours ; détails dans {log}.")
        raise typer.Exit(70) from None


def instant(text: str | None) -> datetime:
    from models.clock import InstantError, parse_instant

    if text is None:
        return datetime.now(UTC)
    try:
        return parse_instant(text)
    except InstantError as exc:
        raise InvalidInput(f"--at : {exc}.") from None


def _database() -> str:
    from models.db import migrate

    url = get_settings().database_url
    migrate(url)
    return url


@app.command()
def init(
    programme: Annotated[Path | None, typer.Option("--programme", help="Fichier YAML du programme.")] = None,
    at: AtOption = None,
) -> None:
    """Crée ou met à jour la base et y charge le programme (par défaut : cerdd-2015)."""

    def run() -> None:
        from models.context import install_programme
        from models.db import session_scope

        settings = get_settings()
        path = programme or settings.programmes_dir / f"{settings.default_programme}.yaml"
        url = _database()
        with session_scope(url) as session:
            ctx, changed = install_programme(session, path, instant(at), "cli")
            slug = ctx.programme.slug
        word = "chargé" if changed else "déjà à jour"
        out.print(f"Programme « {slug} » {word} dans {url}.")

    guarded(run)


@app.command()
def tick(at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Fait avancer le programme jusqu'à l'instant donné et envoie les avis dus."""

    def run() -> None:
        when = instant(at)
        _database()
        from transitions.runtime import run_tick

        result = run_tick(when, programme)
        done = {k: v for k, v in result.items() if v and not k.startswith(("type:", "envoyes", "echecs", "abandonnes"))}
        out.print(f"Tick du {_paris(when)} : "
                  + (", ".join(f"{k} ({v})" for k, v in done.items()) or "rien de nouveau")
                  + f" ; {result.get('envoyes', 0)} avis envoyé(s).")

    guarded(run)


@app.command()
def status(at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Montre l'état du programme : étape, candidatures, pilotes, avis, prochaine échéance."""

    def run() -> None:
        from models.db import session_scope
        from transitions.report import build_status, print_status

        url = _database()
        with session_scope(url) as session:
            print_status(out, build_status(session, instant(at), programme))

    guarded(run)


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="Candidature au format YAML ou JSON.")],
    at: AtOption = None,
    by: Annotated[str | None, typer.Option(
        "--par", help="Qui dépose (courriel) ; par défaut le 1er responsable.")] = None,
    programme: ProgrammeOption = None,
) -> None:
    """Dépose une candidature (ou une nouvelle version) et affiche son numéro de récépissé."""

    def run() -> None:
        from transitions.intake import submit_file

        url = _database()
        receipt = submit_file(url, file, instant(at), by, programme)
        out.print(f"Candidature enregistrée : récépissé [bold]{receipt.receipt_number}[/], "
                  f"version {receipt.version} ({escape(receipt.lead_name)}).", highlight=False)
        for warning in receipt.warnings:
            out.print(f"  [yellow]Attention :[/] {escape(warning)}", highlight=False)

    guarded(run)


@app.command()
def intention(
    siren: Annotated[str, typer.Argument(help="SIREN de l'EPCI qui annonce sa candidature.")],
    contact: Annotated[str, typer.Option("--contact", help="Nom de la personne à relancer.")],
    courriel: Annotated[str, typer.Option("--courriel", help="Son adresse électronique.")],
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre qu'un EPCI prépare une candidature : il sera relancé avant la date limite."""

    def run() -> None:
        from models import intents
        from models.context import load_ctx
        from models.db import session_scope

        url = _database()
        with session_scope(url) as session:
            changed = intents.declare(load_ctx(session, programme), siren=siren, contact_name=contact,
                                      contact_email=courriel, at=instant(at))
        out.print("Intention enregistrée." if changed else "Intention déjà enregistrée : rien de changé.")

    guarded(run)


@app.command()
def schema(what: Annotated[str, typer.Argument(help="« application » : le formulaire de candidature.")]) -> None:
    """Affiche le schéma JSON d'un fichier que l'on peut déposer."""

    def run() -> None:
        from models.forms import ApplicationForm

        if what not in ("application", "candidature"):
            raise InvalidInput(f"Schéma inconnu « {what} » : seul « application » existe.")
        sys.stdout.write(json.dumps(ApplicationForm.model_json_schema(), ensure_ascii=False, indent=2) + "\n")

    guarded(run)


@app.command()
def applications(
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Exporte aussi en CSV (UTF-8, « ; »).")] = None,
    history: Annotated[str | None, typer.Option(
        "--historique", help="Montre les versions d'une candidature (récépissé ou SIREN).")] = None,
    programme: ProgrammeOption = None,
) -> None:
    """Liste les candidatures, leur statut et leur motif."""

    def run() -> None:
        from models.db import session_scope
        from transitions.report import application_rows, print_history, print_rows

        url = _database()
        with session_scope(url) as session:
            if history is not None:
                print_history(out, session, history, programme)
                return
            rows = application_rows(session, programme)
        print_rows(out, rows)
        if csv_file is not None:
            try:
                with csv_file.open("w", encoding="utf-8-sig", newline="") as handle:
                    writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["recepisse"],
                                            delimiter=";")
                    writer.writeheader()
                    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
            except OSError as exc:
                raise InvalidInput(f"Impossible d'écrire {csv_file} : {exc.strerror}.") from None
            out.print(f"{len(rows)} candidature(s) exportée(s) dans {csv_file}.")

    guarded(run)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option(
        "--out", help="Dossier où laisser la base et les avis (.eml).")] = Path("var/demo"),
    replace: Annotated[bool, typer.Option(
        "--remplacer", help="Efface une démonstration déjà présente dans ce dossier.")] = False,
) -> None:
    """Rejoue le programme 2015 de bout en bout en temps simulé, avec une distribution scriptée."""

    def run() -> None:
        from transitions.demo import run_demo

        run_demo(out_dir, out, replace=replace)

    guarded(run)


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet shows as text: a leading =, +, - or @ would otherwise start a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


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
        url = _database()
        with session_scope(url) as session:
            rows = outbox.notices(session, status, limit)
        table = Table("N°", "Type", "Destinataire", "Objet", "Statut", "Essais", "Créé le", "Erreur")
        for n in rows:
            table.add_row(str(n.id), n.kind, escape(n.recipient_email), escape(n.subject), n.status,
                          str(n.attempts), _paris(n.created_at), escape(n.last_error or ""))
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

        url = _database()
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

        url = _database()
        with Session(get_engine(url), expire_on_commit=False) as session:
            report = deliver_due(session, as_of=instant(at), settings=get_settings())
        out.print(f"{report.sent} avis envoyé(s), {report.failed} échec(s) dont {report.dead} abandonné(s).")

    guarded(run)


def _paris(value: datetime) -> str:
    from models.clock import format_paris

    return format_paris(value)


def main(argv: list[str] | None = None) -> Any:
    from transitions.settings import configure_prefect

    configure_prefect()
    return app(argv, standalone_mode=True)
