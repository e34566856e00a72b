"""Commands for the year of a pilot: sessions moved or cancelled, the charter's deadline and a
pilot's withdrawal, deliverables handed in and reviewed."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from transitions.cli.common import (
    AtOption,
    ByOption,
    ProgrammeOption,
    app,
    cli_actor,
    command,
    due_instant,
    escape,
    instant,
    out,
    paris_text,
    programme_ctx,
)
from transitions.cli.pilots import PilotArgument

ReasonOption = Annotated[str, typer.Option("--reason", help="Motif (obligatoire, consigné au journal).")]
KeyArgument = Annotated[str, typer.Argument(help="Clé (ex. formation-2, diagnostic).")]

session_app = typer.Typer(help="Les sessions : déplacer, annuler.", no_args_is_help=True)
charter_app = typer.Typer(help="La charte d'un territoire pilote : prolonger son délai de signature (extend), "
                               "établir son certificat de signature (certificate).", no_args_is_help=True)
pilot_app = typer.Typer(help="Un territoire pilote : le retirer du programme.", no_args_is_help=True)


class _HandInByDefault(TyperGroup):
    """`transitions deliverable PILOT KEY` (without a subcommand) still records a hand-in."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["hand-in", *args]
        return super().parse_args(ctx, args)


deliverable_app = typer.Typer(cls=_HandInByDefault, no_args_is_help=True,
                              help="Les livrables : remise, acceptation, retour pour reprise, report.")
app.add_typer(session_app, name="session")
app.add_typer(charter_app, name="charter")
app.add_typer(pilot_app, name="pilot")
app.add_typer(deliverable_app, name="deliverable")


def pilot_session(ctx: Any, pilot: str, key: str) -> Any:
    from models import pilots, training

    return training.find_session(ctx, pilots.find_pilot(ctx, pilot), key)


def pilot_deliverable(ctx: Any, pilot: str, key: str) -> Any:
    from models import deliverables, pilots

    return deliverables.find_deliverable(ctx, pilots.find_pilot(ctx, pilot), key)


def _said(text: str, changed: bool, unchanged: str) -> None:
    """One line: `text`, followed by `unchanged` when asking again changed nothing."""
    out.print(f"{escape(text)}{'' if changed else unchanged}.", highlight=False)


