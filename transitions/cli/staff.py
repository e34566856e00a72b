"""Commands for the Cerdd's team accounts on the back office: add (mails an invitation), invite
again, list, disable, change a role. Each act is audited with who ran it (`--by`, by default the
system user)."""

from __future__ import annotations

from typing import Annotated

import typer

from transitions.cli.common import (
    AtOption,
    ByOption,
    ProgrammeOption,
    app,
    cli_actor,
    command,
    escape,
    instant,
    out,
    programme_ctx,
)
from transitions.cli.listing import Column, print_list, short_day

staff_app = typer.Typer(help="Les comptes de l'équipe du Cerdd (espace de l'équipe, /equipe/).", no_args_is_help=True)
app.add_typer(staff_app, name="staff")

EmailArgument = Annotated[str, typer.Argument(help="Adresse électronique du membre de l'équipe.")]
RoleText = "direction, charge_de_mission ou lecture"


def _base_url() -> str:
    from config.settings import get_settings

    return get_settings().portal_base_url


def _secret() -> str:
    """The portal's secret, which an invitation's key is derived under (a French refusal without it)."""
    from transitions.cli.portal import portal_secret

    return portal_secret()


@command(staff_app, "add")
def add(
    email: EmailArgument,
    name: Annotated[str, typer.Option("--name", help="Nom et prénom.")],
    role: Annotated[str, typer.Option("--role", help=f"Rôle : {RoleText}.")],
    by: ByOption = None,
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Crée un compte de l'équipe et envoie par courriel le lien d'invitation (mot de passe, double
    authentification)."""
    from models import staff

    actor, secret = cli_actor(by), _secret()
    with programme_ctx(programme) as ctx:
        member = staff.add_member(ctx, email, name, role, at=instant(at), by=actor, base_url=_base_url(),
                                  secret=secret)
        shown = f"{member.name} ({member.email}), {staff.ROLE_LABELS[staff.read_role(member.role)]}"
    out.print(f"Compte créé pour {escape(shown)} ; l'invitation part par courriel (file d'envoi : "
              "« transitions outbox deliver » l'envoie sans attendre).", highlight=False)


@command(staff_app, "invite")
def invite(email: EmailArgument, by: ByOption = None, at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Renvoie une invitation (mot de passe, double authentification et codes de secours à refaire ; les
    sessions ouvertes sont fermées) : pour un téléphone perdu, ou un compte réactivé."""
    from models import staff

    actor, secret = cli_actor(by), _secret()
    with programme_ctx(programme) as ctx:
        member = staff.find_member(ctx.session, email)
        staff.reinvite(ctx, member, at=instant(at), by=actor, base_url=_base_url(), secret=secret)
        shown = member.email
    out.print(f"Nouvelle invitation envoyée à {escape(shown)} ; ses anciens accès ne fonctionnent plus.",
              highlight=False)


@command(staff_app, "list")
def list_members(programme: ProgrammeOption = None) -> None:
    """Les comptes de l'équipe : adresse, nom, rôle, état."""
    from models import staff

    with programme_ctx(programme) as ctx:
        rows = [{"email": m.email, "name": m.name, "role": staff.ROLE_LABELS[staff.read_role(m.role)],
                 "state": ("désactivé" if not m.active else "actif" if m.enrolled_at else "invitation en attente"),
                 "since": short_day(m.created_at)} for m in staff.members(ctx.session)]
    print_list(out, [Column("Adresse", "email", 12), Column("Nom", "name", 8, drop=2), Column("Rôle", "role", 8),
                     Column("État", "state", 6), Column("Créé le", "since", 10, drop=1)], rows,
               empty="Aucun compte : « transitions staff add ADRESSE --name … --role direction » crée le premier.")


@command(staff_app, "disable")
def disable(email: EmailArgument, by: ByOption = None, at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Désactive un compte : il ne peut plus se connecter, ses sessions ouvertes sont fermées aussitôt."""
    from models import staff

    actor = cli_actor(by)
    with programme_ctx(programme) as ctx:
        closed = staff.disable(ctx, email, at=instant(at), by=actor)
    out.print(f"Compte {escape(email.strip().lower())} désactivé ; {closed} session(s) fermée(s).", highlight=False)


@command(staff_app, "role")
def role(email: EmailArgument, new_role: Annotated[str, typer.Argument(help=f"Nouveau rôle : {RoleText}.")],
         by: ByOption = None, at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Change le rôle d'un membre de l'équipe."""
    from models import staff

    actor = cli_actor(by)
    with programme_ctx(programme) as ctx:
        changed = staff.change_role(ctx, email, new_role, at=instant(at), by=actor)
    word = "changé" if changed else "inchangé"
    out.print(f"Rôle de {escape(email.strip().lower())} {word} : {escape(new_role.strip().lower())}.", highlight=False)
