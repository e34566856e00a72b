"""Running for real on Prefect: `serve` (server, deployments, agenda) and `rattrapage` (catching a
live programme up after days of downtime, in order, on purpose)."""

from __future__ import annotations

from typing import Annotated

import typer

from config.settings import get_settings
from transitions.cli.common import (
    AtOption,
    ProgrammeOption,
    app,
    changes_text,
    command,
    database,
    instant,
    out,
    paris_text,
)

WorkersOption = Annotated[int, typer.Option("--workers", min=1, max=64, help="Processus du portail sur le même "
                                            "port (plusieurs : de préférence sur PostgreSQL).")]


def check_host(host: str) -> None:
    """An IP address to listen on (or localhost), or a French refusal (exit 2)."""
    import ipaddress

    from models.errors import InvalidInput

    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise InvalidInput(f"--host : « {host[:60]} » n'est pas une adresse IP (ex. 127.0.0.1).") from None


@command(app)
def serve(
    host: Annotated[str, typer.Option("--host", help="Adresse d'écoute du serveur Prefect.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port du serveur Prefect.")] = 4200,
    portal_workers: Annotated[int, typer.Option("--portal-workers", min=1, max=64, help="Processus du portail "
                                                "(sur PORTAL_PORT).")] = 1,
) -> None:
    """Lance (ou rejoint, avec PREFECT_API_URL) un serveur Prefect, le portail et les flux : tick aux instants du
    programme, envoi des avis, décision du jury, réactions aux signatures. Un seul service par base de données ;
    SIGINT ou SIGTERM l'arrêtent, lui et ses processus."""
    from transitions.portal.server import workers_warning
    from transitions.serve import serve as run

    check_host(host)
    url = database()
    if get_settings().portal_secret is not None:
        workers_warning(url, portal_workers)  # refused before anything starts; the portal says the rest
    run(host, port, out, url=url, portal_workers=portal_workers)


@command(app)
def rattrapage(
    until: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Rattrape un programme en direct resté en retard : un tick à chacun de ses instants manqués, dans l'ordre."""
    from models.db import session_scope
    from models.schedule import next_due
    from transitions.runtime import run_tick

    end = instant(until)
    url = database()
    ticks = 0
    with session_scope(url) as session:
        from models.context import load_ctx

        ctx = load_ctx(session, programme)
        current = ctx.programme.last_tick_at or ctx.definition.call.launch
        slug = ctx.programme.slug
    while True:
        with session_scope(url) as session:
            due = next_due(session, current)
        if due is None or due > end:
            break
        result = run_tick(due, slug)
        ticks += 1
        current = due
        out.print(f"  {paris_text(due)} : {changes_text(result.changed, result.delivery.sent)}.", highlight=False)
    run_tick(end, slug)
    out.print(f"Programme « {slug} » rattrapé jusqu'au {paris_text(end)} en {ticks + 1} tick(s).")
