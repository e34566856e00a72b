"""The application's settings, read once from the environment (prefix-free names, `.env` allowed)."""

from __future__ import annotations

import fnmatch
import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent


class Channel(StrEnum):
    FILE = "file"
    SMTP = "smtp"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Everything configurable about a Transitions installation."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'transitions.db'}",
        description="SQLAlchemy URL of the app database (SQLite file by default).",
    )
    programmes_dir: Path = PROJECT_ROOT / "programmes"
    default_programme: str = "cerdd-2015"

    notice_channel: Channel = Field(default=Channel.FILE, description="Channel for recipients no route matches.")
    notice_routes: dict[str, Channel] = Field(
        default_factory=dict,
        description='Recipient address patterns (fnmatch, in order) to channels, e.g. {"*@cerdd.org": "smtp"}.',
    )
    outbox_dir: Path = PROJECT_ROOT / "var" / "outbox"
    notice_sender: str = "Cerdd - Transitions <transitions@cerdd.org>"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout: float = 10.0
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle to trust (a private relay's CA).")

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_timeout: float = 10.0

    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_batch_size: int = Field(default=200, ge=1)

    prefect_home: Path = PROJECT_ROOT / "var" / "prefect"
    prefect_logging_level: str = "WARNING"

    def channel_for(self, email: str) -> Channel:
        """The channel that carries notices to this address: first matching route, else the default."""
        address = email.lower()
        for pattern, channel in self.notice_routes.items():
            if fnmatch.fnmatchcase(address, pattern.lower()):
                return channel
        return self.notice_channel

    @field_validator("smtp_password", "webhook_secret")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in {"changethis", "changeme"}:
            raise ValueError("ce secret est une valeur d'exemple : définissez-en un vrai")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (after the environment changed, in tests and the demo)."""
    get_settings.cache_clear()


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
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
