"""Commands that run the programme: init, tick, status, demo."""

from __future__ import annotations

from datetime import datetime  # noqa: F401
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from config.settings import get_settings
from models.errors import NotFound
from transitions.cli.common import (
    AtOption,
    ProgrammeOption,
    app,
    changes_text,
    cli_actor,
    command,
    database,
    instant,
    out,
    paris_text,
    saved,
)
from transitions.userfiles import write_text

if TYPE_CHECKING:
    from sqlmodel import Session


@command(app)
def init(
    programme: Annotated[Path | None, typer.Option("--programme", help="Fichier YAML du programme.")] = None,
    mode: Annotated[str | None, typer.Option(
        "--mode", help="direct (le service Prefect le fait avancer à ses instants) ou rejeu (seulement avec --at) ; "
                       "par défaut : le mode déjà enregistré (direct pour un nouveau programme).",
    )] = None,
    at: AtOption = None,
) -> None:
    """Crée ou met à jour la base et y charge le programme (par défaut : cerdd-2015)."""
    from models.context import install_programme
    from models.db import session_scope
    from transitions.programmes import load_programme

    settings = get_settings()
    path = programme or settings.programmes_dir / f"{settings.default_programme}.yaml"
    bundle = load_programme(path)
    for line in bundle.warnings:
        out.print(f"Attention : {line}", highlight=False, markup=False)
    when = instant(at)
    url = database()
    from sqlalchemy.exc import IntegrityError

    try:
        with session_scope(url) as session:
            was = _stored_mode(session, bundle.definition.slug)
            ctx, changed = install_programme(session, bundle, when, cli_actor(), mode=mode, typed=str(path))
            slug = ctx.programme.slug
    except IntegrityError:  # another init installed it at the same moment: now it is there
        with session_scope(url) as session:
            was = _stored_mode(session, bundle.definition.slug)
            ctx, changed = install_programme(session, bundle, when, cli_actor(), mode=mode, typed=str(path))
            slug = ctx.programme.slug
    word = "chargé" if changed else "déjà à jour"
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)  # never print a password
    out.print(f"Programme « {slug} » {word} dans {shown} (mode {ctx.programme.mode}).")
    if was is not None and was != ctx.programme.mode:
        out.print(f"Mode changé : {was} → {ctx.programme.mode}.")


def _stored_mode(session: Session, slug: str) -> str | None:
    """The mode of the programme `slug` as stored, None when it is not loaded yet."""
    from sqlmodel import select

    from models.tables import Programme

    return session.exec(select(Programme.mode).where(Programme.slug == slug)).first()


@command(app)
def tick(at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Fait avancer le programme jusqu'à l'instant donné et envoie les avis dus."""
    from models.context import all_ctx, load_ctx
    from models.db import session_scope
    from transitions.runtime import run_tick

    when = instant(at)
    with session_scope(database()) as session:
        if programme is not None:
            load_ctx(session, programme)  # an unknown programme is named before Prefect starts
        elif not all_ctx(session):
            raise NotFound("Aucun programme n'est chargé dans la base : lancez d'abord « transitions init ».")

    saved("chaque étape terminée avant l'erreur est enregistrée ; les autres reprendront au prochain tick")
    result = run_tick(when, programme)
    out.print(f"Tick du {paris_text(when)} : {changes_text(result.changed, result.delivery.sent)}.",
              highlight=False)
    for line in result.delivery.warnings():
        out.print(f"Attention : {line}", highlight=False, markup=False)


@command(app)
def status(
    at: AtOption = None,
    programme: ProgrammeOption = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Écrit aussi le bilan en Markdown.")] = None,
) -> None:
    """Montre l'état du programme : étape, candidatures, pilotes, avis, prochaine échéance."""
    from models.db import session_scope
    from transitions.report import build_status, dashboard_markdown, print_status

    url = database()
    with session_scope(url) as session:
        report = build_status(session, instant(at), programme)
    if markdown is not None:
        write_text(markdown, dashboard_markdown(report))
    print_status(out, report)
    if markdown is not None:
        out.print(f"Bilan écrit dans {markdown}.")


@command(app)
def demo(
    out_dir: Annotated[Path, typer.Option(
        "--out", help="Dossier où laisser la base et les avis (.eml).")] = Path("var/demo"),
    replace: Annotated[bool, typer.Option(
        "--replace", help="Efface une démonstration déjà présente dans ce dossier.")] = False,
    until: Annotated[str | None, typer.Option(
        "--until", help="Arrête le rejeu à cet instant (ex. 2015-06-20 : chartes à signer ; 2015-09-15 : "
        "sessions à venir, livrables à remettre).")] = None,
) -> None:
    """Rejoue le programme 2015 de bout en bout en temps simulé, avec une distribution scriptée."""
    from transitions.demo import run_demo

    run_demo(out_dir, out, replace=replace, until=None if until is None else instant(until, "--until"))


