"""`transitions serve`: the service of one database. It holds the database's service lease
(`models.lease`: a second `serve` refuses, naming the first), runs (or joins) a Prefect server,
starts the portal (`transitions portal --workers N`) and the deployments (`transitions.serve_flows`)
as processes of their own, tells the command line on this machine where Prefect listens, and on
SIGINT or SIGTERM stops them all (`transitions.processes`) and gives the lease back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console

from config.prefect_env import configure_prefect, server_file
from config.settings import get_settings
from models.errors import Refused, Unavailable
from transitions.processes import Children, StopSignal, become_subreaper

CLI = [sys.executable, "-c", "from transitions.cli import main; main()"]
GRACE = 8.0
"""Seconds each wave of children has to stop after SIGTERM before it is killed."""
FLOWS, PORTAL, SERVER = "le service des déploiements", "le portail", "le serveur Prefect"


def wait_for(api_url: str, seconds: float, stopped: Callable[[], bool] = lambda: False) -> bool:
    """Whether the server at `api_url` answers its health check within `seconds` (False at once
    when `stopped()` turns true)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stopped():
        try:
            if httpx.get(f"{api_url}/health", timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def api_url_of(host: str, port: int) -> str:
    """The API URL of a server listening on `host:port` (an IPv6 address in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/api"


def server_command(host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command and environment of a Prefect server on `host:port`, its database in Prefect's
    home. Its UI calls the API where this server listens (Prefect's default is 127.0.0.1:4200
    whatever `--port`), unless PREFECT_UI_API_URL names another address (a proxy's)."""
    env = {**os.environ}
    env.pop("PREFECT_API_URL", None)
    env.setdefault("PREFECT_UI_API_URL", api_url_of(host, port))
    return [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)], env


def start_server(host: str, port: int, log: Path, children: Children | None = None) -> subprocess.Popen[bytes]:
    """A Prefect server process on `host:port` (see `server_command`), its output appended to `log`,
    in a session of its own."""
    args, env = server_command(host, port)
    return (children or Children()).start(SERVER, args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


class LeaseKeeper(threading.Thread):
    """Renews this service's lease every quarter of its lifetime until `stop`; sets `lost` (and
    asks the service to stop) when another service has taken it over."""

    def __init__(self, url: str, holder: object, stop: StopSignal) -> None:
        super().__init__(name="bail-du-service", daemon=True)
        self.url, self.holder, self.stop_signal, self.lost = url, holder, stop, False

    def run(self) -> None:
        from models.db import session_scope
        from models.lease import TTL, renew

        while not self.stop_signal.wait(TTL.total_seconds() / 4):
            try:
                with session_scope(self.url) as session:
                    kept = renew(session, self.holder, at=datetime.now(UTC))  # type: ignore[arg-type]
            except Exception:  # the database unreachable for now: the lease lasts TTL, try again
                continue
            if not kept:
                self.lost = True
                self.stop_signal.event.set()
                return


def serve(host: str, port: int, console: Console, *, url: str, portal_workers: int = 1,
          start_tick: bool = True) -> None:
    """Hold the lease of `url` and run the service until SIGINT or SIGTERM; then stop every child
    process and give the lease back. Refused when another service holds the lease; Unavailable when
    the Prefect server does not start in time or a child process ends by itself."""
    from models.db import session_scope
    from models.lease import Holder, acquire, release

    settings = get_settings()
    holder = Holder.this_process()
    with session_scope(url) as session:
        taken = acquire(session, holder, at=datetime.now(UTC))
    if taken.took_over:
        console.print(taken.took_over, highlight=False)
    stop = StopSignal()
    become_subreaper()
    children = Children()
    keeper = LeaseKeeper(url, holder, stop)
    keeper.start()
    marker = server_file(settings)
    try:
        _start(host, port, console, children, stop, portal_workers=portal_workers, start_tick=start_tick)
        _watch(children, stop, keeper)
    finally:
        begun = time.monotonic()
        children.stop([[FLOWS, PORTAL], [SERVER]], GRACE)
        marker.unlink(missing_ok=True)
        stop.event.set()
        if not keeper.lost:
            with session_scope(url) as session:
                release(session, holder)
        if stop.name:
            console.print(f"Service arrêté ({stop.name}) : processus enfants arrêtés en "
                          f"{time.monotonic() - begun:.1f} s, bail rendu.", highlight=False)


def _start(host: str, port: int, console: Console, children: Children, stop: StopSignal, *,
           portal_workers: int, start_tick: bool) -> None:
    settings = get_settings()
    configure_prefect(settings)
    api_url = os.environ.get("PREFECT_API_URL")
    if not api_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        log = settings.data_dir / "serveur-prefect.log"
        start_server(host, port, log, children)
        api_url = api_url_of(host, port)
        timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))
        if not wait_for(api_url, timeout, lambda: stop.requested or children.exited() is not None):
            if stop.requested:
                return
            raise Unavailable(f"Le serveur Prefect n'a pas démarré en {timeout:.0f} s (journal : {log}) ; sur une "
                              "machine chargée, augmentez PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.")
        os.environ["PREFECT_API_URL"] = api_url
    server_file(settings).write_text(json.dumps({"api_url": api_url, "pid": os.getpid(),
                                                 "ui": api_url.removesuffix("/api")}), encoding="utf-8")
    console.print(f"Transitions en service : interface Prefect sur {api_url.removesuffix('/api')} "
                  f"(les commandes de cette machine s'y rattachent). Ctrl-C pour arrêter.", highlight=False)
    if settings.portal_secret is None:
        console.print("Portail non lancé : PORTAL_SECRET n'est pas défini.", highlight=False)
    else:
        children.start(PORTAL, [*CLI, "portal", "--host", host, "--port", str(settings.portal_port),
                                "--workers", str(portal_workers)])
    children.start(FLOWS, [sys.executable, "-m", "transitions.serve_flows", *([] if start_tick else ["--sans-tick"])])


def _watch(children: Children, stop: StopSignal, keeper: LeaseKeeper) -> None:
    """Wait for a stop request; a child ending by itself, or the lease lost, stops the service."""
    while not stop.wait(0.5):
        ended = children.exited()
        if ended is not None:
            name, code = ended
            raise Unavailable(f"Le service s'arrête : {name} s'est arrêté de lui-même (code {code}) ; "
                              f"voir son journal ({get_settings().data_dir}).")
    if keeper.lost:
        raise Refused("Le service s'arrête : un autre « transitions serve » a repris le bail de cette base de "
                      "données pendant que celle-ci ne répondait plus.")
