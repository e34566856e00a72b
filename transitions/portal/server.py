"""Serving the portal with uvicorn: no access log (a personal link's token is in the path), errors
to the data directory's error log, never a traceback on a page."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

TOKEN_IN_PATH = re.compile(r"/l/[^/\s\"?]+")


class RedactTokens(logging.Filter):
    """Hides the token of any /l/<token>/… path a log line would carry."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = TOKEN_IN_PATH.sub("/l/***", str(record.msg))
        if record.args:
            record.args = tuple(TOKEN_IN_PATH.sub("/l/***", a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple) else (record.args,)))
        return True


class RedactingFormatter(logging.Formatter):
    """Masks tokens in the whole formatted record, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return TOKEN_IN_PATH.sub("/l/***", super().format(record))


def log_config(error_log: str | None) -> dict[str, Any]:
    """uvicorn's logging: its errors (tokens redacted) to stderr and, if given, the error log; the
    access log off."""
    handlers: dict[str, Any] = {"console": {"class": "logging.StreamHandler", "filters": ["redact"],
                                            "formatter": "plain", "stream": "ext://sys.stderr"}}
    if error_log:
        handlers["file"] = {"class": "logging.FileHandler", "filename": error_log, "encoding": "utf-8",
                            "filters": ["redact"], "formatter": "plain", "delay": True}
    names = list(handlers)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactTokens}},
        "formatters": {"plain": {"()": RedactingFormatter,
                                 "format": "%(asctime)s %(levelname)s %(name)s : %(message)s"}},
        "handlers": handlers,
        "loggers": {
            "uvicorn": {"handlers": names[:1], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": names, "level": "WARNING", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "transitions.portail": {"handlers": names, "level": "WARNING", "propagate": False},
        },
    }


def build_server(host: str, port: int, *, app: Any = None) -> Any:
    """A uvicorn server for the portal (the settings' database and secret unless `app` is given)."""
    import uvicorn

    from config.private_files import private_umask
    from config.settings import get_settings

    private_umask()  # its error log, uploads and database files for their owner only
    settings = get_settings()
    if app is None:
        from transitions.portal.app import create_app

        app = create_app(settings.database_url, settings.require_portal_secret(), publish_events=True,
                         deliver_at_once=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_config=log_config(str(settings.error_log)),
                            proxy_headers=True, server_header=False, date_header=True)
    return uvicorn.Server(config)


def run(host: str, port: int) -> None:
    """Serve the portal until interrupted."""
    build_server(host, port).run()


def start_beside(host: str, console: Any) -> threading.Thread | None:
    """`transitions serve`: the portal on `host`:PORTAL_PORT in a thread, if PORTAL_SECRET is set."""
    from config.settings import get_settings

    settings = get_settings()
    if settings.portal_secret is None:
        console.print("Portail non lancé : PORTAL_SECRET n'est pas défini.", highlight=False)
        return None
    console.print(f"Portail sur http://{host}:{settings.portal_port} (liens personnels : transitions link).",
                  highlight=False)
    return start_in_thread(host, settings.portal_port)


def start_in_thread(host: str, port: int) -> threading.Thread:
    """Serve the portal in a background thread (beside `transitions serve`'s deployments)."""
    server = build_server(host, port)
    server.install_signal_handlers = lambda: None  # the main thread keeps them
    thread = threading.Thread(target=server.run, name="portail", daemon=True)
    thread.start()
    return thread
