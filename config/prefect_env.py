"""Prefect's environment, set before `import prefect`: quiet, offline, an isolated home.

A leaf beside the settings: imports nothing of the project but them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from config.settings import PACKAGE_DIR, Settings, get_settings, reset_settings

STARTUP_TIMEOUT = "180"
"""Seconds Prefect's temporary server may take to start: a loaded 2-core machine misses the
default 20 s (PREFECT-NOTES); `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` overrides it."""


def server_file(settings: Settings | None = None) -> Path:
    """Where `transitions serve` writes the address of the Prefect server it runs or joined."""
    return (settings or get_settings()).data_dir / "serveur-prefect.json"


def running_server(settings: Settings | None = None) -> str | None:
    """The API URL of a server `transitions serve` announced on this machine, if it answers."""
    path = server_file(settings)
    try:
        api_url = str(json.loads(path.read_text(encoding="utf-8"))["api_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    import httpx

    try:
        answered = httpx.get(f"{api_url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        answered = False
    return api_url if answered else None


def configure_prefect(settings: Settings | None = None) -> None:
    """Set Prefect's environment before `import prefect`: quiet, offline, isolated home.

    Values already present in the environment win, so an operator can point the CLI at a real
    Prefect server with PREFECT_API_URL; without it, a server announced by `transitions serve`
    on this machine is joined, and only then does Prefect start a temporary one.
    """
    settings = settings or get_settings()
    if not os.environ.get("PREFECT_API_URL"):
        joined = running_server(settings)
        if joined:
            os.environ["PREFECT_API_URL"] = joined
    defaults = {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
        "PREFECT_LOGGING_LEVEL": settings.prefect_logging_level,
        "PREFECT_LOGGING_CONFIG_PATH": str(PACKAGE_DIR / "logging.yml"),
        "PREFECT_HOME": str(settings.prefect_home),
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "500",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": STARTUP_TIMEOUT,
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def use_demo_folder(out: Path) -> None:
    """Point the database, the outbox, the data and Prefect's home into the folder `out` (a demo's
    folder), then configure Prefect: what `transitions demo` does before it runs, and what the
    bench's Prefect floor does before its empty flow, so that the two cannot drift apart. Prefect's
    home is `out/.prefect`, kept from one demo to the next (a new home costs ~1.7x the CPU of the
    temporary server's start), unless PREFECT_API_URL names a server."""
    os.environ["DATABASE_URL"] = f"sqlite:///{(out / 'transitions.db').resolve()}"
    os.environ["OUTBOX_DIR"] = str((out / "outbox").resolve())
    os.environ["NOTICE_CHANNEL"] = "file"
    os.environ["DATA_DIR"] = str(out.resolve())
    if not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_HOME"] = str((out / ".prefect").resolve())
    reset_settings()
    configure_prefect()
