"""`transitions serve`: one process that runs (or joins) a Prefect server and serves every
deployment, and tells the command line on this machine where it listens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from rich.console import Console

from config.prefect_env import configure_prefect, server_file
from config.settings import get_settings
from models.errors import Unavailable


def wait_for(api_url: str, seconds: float) -> bool:
    """Whether the server at `api_url` answers its health check within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
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


def start_server(host: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """A Prefect server process on `host:port`, its database in Prefect's home (the data directory).
    Its UI calls the API where this server listens (Prefect's default is 127.0.0.1:4200 whatever
    `--port`), unless PREFECT_UI_API_URL names another address (a proxy's)."""
    env = {**os.environ}
    env.pop("PREFECT_API_URL", None)
    env.setdefault("PREFECT_UI_API_URL", api_url_of(host, port))
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
                            env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def first_tick(console: Console) -> None:
    """Once the deployments are registered, run the tick now: it acts for the present instant and
    puts the live programmes' next instants on Prefect's calendar."""
    from prefect.deployments import run_deployment

    for _ in range(120):
        try:
            run_deployment("tick/tick", timeout=0, as_subflow=False, flow_run_name="démarrage du service")
            return
        except Exception:  # not registered yet
            time.sleep(1)
    console.print("[yellow]Le premier tick n'a pas pu être lancé : le tick horaire prendra le relais.[/]")


def serve(host: str, port: int, console: Console, *, start_tick: bool = True) -> None:
    """Run (or join, with PREFECT_API_URL) a Prefect server and serve the deployments until
    interrupted. Raises Unavailable when the server does not start in time."""
    settings = get_settings()
    configure_prefect(settings)
    server: subprocess.Popen[bytes] | None = None
    api_url = os.environ.get("PREFECT_API_URL")
    if not api_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        server = start_server(host, port, settings.data_dir / "serveur-prefect.log")
        api_url = api_url_of(host, port)
        timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))
        if not wait_for(api_url, timeout):
            server.terminate()
            raise Unavailable(f"Le serveur Prefect n'a pas démarré en {timeout:.0f} s (journal : "
                              f"{settings.data_dir / 'serveur-prefect.log'}) ; sur une machine chargée, augmentez "
                              "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.")
        os.environ["PREFECT_API_URL"] = api_url
    marker = server_file(settings)
    marker.write_text(json.dumps({"api_url": api_url, "pid": os.getpid(), "ui": api_url.removesuffix("/api")}),
                      encoding="utf-8")
    console.print(f"Transitions en service : interface Prefect sur {api_url.removesuffix('/api')} "
                  f"(les commandes de cette machine s'y rattachent). Ctrl-C pour arrêter.", highlight=False)
    try:
        from prefect import serve as prefect_serve

        from flows.deployments import deployments

        if start_tick:
            threading.Thread(target=first_tick, args=(console,), daemon=True).start()
        from transitions.portal.server import start_beside

        start_beside(host, console)
        prefect_serve(*deployments(), print_starting_message=False)
    finally:
        marker.unlink(missing_ok=True)
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