@command(session_app, "reschedule")
def reschedule(
    pilot: PilotArgument,
    session_key: KeyArgument,
    to: Annotated[str, typer.Option("--to", help="Nouvelle date et heure (ISO 8601, heure de Paris).")],
    reason: ReasonOption,
    place: Annotated[str | None, typer.Option("--place", help="Nouveau lieu (par défaut : le même).")] = None,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Déplace une session : les invités reçoivent la mise à jour de leur agenda."""
    from models import training

    with programme_ctx(programme) as ctx:
        training_session = pilot_session(ctx, pilot, session_key)
        changed = training.reschedule(ctx, training_session, to=instant(to, "--to"), place=place, reason=reason,
                                      by=cli_actor(by),
                                      at=instant(at))
        text = f"« {training_session.title} » : {paris_text(training_session.starts_at)}, {training_session.location}"
    word = "déplacée" if changed else "déjà à cette date et à ce lieu"
    out.print(f"Session {word} — {escape(text)}.", highlight=False)


@command(session_app, "cancel")
def cancel(
    pilot: PilotArgument,
    session_key: KeyArgument,
    reason: ReasonOption,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Annule une session : les invités reçoivent l'annulation de leur agenda."""
    from models import training

    with programme_ctx(programme) as ctx:
        training_session = pilot_session(ctx, pilot, session_key)
        changed = training.cancel(ctx, training_session, reason=reason, at=instant(at), by=cli_actor(by))
        title = training_session.title
    out.print(f"Session « {escape(title)} » {'annulée' if changed else 'déjà annulée'}.", highlight=False)


@command(charter_app, "extend")
def extend(
    pilot: PilotArgument,
    to: Annotated[str, typer.Option("--to", help="Nouvelle date limite de signature (une date seule : 18h00).")],
    reason: ReasonOption,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Prolonge le délai de signature de la charte d'un pilote."""
    from models import charter, pilots

    with programme_ctx(programme) as ctx:
        found = pilots.find_pilot(ctx, pilot)
        changed = charter.extend_charter(ctx, found, to=due_instant(to, "--to"), reason=reason, at=instant(at),
                                         by=cli_actor(by))
        text = f"{found.name} : charte à signer avant le {paris_text(charter.sign_by(ctx, found))}"
    _said(text, changed, " (inchangé)")


@command(pilot_app, "withdraw")
def withdraw(
    pilot: PilotArgument,
    reason: ReasonOption,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Retire un pilote du programme ; sa place va à la candidature suivante du classement."""
    from models import pilots, withdrawal

    with programme_ctx(programme) as ctx:
        found = pilots.find_pilot(ctx, pilot)
        successor = withdrawal.withdraw(ctx, found, reason=reason, at=instant(at), by=cli_actor(by))
        name = found.name
        taken = successor.name if successor else None
    out.print(f"{escape(name)} : retrait du programme enregistré.", highlight=False)
    out.print(f"Place proposée à {escape(taken)} (charte à signer)." if taken
              else "Aucune candidature suivante au-dessus du seuil : la place reste vacante.", highlight=False)


@command(deliverable_app, "hand-in")
def hand_in(pilot: PilotArgument, key: KeyArgument, at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Enregistre la remise d'un livrable par le prestataire."""
    from models import deliverables
    from models.read.deliverables import state_of

    when = instant(at)
    with programme_ctx(programme) as ctx:
        deliverable = pilot_deliverable(ctx, pilot, key)
        changed = deliverables.deliver(ctx, deliverable, at=when, by="prestataire")
        state, title = state_of(deliverable, when), deliverable.title
    word = "Remise enregistrée" if changed else "Remise déjà enregistrée"
    out.print(f"{word} : « {escape(title)} » ({state}).", highlight=False)


@command(deliverable_app, "accept")
def accept(pilot: PilotArgument, key: KeyArgument, at: AtOption = None, by: ByOption = None,
           programme: ProgrammeOption = None) -> None:
    """Le Cerdd accepte un livrable remis."""
    from models import deliverables

    with programme_ctx(programme) as ctx:
        deliverable = pilot_deliverable(ctx, pilot, key)
        changed = deliverables.accept(ctx, deliverable, at=instant(at), by=cli_actor(by))
        title = deliverable.title
    _said(f"« {title} » {'accepté' if changed else 'déjà accepté'}", True, "")


@command(deliverable_app, "return")
def return_(
    pilot: PilotArgument,
    key: KeyArgument,
    comment: Annotated[str, typer.Option("--comment", help="Ce qu'il faut reprendre.")],
    due: Annotated[str | None, typer.Option(
        "--due", help="Nouvelle échéance (défaut : 10 jours ouvrés ; date seule : 18h00).")] = None,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Le Cerdd renvoie un livrable pour reprise, avec un commentaire."""
    from models import deliverables

    with programme_ctx(programme) as ctx:
        deliverable = pilot_deliverable(ctx, pilot, key)
        deliverables.return_for_rework(ctx, deliverable, comment=comment, at=instant(at), by=cli_actor(by),
                                       due=due_instant(due, "--due") if due else None)
        text = f"« {deliverable.title} » à reprendre avant le {paris_text(deliverable.due_at)}"
    _said(text, True, "")


@command(deliverable_app, "postpone")
def postpone(
    pilot: PilotArgument,
    key: KeyArgument,
    to: Annotated[str, typer.Option("--to", help="Nouvelle échéance (une date seule : 18h00).")],
    reason: ReasonOption,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Reporte l'échéance d'un livrable (motif obligatoire)."""
    from models import deliverables

    with programme_ctx(programme) as ctx:
        deliverable = pilot_deliverable(ctx, pilot, key)
        changed = deliverables.postpone(ctx, deliverable, to=due_instant(to, "--to"), reason=reason, at=instant(at),
                                        by=cli_actor(by))
        text = f"« {deliverable.title} » : échéance le {paris_text(deliverable.due_at)}"
    _said(text, changed, " (inchangée)")
