"""The application's settings, read once from the environment (prefix-free names, `.env` allowed).

A leaf: imports nothing of the project, so every layer may be handed a `Settings`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent
"""The checkout, when running from one (an editable install); irrelevant in a wheel."""


def packaged_defaults() -> Path:
    """Where the embedded defaults (programmes/, data/, demo/, examples/) are: copied into the
    package when a wheel is built, or the checkout itself in development."""
    packaged = PACKAGE_DIR / "defaults"
    return packaged if (packaged / "programmes").is_dir() else SOURCE_ROOT


class Channel(StrEnum):
    FILE = "file"
    SMTP = "smtp"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Everything configurable about a Transitions installation."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where this installation keeps its state: "
                           "the SQLite database, the outbox files, Prefect's home, the error log.")
    defaults_dir: Path = Field(default_factory=packaged_defaults, description="Folder holding the embedded "
                               "defaults: programmes/, data/, demo/, examples/.")
    database_url: str = Field(default="", description="SQLAlchemy URL of the app database "
                              "(default: SQLite file transitions.db in data_dir).")
    programmes_dir: Path = Field(default=None, validate_default=False,  # type: ignore[assignment]  # filled by _derived_paths
                                 description="Programme files (default: defaults_dir/programmes).")
    default_programme: str = "cerdd-2015"

    notice_channel: Channel = Field(default=Channel.FILE, description="Channel for recipients no route matches.")
    notice_routes: dict[str, Channel] = Field(
        default_factory=dict,
        description='Recipient address patterns (fnmatch, in order) to channels, e.g. {"*@cerdd.org": "smtp"}.',
    )
    outbox_dir: Path = Field(default=None, validate_default=False,  # type: ignore[assignment]  # filled by _derived_paths
                             description="The file channel's folder (default: data_dir/outbox).")
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

    prefect_home: Path = Field(default=None, validate_default=False,  # type: ignore[assignment]  # filled by _derived_paths
                               description="Prefect's home (default: data_dir/prefect).")
    prefect_logging_level: str = "WARNING"

    @model_validator(mode="after")
    def _derived_paths(self) -> Settings:
        """Paths left unset follow data_dir and defaults_dir (made absolute once, here)."""
        self.data_dir = self.data_dir.resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'transitions.db'}"
        self.programmes_dir = (self.programmes_dir or self.defaults_dir / "programmes").resolve()
        self.outbox_dir = (self.outbox_dir or self.data_dir / "outbox").resolve()
        self.prefect_home = (self.prefect_home or self.data_dir / "prefect").resolve()
        return self

    @property
    def error_log(self) -> Path:
        """Where unexpected errors are written in full (never the source tree)."""
        return self.data_dir / "erreurs.log"

    @property
    def demo_script(self) -> Path:
        return self.defaults_dir / "demo" / "cerdd-2015.yaml"

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
