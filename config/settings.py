"""The application's settings, read once from the environment (prefix-free names, `.env` allowed).

A leaf: imports nothing of the project, so every layer may be handed a `Settings`.
"""

from __future__ import annotations

import ssl
from datetime import timedelta
from email.utils import parseaddr
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent
"""The checkout, when running from one (an editable install); irrelevant in a wheel."""


def packaged_defaults() -> Path:
    """Where the embedded defaults (programmes/, data/, demo/, examples/) are: copied into the
    package when a wheel is built, or the checkout itself in development."""
    packaged = PACKAGE_DIR / "defaults"
    return packaged if (packaged / "programmes").is_dir() else SOURCE_ROOT


QUEUE_FACTOR = 5
"""PORTAL_QUEUE's default, times PORTAL_CONCURRENCY (`Settings.queue_length`)."""


class ImapSecurity(StrEnum):
    """How the mailbox's IMAP connection is protected: TLS from the start (port 993), STARTTLS on a
    plain connection (port 143), or nothing at all (only to a server on this machine: tests)."""

    TLS = "tls"
    STARTTLS = "starttls"
    PLAIN = "aucune"


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


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
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout: float = Field(default=10.0, gt=0, le=600, allow_inf_nan=False)
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle to trust (a private relay's CA).")

    webhook_url: str | None = Field(default=None, validate_default=True,
                                    description="Where the webhook channel POSTs (http or https).")
    webhook_secret: SecretStr | None = None
    webhook_timeout: float = Field(default=10.0, gt=0, le=600, allow_inf_nan=False)

    audit_anchor_url: str | None = Field(default=None, description="Where the daily anchors of the audit log "
                                         "are POSTed, off this machine (http or https; none: files only).")
    audit_anchor_secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key signing each "
                                                  "anchor POSTed (header X-Transitions-Signature).")

    delivery_max_age: timedelta = Field(default=timedelta(days=5), description="How long a notice failing "
                                        "temporarily is retried before it is given up (ISO 8601: P5D, PT12H).")
    delivery_batch_size: int = Field(default=200, ge=1)
    delivery_max_attempts: str | None = Field(default=None, exclude=True, description=(
        "Removed (a count of attempts gave up after minutes during an outage): refused with a message "
        "naming DELIVERY_MAX_AGE, rather than silently ignored."))

    portal_secret: SecretStr | None = Field(default=None, description="Signs the portal's personal links and "
                                            "forms (at least 32 characters; without it there is no portal).")
    portal_base_url: str = Field(default="http://127.0.0.1:8000", description="The portal's public address, "
                                 "as people reach it (https://… behind a reverse proxy).")
    portal_port: int = Field(default=8000, ge=1, le=65535, description="Where `transitions serve` runs the portal.")
    portal_link_days: int = Field(default=120, ge=1, le=800, description="How long a personal link is valid.")
    portal_concurrency: int = Field(default=20, ge=1, le=200, description=(
        "Requests one portal process works on at once (its threads), and the connections of its database pool "
        "(as many, each request holding one only while it reads or acts, plus 2 for a tick beside it)."))
    portal_pool_timeout: float = Field(default=10.0, gt=0, le=120, description=(
        "Seconds a request waits for a database connection before the portal answers 503 (service busy)."))
    portal_queue: int | None = Field(default=None, ge=0, le=10_000, description=(
        "Requests one portal process keeps waiting for a thread beyond PORTAL_CONCURRENCY; one more is answered "
        "503 at once, with Retry-After (by default five times PORTAL_CONCURRENCY)."))
    portal_kept_years: int = Field(default=1024, ge=0, le=100_000, description=(
        "Pilots' years one portal process keeps between the territory's pages, each checked against its "
        "pilot's changes before use (about 55 KiB each; 0: every page reads its year)."))
    legal_host: str = Field(default="à compléter par l'hébergeur : raison sociale, adresse et téléphone",
                            max_length=500, description="The portal's host as its legal notice names it "
                            "(LCEN art. 6-III).")
    legal_publisher_address: str = Field(default="à compléter", max_length=500,
                                         description="The publisher's (the organiser's) postal address, for "
                                         "the legal notice.")

    imap_host: str | None = Field(default=None, description="The call's mailbox server (without it, no IMAP "
                                  "intake: see MAILDIR).")
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: ImapSecurity = Field(default=ImapSecurity.TLS, description="tls (993), starttls (143) or "
                                        "aucune (a server on this machine only).")
    imap_user: str | None = None
    imap_password: SecretStr | None = Field(default=None, description="In a deployment, a Prefect Secret block "
                                            "reference ({{ prefect.blocks.secret.imap-password }}).")
    imap_folder: str = Field(default="INBOX", description="Where new mail arrives.")
    imap_done: str = Field(default="Traitées", description="Where a processed message is moved.")
    imap_review: str = Field(default="À revoir", description="Where a message a person must look at is moved.")
    imap_timeout: float = Field(default=30.0, gt=0, le=600, allow_inf_nan=False)
    mail_max_bytes: int = Field(default=30 * 1024 * 1024, ge=64 * 1024, le=200 * 1024 * 1024,
                                description="The largest message read from the mailbox (bytes, as the server "
                                "announces it and as read); a larger one goes to « À revoir » unread.")
    maildir: Path | None = Field(default=None, description="A Maildir read instead of IMAP (same folders, as "
                                 "Maildir++ sub-folders): the demo, or an installation without a server.")

    prefect_home: Path = Field(default=None, validate_default=False,  # type: ignore[assignment]  # filled by _derived_paths
                               description="Prefect's home (default: data_dir/prefect).")
    prefect_logging_level: str = "WARNING"

    @model_validator(mode="after")
    def _one_tls_mode(self) -> Settings:
        if self.smtp_starttls and self.smtp_tls:
            raise ValueError("SMTP_STARTTLS et SMTP_TLS s'excluent : STARTTLS chiffre une connexion ouverte en "
                             "clair (port 587), SMTP_TLS une connexion chiffrée d'emblée (port 465) ; choisissez "
                             "l'un des deux")
        return self

    @model_validator(mode="after")
    def _imap_complete(self) -> Settings:
        if self.imap_host is None:
            return self
        missing = [name for name, value in (("IMAP_USER", self.imap_user), ("IMAP_PASSWORD", self.imap_password))
                   if value is None]
        if missing:
            raise ValueError(f"IMAP_HOST est défini mais {' et '.join(missing)} manque(nt) : la boîte de l'appel "
                             "ne peut pas être relevée sans identifiant ni mot de passe")
        if self.imap_security == ImapSecurity.PLAIN and self.imap_host not in LOOPBACK:
            raise ValueError(f"IMAP_SECURITY=aucune n'est permis que vers un serveur de cette machine (127.0.0.1) : "
                             f"vers {self.imap_host[:60]}, choisissez tls (port 993) ou starttls (port 143), le mot "
                             "de passe passerait en clair")
        if len({self.imap_folder, self.imap_done, self.imap_review}) < 3:
            raise ValueError("IMAP_FOLDER, IMAP_DONE et IMAP_REVIEW doivent nommer trois dossiers différents")
        return self

    @property
    def mailbox_configured(self) -> bool:
        """Whether the call's mailbox is read (IMAP or a Maildir)."""
        return self.imap_host is not None or self.maildir is not None

    @field_validator("imap_host")
    @classmethod
    def _imap_host(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host = value.strip()
        if any(c in host for c in "/@: \t") and not host.startswith("[") or len(host) > 253:
            raise ValueError("IMAP_HOST doit être un nom d'hôte ou une adresse, sans schéma ni port "
                             "(exemple : imap.cerdd.org ; le port va dans IMAP_PORT)")
        return host

    @field_validator("imap_folder", "imap_done", "imap_review")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        name = value.strip()
        if not name or len(name) > 200 or any(ord(c) < 32 or c in '"\\*%' for c in name):
            raise ValueError("un nom de dossier de messagerie est attendu (texte sur une ligne, sans guillemet, "
                             "barre oblique inverse, * ni %)")
        return name

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

    @field_validator("prefect_logging_level")
    @classmethod
    def _logging_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"niveau de journal inconnu « {value[:40]} » (DEBUG, INFO, WARNING, ERROR ou CRITICAL)")
        return level

    @field_validator("delivery_max_attempts")
    @classmethod
    def _removed_max_attempts(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("ce réglage n'existe plus : un avis en échec temporaire est réessayé pendant "
                             "DELIVERY_MAX_AGE (par défaut P5D, cinq jours), quel que soit le nombre d'essais ; "
                             "retirez DELIVERY_MAX_ATTEMPTS et réglez DELIVERY_MAX_AGE si besoin")
        return value

    @field_validator("notice_sender")
    @classmethod
    def _sender_is_an_address(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address or any(ord(c) < 32 for c in value) or not address.split("@")[0].isascii():
            raise ValueError("l'expéditeur doit être une adresse, éventuellement précédée d'un nom : "
                             "« Cerdd - Transitions <transitions@cerdd.org> »")
        return value

    @field_validator("smtp_ca_file")
    @classmethod
    def _readable_ca_file(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            ssl.create_default_context(cafile=str(value))
        except FileNotFoundError:
            raise ValueError(f"le fichier {value} n'existe pas") from None
        except PermissionError:
            raise ValueError(f"le fichier {value} n'est pas lisible (accès refusé)") from None
        except IsADirectoryError:
            raise ValueError(f"{value} est un dossier, pas un fichier de certificats") from None
        except (ssl.SSLError, OSError, ValueError):
            raise ValueError(f"le fichier {value} ne contient pas de certificat d'autorité (PEM) lisible") from None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            chosen = {info.data.get("notice_channel"), *(info.data.get("notice_routes") or {}).values()}
            if Channel.WEBHOOK in chosen:
                raise ValueError("le canal webhook est choisi (NOTICE_CHANNEL ou NOTICE_ROUTES) mais "
                                 "WEBHOOK_URL n'est pas défini")
            return None
        return _http_url(value, "du webhook", "avis")

    @field_validator("audit_anchor_url")
    @classmethod
    def _audit_anchor_url(cls, value: str | None) -> str | None:
        return _http_url(value, "de dépôt des ancres (AUDIT_ANCHOR_URL)", "ancres") if value and value.strip() else None

    @field_validator("delivery_max_age")
    @classmethod
    def _positive_age(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("la durée doit être positive (exemples : P5D, PT12H)")
        return value

    @field_validator("portal_secret")
    @classmethod
    def _strong_portal_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value().strip()
        lowered = secret.lower()
        if any(word in lowered for word in PLACEHOLDERS) or len(set(secret)) < 8:
            raise ValueError("ce secret est une valeur d'exemple : tirez-en un au hasard "
                             "(python -c \"import secrets; print(secrets.token_urlsafe(48))\")")
        if len(secret) < 32:
            raise ValueError(f"ce secret est trop court ({len(secret)} caractères) : il en faut au moins 32")
        return SecretStr(secret)

    @field_validator("portal_base_url")
    @classmethod
    def _portal_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("l'adresse du portail doit commencer par http:// ou https:// et nommer un hôte "
                             "(exemple : https://transitions.cerdd.org)")
        return value.strip().rstrip("/")

    def queue_length(self, concurrency: int) -> int:
        """Requests kept waiting for a thread beyond `concurrency` (PORTAL_QUEUE, by default five times
        it: 100 for the default 20, under two seconds of waiting at the 60 to 75 territory pages a
        process serves per second on 2 cores (bench/RESULTS-load.md); twice it refused a quarter of the
        requests of 100 people at work on 2 processes, a waiting request holding nothing but its socket)."""
        return self.portal_queue if self.portal_queue is not None else QUEUE_FACTOR * concurrency

    def require_portal_secret(self) -> str:
        """The portal's secret; ValueError with a French message when it is not set."""
        if self.portal_secret is None:
            raise ValueError("PORTAL_SECRET n'est pas défini : le portail et les liens personnels ont besoin "
                             "d'un secret d'au moins 32 caractères tiré au hasard")
        return self.portal_secret.get_secret_value()

    @field_validator("smtp_password", "webhook_secret", "imap_password", "audit_anchor_secret")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in {"changethis", "changeme"}:
            raise ValueError("ce secret est une valeur d'exemple : définissez-en un vrai")
        return value


PLACEHOLDERS = ("changeme", "changethis", "change-me", "change_me", "secret", "placeholder", "example",
                "exemple", "xxxx", "todo", "password", "motdepasse")
"""Words that give a secret away as an example value."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (after the environment changed, in tests and the demo)."""
    get_settings.cache_clear()


def _http_url(value: str, what: str, example: str) -> str:
    """`value` stripped if it is an http(s) URL naming a host; a French ValueError otherwise (the value
    itself is never repeated: it may hold credentials)."""
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise ValueError(f"l'adresse {what} est mal formée (exemple : https://hote.example.org/{example})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"l'adresse {what} doit commencer par http:// ou https:// et nommer un hôte "
                         f"(exemple : https://hote.example.org/{example})")
    return value.strip()
