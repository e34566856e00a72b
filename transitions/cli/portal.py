"""Commands for the portal and what people do on it: personal links (`link`), running the portal
(`portal`), and the CLI's door to the same acts (invitation answers, due-date requests and the
Cerdd's decision, conflicts of interest, submitted score sheets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from models.errors import InvalidInput
from transitions.cli.accompaniment import KeyArgument, ReasonOption, deliverable_app, pilot_deliverable, session_app
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
from transitions.cli.jury import jury_app
from transitions.cli.pilots import PilotArgument
from transitions.cli.service import WorkersOption, check_host

if TYPE_CHECKING:
    from models.context import ProgrammeContext
    from models.links import Bearer


def portal_secret() -> str:
    """PORTAL_SECRET, or a French refusal (exit 2) saying how to set one."""
    from config.settings import get_settings

    settings = get_settings()  # invalid settings are explained by the command's guard
    try:
        return settings.require_portal_secret()
    except ValueError as exc:
        raise InvalidInput(f"{exc}.") from None


def _holder(ctx: ProgrammeContext, bearer: Bearer) -> str:
    """Who a link is for, in French: « le territoire CU d'Arras (SIREN 200033579) », « le prestataire
    (tous les pilotes) », « le juré Anne Martin (anne.martin@…) »."""
    from models import links, pilots
    from models.tables import CharterParty

    if bearer.role == links.JUROR:
        names = [m.juror for m in ctx.definition.jury.members if m.email.lower() == bearer.email]
        return f"le juré {names[0]} ({bearer.email})" if names else f"le juré {bearer.email}"
    if bearer.every_pilot:
        return "le prestataire (tous les pilotes)"
    assert bearer.siren is not None
    name = pilots.find_pilot(ctx, bearer.siren).name
    label = links.ROLE_LABELS.get(bearer.role, bearer.role)
    if bearer.role == CharterParty.TERRITORY:
        return f"{label} {name} (SIREN {bearer.siren})"
    return f"{label}, pilote {name} (SIREN {bearer.siren})"


@command(app)
def link(
    pilot: Annotated[str | None, typer.Option("--pilot", help="SIREN du territoire pilote.")] = None,
    party: Annotated[str | None, typer.Option("--party", help="territoire, cerdd ou prestataire.")] = None,
    juror: Annotated[str | None, typer.Option("--juror", help="Adresse électronique d'un membre du jury.")] = None,
    consultancy: Annotated[bool, typer.Option("--consultancy", help="Le prestataire, pour tous les pilotes.")] = False,
    person: Annotated[str | None, typer.Option("--person", help="Adresse d'un contact de la partie : son lien "
                                               "à lui (sans : le lien de la partie).")] = None,
    send: Annotated[bool, typer.Option("--send", help="L'envoyer par courriel à la personne (--person) au lieu "
                                       "de l'afficher.")] = False,
    revoke: Annotated[bool, typer.Option("--revoke", help="Révoquer les liens de la personne (--person), sans en "
                                         "émettre d'autre.")] = False,
    by: ByOption = None,
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Émet un nouveau lien personnel vers le portail (les liens précédents de la même personne cessent de
    fonctionner, ceux des autres contacts non) et l'affiche, pour le renvoyer à la main ; avec --send, l'envoie
    par courriel à la personne ; avec --revoke, révoque ses liens."""
    from datetime import UTC, datetime, timedelta

    from config.settings import get_settings
    from models import links
    from models.clock import format_paris

    chosen = [name for name, given in (("--pilot", pilot is not None), ("--juror", juror is not None),
                                       ("--consultancy", consultancy)) if given]
    if len(chosen) != 1:
        raise InvalidInput("Indiquez soit --pilot SIREN --party territoire|cerdd|prestataire, soit --juror ADRESSE, "
                           "soit --consultancy.")
    if pilot is not None and party is None:
        raise InvalidInput("--pilot demande --party territoire, cerdd ou prestataire.")
    if pilot is None and party is not None:
        raise InvalidInput("--party ne s'utilise qu'avec --pilot.")
    if juror is not None and person is not None:
        raise InvalidInput("--person ne s'utilise qu'avec --pilot ou --consultancy (un juré a son propre lien).")
    if send or revoke:
        _person_act(pilot, party, person, send=send, revoke=revoke, by=by, at=at, programme=programme)
        return
    secret = portal_secret()
    settings = get_settings()
    when = instant(at)
    # A link is a credential checked in real time: valid from now even when the act is recorded at
    # an instant of a replayed programme (--at 2015-…), so it is never printed already expired.
    real = datetime.now(UTC)
    valid_from = max(when, real)
    with programme_ctx(programme) as ctx:
        if pilot is not None and party is not None:
            bearer = links.pilot_bearer(ctx, pilot, party, person)
        elif juror is not None:
            bearer = links.juror_bearer(ctx, juror)
        else:
            bearer = (links.consultancy_bearer() if person is None else links.consultant_bearer(ctx, person))
        token = links.issue_link(ctx, bearer, secret=secret, at=when, days=settings.portal_link_days,
                                 valid_from=valid_from)
        holder = _holder(ctx, bearer)
        withdrawn = _withdrawal_note(ctx, pilot) if pilot is not None else None
    from transitions.portal.urls import page_url

    until = format_paris(valid_from + timedelta(days=settings.portal_link_days))
    whose = f" ({bearer.person})" if bearer.person and bearer.role != links.JUROR else ""
    out.print(f"Lien personnel pour {escape(holder)}{escape(whose)}, valable jusqu'au {until} "
              f"({settings.portal_link_days} jours à partir de maintenant ; ses liens précédents ne fonctionnent "
              "plus) :", highlight=False)
    if when < real - timedelta(minutes=1):
        out.print(f"Émission enregistrée au {format_paris(when)} (l'instant du programme, --at) ; le lien, "
                  "lui, compte sa validité à partir de l'heure réelle.", highlight=False)
    if withdrawn:
        out.print(withdrawn, highlight=False)
    out.print(page_url(settings.portal_base_url, bearer, token), highlight=False, soft_wrap=True)  # last: scripts


