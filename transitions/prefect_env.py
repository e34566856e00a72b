"""Prefect's environment, set before `import prefect`: quiet, offline, an isolated home.

A leaf beside the settings: imports nothing of the project but them.
"""

from __future__ import annotations

import os
from pathlib import Path

from transitions.settings import PACKAGE_DIR, Settings, get_settings


def configure_prefect(settings: Settings | None = None) -> None:
    """Set Prefect's environment before `import prefect`: quiet, offline, isolated home.

    Values already present in the environment win, so an operator can point the CLI at a real
    Prefect server with PREFECT_API_URL.
    """
    settings = settings or get_settings()
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
        # The temporary server may start slowly on a loaded machine; past this, a French message names it.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