def _person_act(pilot: str | None, party: str | None, person: str | None, *, send: bool, revoke: bool,
                by: str | None, at: str | None, programme: str | None) -> None:
    """`link --send` or `--revoke`: one person's link mailed (a new one) or revoked (`models.links.send_link`,
    `revoke_link`, as the back office's « Renvoyer » and « Révoquer »)."""
    from models import links

    if send and revoke:
        raise InvalidInput("Choisissez --send ou --revoke, pas les deux.")
    if person is None:
        raise InvalidInput("--send et --revoke demandent --person ADRESSE : le lien d'une personne.")
    with programme_ctx(programme) as ctx:
        bearer = (links.pilot_bearer(ctx, pilot, party or "", person) if pilot is not None
                  else links.consultant_bearer(ctx, person))
        if send:
            to = links.send_link(ctx, bearer, at=instant(at), by=cli_actor(by))
            text = f"Lien personnel envoyé par courriel à {to.name} ({to.email}) ; ses liens précédents sont révoqués."
        else:
            done = links.revoke_link(ctx, bearer, at=instant(at), by=cli_actor(by))
            text = (f"Liens de {bearer.person} révoqués ; ceux de ses collègues fonctionnent toujours." if done
                    else f"{bearer.person} n'avait aucun lien : rien à révoquer.")
    out.print(escape(text), highlight=False)


def _withdrawal_note(ctx: ProgrammeContext, reference: str) -> str | None:
    """A warning when the pilot has withdrawn: its page says so and offers no action any more."""
    from models.clock import format_paris
    from models.pilots import find_pilot, withdrawal_of

    pilot = find_pilot(ctx, reference)
    withdrawal = withdrawal_of(ctx, pilot)
    if withdrawal is None:
        return None
    return (f"Attention : {pilot.name} {withdrawal.verb} le {format_paris(withdrawal.at)} ; "
            "sa page l'indique et n'offre plus aucune action.")


@command(app)
def portal(
    host: Annotated[str, typer.Option("--host", help="Adresse d'écoute du portail.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port du portail.")] = 8000,
    workers: WorkersOption = 1,
) -> None:
    """Lance le portail web (pages personnelles des territoires, du prestataire, des jurés et du Cerdd), dans un
    processus ou plusieurs sur le même port (--workers)."""
    from transitions.cli.common import database
    from transitions.portal.server import run, workers_warning

    check_host(host)
    portal_secret()
    warning = workers_warning(database(), workers)
    if warning:
        out.print(f"[yellow]{escape(warning)}[/]", highlight=False)
    several = f", {workers} processus" if workers > 1 else ""
    out.print(f"Portail en service sur http://{host}:{port}{several} (Ctrl-C pour arrêter).", highlight=False)
    run(host, port, workers)



@command(session_app, "answer")
def answer(
    pilot: PilotArgument,
    session_key: KeyArgument,
    attending: Annotated[bool, typer.Option("--present/--absent", help="Le territoire viendra, ou non.")],
    people: Annotated[str, typer.Option("--people", help="Qui viendra (noms séparés par des virgules).")] = "",
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre la réponse du territoire à l'invitation à une session."""
    from models import pilots, training

    with programme_ctx(programme) as ctx:
        found = pilots.find_pilot(ctx, pilot)
        training_session = training.find_session(ctx, found, session_key)
        changed = training.answer_invitation(ctx, found, training_session, attending=attending,
                                                  people="\n".join(p.strip() for p in people.split(",")),
                                                  at=instant(at))
        title = training_session.title
    word = "enregistrée" if changed else "déjà enregistrée"
    out.print(f"Réponse {word} pour « {escape(title)} » : {'présent' if attending else 'absent'}.", highlight=False)


@command(deliverable_app, "ask")
def ask(
    pilot: PilotArgument,
    key: KeyArgument,
    to: Annotated[str, typer.Option("--to", help="Échéance demandée (une date seule : 18h00).")],
    reason: ReasonOption,
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Le prestataire demande une nouvelle échéance (motif obligatoire) ; le Cerdd décidera."""
    from models import deliverables

    with programme_ctx(programme) as ctx:
        deliverable = pilot_deliverable(ctx, pilot, key)
        request = deliverables.request_due_date(ctx, deliverable, to=due_instant(to, "--to"), reason=reason,
                                                at=instant(at))
        number, title = request.id, deliverable.title
    out.print(f"Demande n° {number} enregistrée pour « {escape(title)} » : le Cerdd décidera "
              f"(transitions deliverable grant {number} ou refuse {number}).", highlight=False)


@command(deliverable_app, "requests")
def requests(programme: ProgrammeOption = None) -> None:
    """Les demandes de nouvelle échéance et leur état."""
    from models import deliverables
    from models.tables import Deliverable, Pilot, label

    with programme_ctx(programme) as ctx:
        rows = []
        for request in deliverables.due_date_requests(ctx):
            deliverable = ctx.session.get(Deliverable, request.deliverable_id)
            pilot = ctx.session.get(Pilot, deliverable.pilot_id) if deliverable else None
            rows.append(f"n° {request.id} · {pilot.name if pilot else '?'} · "
                        f"{deliverable.key if deliverable else '?'} · "
                        f"au {paris_text(request.requested_due)} · {label(request.status)} · {request.reason}")
    if not rows:
        out.print("Aucune demande de nouvelle échéance.")
    for row in rows:
        out.print(escape(row), highlight=False)


def _decide(number: int, grant: bool, at: str | None, programme: str | None) -> None:
    from models import deliverables

    with programme_ctx(programme) as ctx:
        changed = deliverables.decide_due_date(ctx, number, grant=grant, at=instant(at))
    verdict = "accordée" if grant else "refusée"
    out.print(f"Demande n° {number} {verdict}." if changed else f"La demande n° {number} était déjà décidée.")


NumberArgument = Annotated[int, typer.Argument(min=1, max=1_000_000, help="Numéro de la demande.")]


@command(deliverable_app, "grant")
def grant(number: NumberArgument, at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Le Cerdd accorde une demande de nouvelle échéance : l'échéance change, avec le motif de la demande."""
    _decide(number, True, at, programme)


@command(deliverable_app, "refuse")
def refuse(number: NumberArgument, at: AtOption = None, programme: ProgrammeOption = None) -> None:
    """Le Cerdd refuse une demande de nouvelle échéance."""
    _decide(number, False, at, programme)


@command(jury_app, "conflict")
def conflict(
    juror: Annotated[str, typer.Option("--juror", help="Nom du juré (tel que dans le programme).")],
    application: Annotated[str, typer.Argument(help="Candidature : récépissé ou SIREN.")],
    reason: Annotated[str, typer.Option("--reason", help="Motif du conflit d'intérêts.")] = "",
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre un conflit d'intérêts déclaré par un juré : ses notes sur la candidature ne comptent pas."""
    from models import jury

    with programme_ctx(programme) as ctx:
        found = jury.find_application(ctx, application)
        changed = jury.declare_conflict(ctx, found, juror=juror, reason=reason, at=instant(at))
        number = found.receipt_number
    out.print(f"Conflit d'intérêts {'enregistré' if changed else 'déjà enregistré'} : {escape(juror)} sur {number}.",
              highlight=False)
